/**
 * Webhook deliveries as GitHub makes them: signed over the exact bytes, GitHub's headers, in
 * order per job, only for repositories the App is installed on; every attempt recorded; lost
 * deliveries shown as failed and redelivered through the REST API (App JWT, the real
 * `@octokit/auth-app`) with the same GUID; cursor pagination of the deliveries list.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { GitHubSim } from '../src/github-sim.ts';
import { WebhookSender } from '../src/webhooks/webhook-sender.ts';
import { startHarness, simGet, simPost, WEBHOOK_SECRET, type Harness } from './support/harness.ts';

let harness: Harness;
let sim: GitHubSim;

before(async () => {
  harness = await startHarness();
  sim = harness.sim;
  sim.state.install({ id: 4242, account: 'octo-lab', repositories: ['octo-lab/climate'] });
});
after(() => harness.close());

interface DeliverySummary {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
}

async function runOneJob(repository: string, labels = ['self-hosted', 'slurm']) {
  const job = sim.actions.createJob({ repository, labels, name: 'unit tests', workflowName: 'CI' });
  const token = sim.state.createRegistrationToken(sim.state.repository(repository)).token;
  const runner = sim.actions.registerWithToken({ url: `https://github.example.test/${repository}`, token, name: `runner-${job.id}`, labels });
  const assigned = await sim.actions.acquireJob(runner.id, 1000);
  assert.equal(assigned?.id, job.id);
  sim.actions.runnerCompleted(runner.id, job.id, 'success');
  return { job, runner };
}

test('each change of a job is delivered signed, with GitHub headers and payload shape, in order', async () => {
  const { job, runner } = await runOneJob('octo-lab/climate');
  await harness.receiver.waitFor(() => harness.receiver.forJob(job.id).length === 3);
  const deliveries = harness.receiver.forJob(job.id);
  assert.deepEqual(deliveries.map((delivery) => delivery.action), ['queued', 'in_progress', 'completed']);

  for (const delivery of deliveries) {
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(delivery.body).digest('hex')}`;
    assert.equal(delivery.headers['x-hub-signature-256'], expected, 'HMAC-SHA256 of the exact body received');
    assert.equal(delivery.headers['x-github-event'], 'workflow_job');
    assert.match(delivery.guid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(delivery.headers['x-github-hook-id'], String(sim.webhooks.hookId));
    assert.match(String(delivery.headers['user-agent']), /^GitHub-Hookshot\//);
    assert.equal(delivery.headers['content-type'], 'application/json');
  }
  assert.equal(new Set(deliveries.map((delivery) => delivery.guid)).size, 3, 'one GUID per delivery');

  const [queued, running, completed] = deliveries.map((delivery) => delivery.payload);
  const repository = sim.state.repository('octo-lab/climate');
  for (const payload of [queued, running, completed]) {
    assert.equal(payload.workflow_job.id, job.id);
    assert.equal(payload.workflow_job.run_id, job.runId);
    assert.equal(payload.workflow_job.name, 'unit tests');
    assert.equal(payload.workflow_job.workflow_name, 'CI');
    assert.deepEqual(payload.workflow_job.labels, ['self-hosted', 'slurm']);
    assert.equal(payload.workflow_job.html_url, `https://github.example.test/octo-lab/climate/actions/runs/${job.runId}/job/${job.id}`);
    assert.equal(payload.workflow_job.url, `${sim.url}/repos/octo-lab/climate/actions/jobs/${job.id}`);
    assert.equal(payload.repository.id, repository.id);
    assert.equal(payload.repository.full_name, 'octo-lab/climate');
    assert.equal(payload.repository.html_url, 'https://github.example.test/octo-lab/climate');
    assert.equal(payload.repository.owner.login, 'octo-lab');
    assert.equal(payload.installation.id, 4242);
    assert.ok(!JSON.stringify(payload.repository).includes('api.github.com'), 'URLs point at the simulator');
  }
  assert.deepEqual([queued.workflow_job.status, queued.workflow_job.runner_name, queued.workflow_job.conclusion], ['queued', null, null]);
  assert.deepEqual([running.workflow_job.status, running.workflow_job.runner_id, running.workflow_job.runner_name], ['in_progress', runner.id, runner.name]);
  assert.deepEqual([completed.workflow_job.status, completed.workflow_job.conclusion], ['completed', 'success']);
  assert.ok(completed.workflow_job.completed_at);

  await sim.webhooks.idle();
  const recorded = sim.webhooks.deliveries().filter((delivery) => deliveries.some((received) => received.guid === delivery.guid));
  assert.deepEqual(recorded.map((delivery) => [delivery.status, delivery.statusCode, delivery.redelivery, delivery.installationId, delivery.repositoryId]), [
    ['OK', 202, false, 4242, repository.id],
    ['OK', 202, false, 4242, repository.id],
    ['OK', 202, false, 4242, repository.id],
  ]);
});

test('deliveries of one job wait for each other when the intake is slow; other jobs do not wait', async () => {
  // The intake takes 150 ms over each `queued` delivery.
  harness.receiver.delayMs = (payload) => (payload?.action === 'queued' ? 150 : 0);
  try {
    const slow = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['x-none'] });
    sim.actions.cancelJob(slow.id);
    const quick = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['x-none'] });
    await sim.webhooks.idle();
    const [queued, completed] = harness.receiver.forJob(slow.id);
    assert.deepEqual([queued?.action, completed?.action], ['queued', 'completed']);
    assert.ok(completed!.arrivedAt >= queued!.answeredAt!, 'the second delivery was sent once the first was answered');
    const other = harness.receiver.forJob(quick.id)[0]!;
    assert.ok(other.arrivedAt < queued!.answeredAt!, "another job's delivery did not wait for it");
    sim.actions.cancelJob(quick.id);
    await sim.webhooks.idle();
  } finally {
    harness.receiver.delayMs = () => 0;
  }
});

test('no installation, no webhook: GitHub sends an App only the events of repositories it is installed on', async () => {
  const before = harness.receiver.received.length;
  const recordedBefore = sim.webhooks.deliveries().length;
  const job = sim.actions.createJob({ repository: 'stranger/repo', labels: ['self-hosted'] });
  sim.actions.cancelJob(job.id);
  await sim.webhooks.idle();
  assert.equal(harness.receiver.received.length, before);
  assert.equal(sim.webhooks.deliveries().length, recordedBefore, 'nothing attempted, nothing recorded');
});

test('a dropped delivery is recorded as failed, never reaches the intake, and is redelivered through the REST API with the same GUID', async () => {
  sim.webhooks.faults.add({ times: 1 });
  const job = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['self-hosted', 'slurm'] });
  await sim.webhooks.idle();
  assert.equal(harness.receiver.forJob(job.id).length, 0, 'the intake never saw it');

  const { data: list } = await harness.github.app.request('GET /app/hook/deliveries', { per_page: 100 });
  const failed = (list as DeliverySummary[])[0]!;
  assert.equal(failed.action, 'queued');
  assert.equal(failed.status_code, 0);
  assert.notEqual(failed.status, 'OK');
  assert.equal(failed.redelivery, false);
  assert.equal(failed.installation_id, 4242);
  assert.match(failed.delivered_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const redelivered = await harness.github.app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: failed.id });
  assert.equal(redelivered.status, 202);
  await harness.receiver.waitFor(() => harness.receiver.forJob(job.id).length === 1);
  const received = harness.receiver.forJob(job.id)[0]!;
  assert.equal(received.guid, failed.guid, 'a redelivery keeps the GUID');
  assert.equal(received.action, 'queued');

  await sim.webhooks.idle();
  const { data: after } = await harness.github.app.request('GET /app/hook/deliveries', { per_page: 100 });
  const newest = (after as DeliverySummary[])[0]!;
  assert.equal(newest.guid, failed.guid);
  assert.ok(newest.id > failed.id, 'recorded as a new delivery');
  assert.deepEqual([newest.redelivery, newest.status, newest.status_code], [true, 'OK', 202]);

  const { data: detail } = await harness.github.app.request('GET /app/hook/deliveries/{delivery_id}', { delivery_id: newest.id });
  const full = detail as unknown as { request: { headers: Record<string, string>; payload: { workflow_job: { id: number } } }; response: { payload: string } };
  assert.equal(full.request.headers['X-GitHub-Delivery'], failed.guid);
  assert.equal(full.request.payload.workflow_job.id, job.id);
  assert.equal(full.response.payload, '{"ok":true}');

  await assert.rejects(harness.github.app.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: 1 }), { status: 404 });
  sim.actions.cancelJob(job.id);
});

test('drop faults: a fraction at random with a 5xx recorded, per event and action; an intake that fails is recorded as it answered', async () => {
  sim.webhooks.faults.add({ probability: 1, times: 2, statusCode: 502, action: 'queued' });
  const a = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-a'] });
  const b = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-b'] });
  const c = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-c'] });
  sim.actions.cancelJob(a.id);
  await sim.webhooks.idle();
  assert.deepEqual(harness.receiver.forJob(a.id).map((delivery) => delivery.action), ['completed'], 'only queued deliveries were dropped');
  assert.equal(harness.receiver.forJob(b.id).length, 0);
  assert.equal(harness.receiver.forJob(c.id).length, 1, 'the rule dropped two, then ended');
  const recorded = (id: number) => sim.webhooks.deliveries().filter((delivery) => JSON.parse(delivery.request.body).workflow_job?.id === id);
  assert.deepEqual(recorded(b.id).map((delivery) => [delivery.statusCode, delivery.status]), [[502, 'Invalid HTTP Response: 502']]);

  sim.webhooks.faults.add({ probability: 0 });
  const d = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-d'] });
  await sim.webhooks.idle();
  assert.equal(harness.receiver.forJob(d.id).length, 1, 'probability 0 drops nothing');
  sim.webhooks.faults.clear();

  harness.receiver.status = () => 503;
  const e = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-e'] });
  await sim.webhooks.idle();
  harness.receiver.status = () => 202;
  assert.deepEqual(recorded(e.id).map((delivery) => [delivery.statusCode, delivery.status]), [[503, 'Invalid HTTP Response: 503']]);

  // The same over HTTP, as the demo sets it.
  assert.equal((await simPost(sim, '/_sim/webhook-faults', { times: 1, statusCode: 0 })).status, 201);
  assert.equal((await simPost(sim, '/_sim/webhook-faults', { probability: 2 })).status, 422);
  const f = sim.actions.createJob({ repository: 'octo-lab/climate', labels: ['none-f'] });
  await sim.webhooks.idle();
  assert.equal(recorded(f.id)[0]!.statusCode, 0);
  const listed = (await simGet(sim, '/_sim/deliveries')).body.deliveries as DeliverySummary[];
  assert.equal(listed.at(-1)!.status_code, 0);
  for (const job of [b, c, d, e, f]) sim.actions.cancelJob(job.id);
  await sim.webhooks.idle();
});

test('an intake that cannot be reached is recorded with status code 0', async () => {
  const lonely = await startHarness();
  await lonely.receiver.close();
  lonely.sim.state.install({ account: 'gone', repositories: ['gone/repo'] });
  lonely.sim.actions.createJob({ repository: 'gone/repo', labels: ['x'] });
  await lonely.sim.webhooks.idle();
  const [delivery] = lonely.sim.webhooks.deliveries();
  assert.deepEqual([delivery!.statusCode, delivery!.status], [0, 'failed to connect to host']);
  await lonely.sim.close();
});

test('the deliveries list pages newest first with a cursor in the Link header, and needs the App JWT', async () => {
  for (let i = 0; i < 6; i += 1) sim.actions.cancelJob(sim.actions.createJob({ repository: 'octo-lab/climate', labels: [`page-${i}`] }).id);
  await sim.webhooks.idle();
  const all = sim.webhooks.deliveries().map((delivery) => delivery.id).reverse();
  assert.ok(all.length >= 12);

  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response: { data: unknown; headers: Record<string, unknown> } = await harness.github.app.request('GET /app/hook/deliveries', { per_page: 5, ...(cursor ? { cursor } : {}) });
    const page = response.data as DeliverySummary[];
    assert.ok(page.length <= 5);
    seen.push(...page.map((delivery) => delivery.id));
    const link = response.headers.link as string | undefined;
    const next = link?.match(/<([^>]+)>;\s*rel="next"/)?.[1];
    if (next) assert.ok(next.startsWith(`${sim.url}/app/hook/deliveries?`), next);
    cursor = next ? new URL(next).searchParams.get('cursor') : null;
    pages += 1;
  } while (cursor);
  assert.deepEqual(seen, all, 'every delivery once, newest first');
  assert.equal(pages, Math.ceil(all.length / 5));

  const { data: big, headers } = await harness.github.app.request('GET /app/hook/deliveries', { per_page: 500 });
  assert.equal((big as DeliverySummary[]).length, Math.min(100, all.length));
  if (all.length <= 100) assert.equal(headers.link, undefined);

  const token = (await harness.github.app.request('POST /app/installations/{installation_id}/access_tokens', { installation_id: 4242 })).data.token;
  const withToken = await fetch(`${sim.url}/app/hook/deliveries`, { headers: { authorization: `token ${token}` } });
  assert.equal(withToken.status, 401, 'an installation token is not the App');
  assert.equal((await fetch(`${sim.url}/app/hook/deliveries?cursor=bogus`, { headers: { authorization: `Bearer ${await appJwt()}` } })).status, 400);
});

async function appJwt(): Promise<string> {
  const auth = (await harness.github.app.auth({ type: 'app' })) as { token: string };
  return auth.token;
}

test('installing the App through the control API tells the App by webhook; one installation per account', async () => {
  const created = await simPost(sim, '/_sim/installations', { account: 'newlab', repositories: ['newlab/a'] });
  assert.equal(created.status, 201);
  const added = await simPost(sim, '/_sim/installations', { account: 'newlab', repositories: ['newlab/b'] });
  assert.equal(added.body.id, created.body.id);
  assert.deepEqual(added.body.repositories, ['newlab/a', 'newlab/b']);
  assert.equal((await simPost(sim, '/_sim/installations', { account: 'newlab', repositories: ['other/c'] })).status, 422);
  await harness.receiver.waitFor(() => harness.receiver.received.some((delivery) => delivery.event === 'installation_repositories'));
  const installation = harness.receiver.received.find((delivery) => delivery.event === 'installation')!;
  assert.equal(installation.action, 'created');
  assert.equal(installation.payload.installation.id, created.body.id);
  assert.deepEqual(installation.payload.repositories.map((repository: { full_name: string }) => repository.full_name), ['newlab/a']);
  const repositories = harness.receiver.received.find((delivery) => delivery.event === 'installation_repositories')!;
  assert.deepEqual(repositories.payload.repositories_added.map((repository: { full_name: string }) => repository.full_name), ['newlab/b']);

  const job = sim.actions.createJob({ repository: 'newlab/b', labels: ['x'] });
  await harness.receiver.waitFor(() => harness.receiver.forJob(job.id).length === 1);
  assert.equal(harness.receiver.forJob(job.id)[0]!.payload.installation.id, created.body.id);
  sim.actions.cancelJob(job.id);
});

test('the delivery log keeps the newest attempts only, and forgets the bodies it can no longer redeliver', async () => {
  const sender = new WebhookSender({ target: { url: harness.receiver.url, secret: WEBHOOK_SECRET }, appId: 1, hookId: 1, retain: 3 });
  const guids = [1, 2, 3, 4, 5].map((n) => sender.send({ event: 'ping', action: null, payload: { zen: `n${n}` }, installationId: null, repositoryId: null })!);
  await sender.idle();
  const kept = sender.deliveries();
  assert.deepEqual(kept.map((delivery) => delivery.guid), guids.slice(2));
  assert.equal(sender.redeliver(kept[0]!.id - 1), false, 'an attempt no longer in the log');
  assert.equal(sender.redeliver(kept[0]!.id), true);
  await sender.close();
});
