/**
 * One runner per launch, whatever the gateway does. The real window: the gateway submits the
 * Slurm job but answers only after the dispatcher's client gave up, so the dispatcher asks
 * again. gha-slurm-munge then submits a second Slurm job (it is not idempotent), each with its
 * own launch token; the broker grants the launch once, so only one runner ever registers. The
 * project's gateway submits nothing the second time and answers the same job.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { startBroker } from './support/broker.ts';
import { startHarness, type Harness } from './support/harness.ts';

const LABELS = ['self-hosted', 'slurm'];
const CLIENT_TIMEOUT_MS = 300;

async function launchOf(h: Harness, workflowJobId: number) {
  const job = await new WorkflowJobStore(h.env.redis, h.env.prefix).get(workflowJobId);
  return new LaunchStore(h.env.redis, h.env.prefix).get(job!.launchId!);
}

for (const style of ['munge', 'slurm-gateway'] as const) {
  let h: Harness;
  let broker: Awaited<ReturnType<typeof startBroker>>;

  test(`a ${style} gateway that answers after the client's timeout: the retry carries the same launch, one grant, one runner`, async (t) => {
    h = await startHarness({ gatewayStyle: style, gatewayTimeoutMs: CLIENT_TIMEOUT_MS, attempts: 3 });
    t.after(async () => {
      await broker?.close();
      await h.stop();
    });
    await h.connect('dora', 'window/repo');
    broker = await startBroker(h, ['window/repo']);
    await h.startDispatcher();

    // The first start is submitted, and answered only long after the client stopped waiting.
    h.gateway.script = [{ kind: 'late', afterMs: CLIENT_TIMEOUT_MS * 4 }];
    await h.deliver({ action: 'queued', jobId: 7001, repository: 'window/repo', labels: LABELS });
    await h.settle();
    const launch = await launchOf(h, 7001);
    assert.equal(launch?.state, 'submitted');
    const starts = h.gateway.requests.filter((request) => request.body.runnerName === launch!.runnerName);
    assert.equal(starts.length, 2, 'the dispatcher asked again after its timeout');
    assert.equal(starts[0]!.answeredWith, 'hung', 'the client had given up on the first answer');
    assert.deepEqual(new Set(starts.map((start) => start.body.runnerName)), new Set([launch!.runnerName]), 'both attempts name the same launch');

    const slurmJobs = h.gateway.jobsOf(launch!.runnerName);
    assert.equal(slurmJobs.length, style === 'munge' ? 2 : 1);
    // Every Slurm job started for the launch asks the broker at once, as its job script would.
    const answers = await Promise.all(slurmJobs.map((job) => broker.askForCredentials(job.body.launcherToken!)));
    assert.deepEqual(answers.map((answer) => answer.statusCode).sort(), style === 'munge' ? [200, 409] : [200]);
    if (style === 'munge') {
      const refused = answers.find((answer) => answer.statusCode === 409)!;
      assert.equal(refused.json().code, 'TOKEN_ALREADY_GRANTED');
      // Asking again later changes nothing either.
      assert.equal((await broker.askForCredentials(slurmJobs[0]!.body.launcherToken!)).statusCode, 409);
    }
    assert.equal((await launchOf(h, 7001))?.events.filter((event) => event.kind === 'token-granted').length, 1);
  });
}
