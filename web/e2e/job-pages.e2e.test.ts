/**
 * The job and launch pages in each state a person meets (queued, waiting in Slurm, running,
 * completed, cancelled, swapped, dead-lettered), in Chromium against repo-api and Redis, with
 * the records written as the dispatcher writes them: one story on both pages, in the same
 * words and colours, the Slurm job in plain words, and a way back from each page. Screenshots
 * of a job page and a launch page land in web/test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Launch, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import type { SlurmJobObservation } from '@gha-slurm/core/domain/launch';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import { browserMissing, launchBrowser, screenshot, signIn, startEnvironment, withPage as withPageIn, type Environment } from './support/environment.ts';

const skip = browserMissing();
const REPOSITORY = 'octo-org/hpc-app';

const t0 = Date.now() - 30 * 60_000;
const at = (seconds: number) => new Date(t0 + seconds * 1000).toISOString();

function job(id: number, overrides: Partial<WorkflowJobRecord>): WorkflowJobRecord {
  return {
    workflowJobId: id,
    runId: id + 100,
    repository: REPOSITORY,
    repositoryUrl: `https://github.com/${REPOSITORY}`,
    installationId: 7,
    name: `job-${id}`,
    workflowName: 'CI',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    state: 'queued',
    clusterUser: 'alice',
    profile: 'default',
    transitions: [{ state: 'queued', at: at(0) }],
    events: [],
    firstDeliveryId: `delivery-${id}`,
    ...overrides,
  };
}

function launch(id: string, forJob: number, overrides: Partial<Launch>): Launch {
  return {
    id,
    runnerName: `slurm-${id}`,
    repository: REPOSITORY,
    repositoryUrl: `https://github.com/${REPOSITORY}`,
    installationId: 7,
    clusterUser: 'alice',
    profile: 'default',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    forWorkflowJobId: forJob,
    state: 'submitted',
    attempts: 1,
    createdAt: at(1),
    events: [
      { at: at(1), kind: 'created', detail: `for job ${forJob}` },
      { at: at(2), kind: 'gateway-accepted', detail: 'gateway answered 201' },
    ],
    ...overrides,
  };
}

function slurm(state: string, overrides: Partial<SlurmJobObservation> = {}): SlurmJobObservation {
  return { state, reason: null, nodes: null, exitCode: null, startedAt: null, endedAt: null, cpus: 4, observedAt: at(5), ...overrides };
}

const launched = [
  { state: 'queued' as const, at: at(0) },
  { state: 'launching' as const, at: at(1), note: 'launch (profile default)' },
  { state: 'launched' as const, at: at(2), note: 'gateway accepted the launch' },
];

describe.skipIf(skip !== null)('job and launch pages in every state, in Chromium', () => {
  let env: Environment;
  let browser: Browser;

  beforeAll(async () => {
    env = await startEnvironment();
    browser = await launchBrowser();
    const jobs = new WorkflowJobStore(env.redis.redis, env.redis.prefix);
    const launches = new LaunchStore(env.redis.redis, env.redis.prefix);

    // Queued: no launch yet.
    await jobs.create(job(5101, { name: 'queued-job', profile: undefined, clusterUser: undefined }));
    // Waiting in Slurm: the gateway gave a Slurm job id, Slurm holds it for want of room.
    await jobs.create(job(5102, { name: 'waiting-job', state: 'launched', launchId: 'slurmwait1', transitions: launched }));
    await launches.create(launch('slurmwait1', 5102, {
      slurmJobId: 4711,
      slurm: slurm('PENDING', { reason: 'Resources' }),
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5102' },
        { at: at(2), kind: 'gateway-accepted', detail: 'Slurm job 4711' },
        { at: at(5), kind: 'slurm-pending', detail: 'waiting in Slurm: the partition is full (Resources)' },
      ],
    }));
    // Running on its own launch's runner.
    await jobs.create(job(5103, {
      name: 'running-job',
      state: 'running',
      launchId: 'running01',
      runnerName: 'slurm-running01',
      transitions: [...launched, { state: 'running', at: at(40) }],
      events: [{ at: at(30), kind: 'token-granted', detail: 'registration token', launchId: 'running01' }],
    }));
    await launches.create(launch('running01', 5103, {
      state: 'running',
      servedWorkflowJobId: 5103,
      slurmJobId: 4712,
      slurm: slurm('RUNNING', { nodes: 'node07', startedAt: at(20) }),
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5103' },
        { at: at(2), kind: 'gateway-accepted', detail: 'Slurm job 4712' },
        { at: at(20), kind: 'slurm-running', detail: 'running in Slurm on node07' },
        { at: at(30), kind: 'token-granted', detail: 'registration token' },
        { at: at(40), kind: 'job-taken', detail: 'took job 5103' },
      ],
    }));
    // Completed.
    await jobs.create(job(5104, {
      name: 'completed-job',
      state: 'completed',
      conclusion: 'success',
      launchId: 'done0001',
      runnerName: 'slurm-done0001',
      transitions: [...launched, { state: 'running', at: at(40) }, { state: 'completed', at: at(400) }],
      events: [{ at: at(30), kind: 'token-granted', detail: 'registration token', launchId: 'done0001' }],
    }));
    await launches.create(launch('done0001', 5104, {
      state: 'completed',
      servedWorkflowJobId: 5104,
      slurmJobId: 4713,
      slurm: slurm('COMPLETED', { nodes: 'node07', exitCode: 0, startedAt: at(20), endedAt: at(410) }),
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5104' },
        { at: at(2), kind: 'gateway-accepted', detail: 'Slurm job 4713' },
        { at: at(40), kind: 'job-taken', detail: 'took job 5104' },
        { at: at(400), kind: 'job-completed', detail: 'job 5104: success' },
        { at: at(410), kind: 'slurm-ended', detail: 'ended in Slurm, exit code 0' },
      ],
    }));
    // Cancelled on GitHub while its Slurm job waited: the Slurm job is cancelled too.
    await jobs.create(job(5105, {
      name: 'cancelled-job',
      state: 'completed',
      conclusion: 'cancelled',
      launchId: 'cancel01',
      transitions: [...launched, { state: 'completed', at: at(60) }],
    }));
    await launches.create(launch('cancel01', 5105, {
      state: 'completed',
      slurmJobId: 4714,
      slurm: slurm('CANCELLED', { exitCode: 0, endedAt: at(61) }),
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5105' },
        { at: at(2), kind: 'gateway-accepted', detail: 'Slurm job 4714' },
        { at: at(5), kind: 'slurm-pending', detail: 'waiting in Slurm: jobs ahead of it have priority (Priority)' },
        { at: at(61), kind: 'slurm-cancelled', detail: 'its job no longer needs a runner: cancelled while pending' },
      ],
    }));
    // Swapped: GitHub gave job 5106 to the runner launched for 5107; 5106's own runner asked too late.
    await jobs.create(job(5106, {
      name: 'swapped-job',
      state: 'completed',
      conclusion: 'success',
      launchId: 'swapA001',
      runnerName: 'slurm-swapB001',
      transitions: [...launched, { state: 'running', at: at(50) }, { state: 'completed', at: at(300) }],
    }));
    await launches.create(launch('swapA001', 5106, {
      state: 'refused',
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5106' },
        { at: at(2), kind: 'gateway-accepted' },
        { at: at(50), kind: 'lost-job', detail: 'job 5106 was taken by slurm-swapB001' },
        { at: at(70), kind: 'token-refused', detail: 'no queued job left for these labels' },
      ],
    }));
    await jobs.create(job(5107, { name: 'other-job', state: 'launched', launchId: 'swapB001', transitions: launched }));
    await launches.create(launch('swapB001', 5107, {
      state: 'completed',
      servedWorkflowJobId: 5106,
      events: [
        { at: at(1), kind: 'created', detail: 'for job 5107' },
        { at: at(2), kind: 'gateway-accepted' },
        { at: at(50), kind: 'job-taken', detail: 'took job 5106' },
        { at: at(300), kind: 'job-completed', detail: 'job 5106: success' },
      ],
    }));
    // Dead-lettered: the gateway kept failing (updated as the dispatcher does, so the dead-letter index follows).
    await jobs.create(job(5108, { name: 'dead-job', state: 'launching', launchId: 'dead0001', transitions: launched.slice(0, 2) }));
    await launches.create(launch('dead0001', 5108, { state: 'pending', attempts: 0, events: [{ at: at(1), kind: 'created', detail: 'for job 5108' }] }));
    await launches.update('dead0001', (current) => ({
      ...current,
      state: 'dead-lettered',
      attempts: 6,
      lastError: 'gateway answered 503 Service Unavailable',
      events: [...current.events, { at: at(90), kind: 'dead-lettered', detail: 'gave up after 6 attempts: gateway answered 503 Service Unavailable' }],
    }));
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  const withPage = (run: (page: Page) => Promise<void>) => withPageIn(browser, env, run);

  /** The page's facts as `{term: text}`, and the class of the State badge. */
  async function facts(page: Page): Promise<Record<string, string | undefined> & { badgeClass: string }> {
    await page.locator('dl.facts').waitFor();
    return page.locator('dl.facts').evaluate((list) => {
      const out: Record<string, string> = {};
      let term = '';
      for (const child of Array.from(list.children)) {
        if (child.tagName === 'DT') term = child.textContent ?? '';
        else out[term] = (child as HTMLElement).innerText;
      }
      const state = Array.from(list.querySelectorAll('dt')).find((dt) => dt.textContent === 'State');
      return { ...out, badgeClass: state?.nextElementSibling?.querySelector('.tag')?.className ?? '' };
    });
  }

  /** The breadcrumb trail's labels; every crumb but the page itself is a link back. */
  async function trail(page: Page): Promise<string[]> {
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
    const labels = (await crumbs.getByRole('listitem').allInnerTexts()).map((text) => text.replace(/^\s*›\s*/, '').trim());
    expect(await crumbs.getByRole('link').allInnerTexts()).toEqual(labels.slice(0, -1));
    return labels;
  }

  /** Opens a job's page: its facts, once its way back reads `Jobs › <name>`. */
  async function openJob(page: Page, id: number, name: string) {
    await page.goto(`${env.baseUrl}/jobs/${id}`);
    await page.getByRole('heading', { name: `Job: ${name}`, exact: true }).waitFor();
    const shown = await facts(page);
    expect(await trail(page)).toEqual(['Jobs', name]);
    return shown;
  }

  /** Opens a launch's page: its facts, once its way back reads `Jobs › <the job it was made for> › Launch <id>`. */
  async function openLaunch(page: Page, id: string, madeFor: string) {
    await page.goto(`${env.baseUrl}/launches/${id}`);
    await page.getByRole('heading', { name: `Launch ${id}`, exact: true }).waitFor();
    const shown = await facts(page);
    expect(await trail(page)).toEqual(['Jobs', madeFor, `Launch ${id}`]);
    // The main menu shows where the page sits: under Jobs.
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs', exact: true }).getAttribute('class')).toContain('active');
    return shown;
  }

  const milestones = (page: Page) => page.getByRole('list', { name: 'Milestones' }).innerText();
  const steps = (page: Page) => page.getByRole('region', { name: 'What happened' }).innerText();

  it('queued and waiting in Slurm: why it waits, in plain words, with the Slurm job id', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/jobs');
      const queued = await openJob(page, 5101, 'queued-job');
      expect(queued.State).toBe('Queued');
      expect(queued.badgeClass).toContain('tag-neutral');
      expect(queued.Launch).toBe('none');
      expect(queued.Runner).toBe('none yet');
      expect(queued).not.toHaveProperty('Slurm');
      expect(queued).not.toHaveProperty('Why');
      expect(await milestones(page)).toMatch(/Launched\s*not yet/);
      await screenshot(page, 'job-queued');

      const waiting = await openJob(page, 5102, 'waiting-job');
      expect(waiting.State).toBe('Waiting in Slurm');
      expect(waiting.badgeClass).toContain('tag-neutral');
      expect(waiting.Why).toBe('waiting in Slurm: the partition is full (Resources)');
      expect(waiting.Slurm).toBe('Slurm job 4711: waiting in Slurm: the partition is full (Resources)');
      expect(waiting.Launch).toMatch(/^slurmwait1\s+Submitted to Slurm$/);
      expect(await page.getByRole('region', { name: 'Timeline' }).innerText()).toContain('Waiting in the Slurm queue — waiting in Slurm: the partition is full (Resources)');
      await screenshot(page, 'job-waiting-in-slurm');

      await page.getByRole('link', { name: 'slurmwait1', exact: true }).click();
      await page.getByRole('heading', { name: 'Launch slurmwait1', exact: true }).waitFor();
      const launchFacts = await facts(page);
      expect(await trail(page)).toEqual(['Jobs', 'waiting-job', 'Launch slurmwait1']);
      expect(launchFacts.badgeClass).toContain('tag-neutral');
      expect(launchFacts.Slurm).toBe('Slurm job 4711: waiting in Slurm: the partition is full (Resources)');
      expect(launchFacts.State).toBe('Submitted to Slurm');
      expect(await steps(page)).toContain('Waiting in the Slurm queue — waiting in Slurm: the partition is full (Resources)');
      await screenshot(page, 'launch-waiting-in-slurm');

      // The way back: launch → its job → all jobs, by the breadcrumbs.
      const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
      expect(await crumbs.innerText()).toMatch(/Jobs\s*›?\s*waiting-job\s*›?\s*Launch slurmwait1/);
      await crumbs.getByRole('link', { name: 'waiting-job' }).click();
      await page.getByRole('heading', { name: 'Job: waiting-job', exact: true }).waitFor();
      await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Jobs' }).click();
      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'waiting-job' });
      await row.getByText('waiting in Slurm: the partition is full (Resources)').waitFor();
      expect(await row.locator('.tag').first().innerText()).toBe('Waiting in Slurm');
    });
  });

  it('running and completed: the runner and its Slurm node, a success in green, every milestone reached', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/jobs');
      const row = page.getByRole('row').filter({ hasText: 'running-job' });
      // The launches load beside the jobs.
      await row.getByText('Running a job').waitFor();
      const rowText = await row.innerText();
      // The row shows the runner running it and the launch that runner came from.
      expect(rowText).toContain('runner slurm-running01');
      expect(rowText).toContain('launch running01');
      expect(rowText).toContain('Running a job');

      const running = await openJob(page, 5103, 'running-job');
      expect(running.State).toBe('Running');
      expect(running.badgeClass).toContain('tag-active');
      expect(running.Runner).toBe('slurm-running01');
      expect(running.Slurm).toBe('Slurm job 4712: running in Slurm on node07');
      expect(running).not.toHaveProperty('Why');
      // Every milestone up to running is reached (only Completed is still to come).
      expect(await milestones(page)).not.toMatch(/(Queued|Launched|Token granted|Running)\s*(not yet|did not happen|not recorded)/);
      expect(await milestones(page)).toMatch(/Completed\s*not yet/);
      await screenshot(page, 'job-running');
      const runningLaunch = await openLaunch(page, 'running01', 'running-job');
      expect(runningLaunch).toMatchObject({ State: 'Running a job', Slurm: 'Slurm job 4712: running in Slurm on node07' });
      expect(runningLaunch.badgeClass).toContain('tag-active');
      // Its runner took its own job: nothing on the page speaks of another job.
      expect(await steps(page)).not.toMatch(/another/);

      const completed = await openJob(page, 5104, 'completed-job');
      expect(completed.State).toBe('Completed: success');
      expect(completed.badgeClass).toContain('tag-ok');
      expect(completed.Slurm).toBe('Slurm job 4713: ended in Slurm, exit code 0');
      expect(await milestones(page)).not.toMatch(/not yet|did not happen|not recorded/);
      await screenshot(page, 'job-completed');
      const done = await openLaunch(page, 'done0001', 'completed-job');
      expect(done.State).toBe('Completed');
      expect(done.badgeClass).toContain('tag-ok');
      expect(done.Slurm).toBe('Slurm job 4713: ended in Slurm, exit code 0');
      await screenshot(page, 'launch-completed');
    });
  });

  it('cancelled: the job ended before a runner came, and says so; nothing is "not yet"', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/jobs');
      const cancelled = await openJob(page, 5105, 'cancelled-job');
      expect(cancelled.State).toBe('Completed: cancelled');
      expect(cancelled.badgeClass).toContain('tag-neutral');
      expect(cancelled.Slurm).toBe('Slurm job 4714: cancelled in Slurm');
      expect(cancelled.Runner).toBe('none');
      const reached = await milestones(page);
      expect(reached).not.toContain('not yet');
      expect(reached).toMatch(/Token granted\s*did not happen/);
      expect(reached).toMatch(/Running\s*did not happen/);
      expect(await page.getByRole('region', { name: 'Timeline' }).innerText()).toContain('Slurm job cancelled — its job no longer needs a runner');
      const launchPage = await openLaunch(page, 'cancel01', 'cancelled-job');
      expect(launchPage.Slurm).toBe('Slurm job 4714: cancelled in Slurm');
      expect(await steps(page)).toContain('Slurm job cancelled — its job no longer needs a runner');
    });
  });

  it('swapped: the job that succeeded on another launch\'s runner is green, and both pages tell the swap the same way', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/jobs');
      const row = page.getByRole('row').filter({ hasText: 'swapped-job' });
      const rowText = await row.innerText();
      expect(rowText).toContain('runner slurm-swapB001');
      expect(rowText).toContain('launch swapB001 (made for another job)');
      expect(await row.locator('.tag').first().getAttribute('class')).toContain('tag-ok');

      const swapped = await openJob(page, 5106, 'swapped-job');
      expect(swapped.State).toBe('Completed: success');
      expect(swapped.badgeClass).toContain('tag-ok');
      expect(swapped).not.toHaveProperty('Why');
      expect(swapped.Launch).toMatch(/^swapA001\s+Refused$/);
      expect(swapped.Runner).toMatch(/^slurm-swapB001\s+from launch swapB001, made for another job$/);
      const story = await page.getByRole('region', { name: 'Timeline' }).innerText();
      expect(story).toContain('Another runner took this job — job 5106 was taken by slurm-swapB001');
      expect(story).not.toContain('took another job');
      const reached = await milestones(page);
      expect(reached).toMatch(/Running[\s\S]*on slurm-swapB001, launched for another job/);
      expect(reached).not.toContain('not yet');
      await screenshot(page, 'job-swapped');

      const own = await openLaunch(page, 'swapA001', 'swapped-job');
      expect(own.State).toBe('Refused');
      expect(own.badgeClass).toContain('tag-warn');
      expect(await steps(page)).toContain('Its job was taken by another runner — job 5106 was taken by slurm-swapB001');
      expect(await steps(page)).not.toContain('took another job');
      await screenshot(page, 'launch-swapped');

      const other = await openLaunch(page, 'swapB001', 'other-job');
      expect(other['Made for job']).toBe('other-job');
      expect(other['Its runner took']).toMatch(/^job 5106/);
      await page.getByRole('link', { name: 'job 5106' }).click();
      await page.getByRole('heading', { name: 'Job: swapped-job', exact: true }).waitFor();
    });
  });

  it('dead-lettered: "Launch failed" in red on the job, with the gateway\'s error and the retry for admins', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/jobs');
      const dead = await openJob(page, 5108, 'dead-job');
      expect(dead.State).toBe('Launch failed');
      expect(dead.badgeClass).toContain('tag-bad');
      expect(dead.Why).toContain('the cluster gateway kept failing, so no runner was started (gateway answered 503 Service Unavailable)');
      expect(dead.Launch).toMatch(/^dead0001\s+Failed \(dead-lettered\)$/);
      await page.getByRole('button', { name: /Retry/ }).first().waitFor();
      const launchPage = await openLaunch(page, 'dead0001', 'dead-job');
      expect(launchPage.State).toBe('Failed (dead-lettered)');
      expect(launchPage.badgeClass).toContain('tag-bad');
      expect(launchPage['Last error']).toBe('gateway answered 503 Service Unavailable');
      expect(await steps(page)).toContain('Dead-lettered: the gateway kept failing');
    });
  });
});
