/**
 * The admins' overview in Chromium, with the figures of a real run: the whole loop (simulated
 * GitHub, webhook-ingest, dispatcher, token-broker, the simulated gateway, repo-api, all as
 * processes on one Redis) runs a handful of jobs on two profiles to completion; then the page
 * must show what the run did (launches and completions per hour, waits per profile) and agree
 * with the API. The simulated gateway, like gha-slurm-munge, gives no Slurm job ids, so no CPU
 * time is recorded by the run: the charts say so, and then show the usage written the way the
 * dispatcher's Slurm observer records it for our gateway, with each job's real running time.
 * A screenshot of the overview lands in web/test-artifacts/overview.png.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Redis } from 'ioredis';
import type { JobList, Overview, UsageList } from '@gha-slurm/core/api/types';
import { launchIdFromRunnerName } from '@gha-slurm/core/domain/launch';
import { UsageStore } from '@gha-slurm/core/stores/usage.store';
import { startService } from '@gha-slurm/core/testing/service-process';
import { startLoop, waitFor, type Loop } from '../../tests/e2e/support/loop.ts';
import { browserMissing, callApi, distDir, launchBrowser, screenshot, signIn, withPage as withPageIn, type Environment } from './support/environment.ts';

const skip = browserMissing();
const SLURM = ['self-hosted', 'slurm'];
/** The CPUs of the example profiles the loop runs with. */
const PROFILE_CPUS: Record<string, number> = { default: 4, bigmem: 8 };

describe.skipIf(skip !== null)("the admins' overview, after a real run, in Chromium", () => {
  let loop: Loop;
  let env: Environment;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    loop = await startLoop({
      installs: { lab: ['sim', 'app'] },
      gateway: { runMs: [1500, 3000] },
      dispatcherEnv: { RECONCILE_STALE_LAUNCHES_EVERY_SECONDS: '600', RECONCILE_UNSEEN_JOBS_EVERY_SECONDS: '600', RECONCILE_DELIVERIES_EVERY_SECONDS: '600', RECONCILE_RUNNERS_EVERY_SECONDS: '600' },
    });
    await loop.connect('alice', ['lab/sim']);
    await loop.connect('bob', ['lab/app']);
    const jobs: Array<{ id: number }> = [];
    for (let round = 0; round < 3; round++) {
      jobs.push(await loop.sim.createJob({ repository: 'lab/sim', labels: SLURM, name: `test-${round}` }));
    }
    for (let round = 0; round < 2; round++) {
      jobs.push(await loop.sim.createJob({ repository: 'lab/app', labels: [...SLURM, '32gb'], name: `train-${round}` }));
    }
    await waitFor('every job of the run to complete', async () => {
      const now = await loop.sim.jobs();
      return jobs.every((wanted) => now.find((job) => job.id === wanted.id)?.status === 'completed');
    }, 90_000);
    await waitFor('the dispatcher to record every completion', async () => {
      const list = (await loop.asAdmin('GET', '/api/jobs?state=completed')) as JobList;
      return list.items.length === jobs.length;
    });

    // A repo-api of our own on the run's Redis, with sign-in tokens for the browser.
    dir = mkdtempSync(join(tmpdir(), 'gha-slurm-web-overview-'));
    const token = () => randomBytes(24).toString('base64url');
    const tokens = { alice: token(), bob: token(), ops: token() };
    const tokensFile = join(dir, 'api-tokens.yaml');
    writeFileSync(
      tokensFile,
      `tokens:\n  - token: "${tokens.alice}"\n    username: alice\n  - token: "${tokens.bob}"\n    username: bob\n  - token: "${tokens.ops}"\n    username: ops\n    admin: true\n`,
      { mode: 0o600 },
    );
    const repoApi = await startService('repo-api', {
      env: { REDIS_URL: loop.redisUrl, REDIS_PREFIX: loop.prefix, API_TOKENS: tokensFile, WEB_DIST_DIR: distDir, LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn' },
    });
    const redis = new Redis(loop.redisUrl, { maxRetriesPerRequest: null });
    env = {
      repoApi,
      baseUrl: repoApi.url,
      tokens,
      redis: { url: loop.redisUrl, prefix: loop.prefix, redis, cleanup: async () => redis.disconnect() },
      stop: async () => {
        await repoApi.stop();
        redis.disconnect();
      },
    };
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
    await loop?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const withPage = (run: (page: Page) => Promise<void>, viewport?: { width: number; height: number }) => withPageIn(browser, env, run, viewport);

  /** The values a chart draws for one series, in order. */
  function seriesValues(page: Page, chartTitle: string, series: string) {
    return page
      .locator('figure.chart', { has: page.locator('figcaption', { hasText: chartTitle }) })
      .locator(`rect.bar[data-series="${series}"]`)
      .evaluateAll((bars) => bars.map((bar) => Number(bar.getAttribute('data-value'))));
  }

  it('lands an admin on the overview, with the run: launches and completions per hour, waits per profile, nothing waiting', async () => {
    const overview = (await callApi(env, env.tokens.ops, 'GET', '/api/overview')).body as Overview;
    const launchesInRun = overview.hourly.reduce((sum, hour) => sum + hour.launches, 0);
    expect(launchesInRun).toBeGreaterThanOrEqual(5);
    expect(overview.hourly.reduce((sum, hour) => sum + hour.completions, 0)).toBe(5);
    expect(overview.waitTimes.map((profile) => [profile.profile, profile.day.jobs, profile.week.jobs])).toEqual([
      ['bigmem', 2, 2],
      ['default', 3, 3],
    ]);
    expect(overview.now).toEqual({ jobsWaiting: 0, launchesInFlight: 0, runnersRunning: 0, deadLetters: 0 });

    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/');
      await page.getByRole('heading', { name: 'Overview', exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/overview');

      const figure = (label: string) => page.locator(`[data-figure="${label}"] .figure-value`).innerText();
      expect(await figure('Jobs waiting')).toBe('0');
      expect(await figure('Launches in flight')).toBe('0');
      expect(await figure('Runners running')).toBe('0');
      expect(await figure('Dead letters')).toBe('0');
      const queues = await page.getByRole('list', { name: 'Queue health' }).innerText();
      expect(queues).toContain('github-events');
      expect(queues).toContain('Healthy');

      // 24 hours × 2 series, their sums as the run made them.
      const hourly = 'Launches and completions per hour';
      const launches = await seriesValues(page, hourly, 'launches');
      const completions = await seriesValues(page, hourly, 'completions');
      expect(launches).toHaveLength(24);
      expect(launches.reduce((a, b) => a + b, 0)).toBe(launchesInRun);
      expect(completions.reduce((a, b) => a + b, 0)).toBe(5);
      expect(await page.getByRole('img', { name: new RegExp(`^${hourly}.*: ${launchesInRun} launches and 5 completed jobs$`) }).count()).toBe(1);

      // Queued to running, per profile: one bar each for p50 and p95, over the day and the week.
      const day = page.locator('figure.chart', { has: page.locator('figcaption', { hasText: /^Last day$/ }) });
      expect(await day.locator('g[data-label]').evaluateAll((groups) => groups.map((group) => group.getAttribute('data-label')))).toEqual([
        'bigmem (2 jobs)',
        'default (3 jobs)',
      ]);
      const p95 = await seriesValues(page, 'Last week', 'p95');
      const p50 = await seriesValues(page, 'Last week', 'p50');
      expect(p95).toEqual(overview.waitTimes.map((profile) => profile.week.p95Ms));
      p50.forEach((value, index) => expect(value).toBeLessThanOrEqual(p95[index]!));

      // The simulated gateway reports no Slurm jobs: no CPU time yet, and the charts say why.
      await page.getByText(/No Slurm job ended in the last 7 days/).first().waitFor();

      // Each figure leads to its list: the jobs still waiting for a runner (none after the run).
      await page.locator('[data-figure="Jobs waiting"] a').click();
      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
      expect(new URL(page.url()).searchParams.get('state')).toBe('waiting,queued,launching,launched');
      await page.getByText('No jobs match these filters.').waitFor();
    });
  });

  it('draws CPU-hours by repository and by user from /api/usage, as the Slurm observer records them', async () => {
    // Each job's real running time on the profile's CPUs, recorded as the dispatcher does when
    // our gateway reports a Slurm job's end.
    const usage = new UsageStore(env.redis.redis, env.redis.prefix);
    const completed = ((await callApi(env, env.tokens.ops, 'GET', '/api/jobs?state=completed')).body as JobList).items;
    let slurmJobId = 9000;
    for (const job of completed) {
      const running = job.transitions.find((transition) => transition.state === 'running')!.at;
      const ended = job.transitions.find((transition) => transition.state === 'completed')!.at;
      await usage.record({
        launchId: launchIdFromRunnerName(job.runnerName) ?? job.launchId!,
        repository: job.repository,
        clusterUser: job.clusterUser!,
        profile: job.profile!,
        slurmJobId: slurmJobId++,
        cpus: PROFILE_CPUS[job.profile!]!,
        elapsedSeconds: Math.max(1, Math.round((Date.parse(ended) - Date.parse(running)) / 1000)),
        endedAt: ended,
      });
    }
    // And a repository whose name is longer than a chart's room for names.
    await usage.record({
      launchId: 'longname1',
      repository: 'computational-neuroscience-lab/whole-brain-simulation',
      clusterUser: 'alice',
      profile: 'default',
      slurmJobId: slurmJobId++,
      cpus: PROFILE_CPUS.default!,
      elapsedSeconds: 600,
      endedAt: new Date().toISOString(),
    });
    const byRepository = (await callApi(env, env.tokens.ops, 'GET', '/api/usage?by=repository')).body as UsageList;
    const byUser = (await callApi(env, env.tokens.ops, 'GET', '/api/usage?by=user')).body as UsageList;
    expect(byRepository.items.map((item) => [item.key, item.jobs])).toEqual(expect.arrayContaining([['lab/sim', 3], ['lab/app', 2]]));
    expect(byUser.items.map((item) => item.key).sort()).toEqual(['alice', 'bob']);

    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/overview');
      const repositoryChart = 'CPU-hours by repository';
      await page.locator('figure.chart', { has: page.locator('figcaption', { hasText: repositoryChart }) }).locator('rect.bar').first().waitFor();
      expect(await seriesValues(page, repositoryChart, 'CPU-hours')).toEqual(byRepository.items.map((item) => item.cpuHours));
      expect(await seriesValues(page, 'CPU-hours by user', 'CPU-hours')).toEqual(byUser.items.map((item) => item.cpuHours));
      const users = page.locator('figure.chart', { has: page.locator('figcaption', { hasText: 'CPU-hours by user' }) });
      expect(await users.locator('g[data-label]').evaluateAll((groups) => groups.map((group) => group.getAttribute('data-label')))).toEqual(
        byUser.items.map((item) => item.key),
      );
      // On a laptop's screen the menu and who is signed in share the header's one row.
      const nav = page.getByRole('navigation', { name: 'Main' });
      const firstLink = (await nav.getByRole('link', { name: 'Overview' }).boundingBox())!;
      const signOut = (await nav.getByRole('button', { name: 'Sign out' }).boundingBox())!;
      expect(signOut.y).toBeLessThan(firstLink.y + firstLink.height);
      expect(signOut.x).toBeGreaterThan(firstLink.x);
      await screenshot(page, 'overview');
    });
    // On a phone the page keeps to the screen's width; the activity chart scrolls inside its frame,
    // the bar charts fit theirs.
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/overview');
      await page.locator('figure.chart svg.bars rect.bar').last().waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // The activity chart opens at its newest hour (the run's columns), not at empty hours a day ago.
      const activity = page.locator('figure.chart', { has: page.locator('svg.columns') });
      const frame = (await activity.locator('.chart-scroll').boundingBox())!;
      const newest = (await activity.locator('rect.bar').last().boundingBox())!;
      expect(newest.x).toBeGreaterThanOrEqual(frame.x);
      expect(newest.x + newest.width).toBeLessThanOrEqual(frame.x + frame.width);
      // Every bar chart's figures, the longest bar's included, are written inside its frame, and
      // its names too, the long one cut to fit.
      for (const chart of await page.locator('figure.chart', { has: page.locator('svg.bars') }).all()) {
        const box = (await chart.locator('.chart-scroll').boundingBox())!;
        for (const value of await chart.locator('text.chart-value').all()) {
          const text = (await value.boundingBox())!;
          expect(text.x + text.width).toBeLessThanOrEqual(box.x + box.width);
        }
        for (const name of await chart.locator('text.chart-label').all()) {
          expect((await name.boundingBox())!.x).toBeGreaterThanOrEqual(box.x);
        }
      }
      const longName = page.locator('g[data-label="computational-neuroscience-lab/whole-brain-simulation"] text.chart-label');
      expect(await longName.textContent()).toMatch(/^computational-.*…$/);
      await screenshot(page, 'phone-overview');
    }, { width: 390, height: 844 });

    // A user sees only the CPU time of their own account, and lands on their repositories.
    const alice = (await callApi(env, env.tokens.alice, 'GET', '/api/usage?by=user')).body as UsageList;
    expect(alice.items.map((item) => item.key)).toEqual(['alice']);
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/');
      await page.getByRole('heading', { name: 'My repositories', exact: true }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).count()).toBe(0);
      await page.goto(`${env.baseUrl}/overview`);
      await page.getByRole('heading', { name: 'Admins only', exact: true }).waitFor();
    });
  });
});
