/**
 * The web app in a real browser against the real repo-api and Redis: what a person does with
 * it, from signing in to an admin retrying a dead-lettered launch. Screenshots of the main
 * pages land in web/test-artifacts/ (not committed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Launch, RepositoryList, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import { LaunchStore } from '@gha-slurm/core/stores/launch.store';
import { WorkflowJobStore } from '@gha-slurm/core/stores/workflow-job.store';
import {
  browserMissing,
  callApi,
  launchBrowser,
  screenshot,
  sessionCookie,
  signIn,
  startEnvironment,
  withPage as withPageIn,
  type Environment,
} from './support/environment.ts';
import { startLinkingGitHub, type LinkingGitHub } from './support/github.ts';

const skip = browserMissing();

describe.skipIf(skip !== null)('the web app in Chromium, against repo-api and Redis', () => {
  let env: Environment;
  let browser: Browser;
  // GitHub (simulated), where users link the account that must administer what they connect.
  let github: LinkingGitHub;

  beforeAll(async () => {
    github = await startLinkingGitHub();
    env = await startEnvironment(github.env);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
    await github?.close();
  });

  const withPage = (run: (page: Page) => Promise<void>, viewport?: { width: number; height: number }) =>
    withPageIn(browser, env, run, viewport);

  function repositoryItems(page: Page) {
    return page.getByRole('list', { name: 'Repositories of alice' }).getByRole('listitem');
  }

  /** Presses Add for what the field holds, expects repo-api to answer `status`, and returns the refusal box and its text. */
  async function refusedAdd(page: Page, status: number) {
    const answer = page.waitForResponse((response) => response.url().endsWith('/repositories/alice') && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Add' }).click();
    expect((await answer).status()).toBe(status);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    return { alert, text: await alert.innerText() };
  }

  it('signs in with a token, links a GitHub account, adds a repository it administers (checked as typed), and still shows it after a reload', async () => {
    await withPage(async (page) => {
      await page.goto(env.baseUrl);
      await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
      await screenshot(page, 'sign-in');
      await page.getByRole('textbox', { name: 'API token' }).fill('not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('That token was not accepted').waitFor();

      await page.getByRole('textbox', { name: 'API token' }).fill(env.tokens.alice);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'My repositories', exact: true }).waitFor();
      await page.getByText('No repositories yet').waitFor();
      // Keyboard and screen-reader users land on the new page's heading, not on nothing.
      expect(await page.evaluate(() => document.activeElement?.tagName + ' ' + document.activeElement?.textContent)).toBe('H1 My repositories');

      // Connecting a repository needs a linked GitHub account that is an admin of it: GitHub and back.
      const account = page.getByRole('region', { name: 'GitHub account' });
      await account.getByText('No GitHub account is linked to alice').waitFor();
      github.sim.oauth.approveAs('alice-gh');
      await account.getByRole('link', { name: 'Link your GitHub account' }).click();
      await page.getByRole('status').filter({ hasText: 'Your GitHub account alice-gh is linked.' }).waitFor();
      await account.getByText(/^Linked to GitHub account alice-gh/).waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/repos');
      await screenshot(page, 'github-linked');

      const field = page.getByRole('textbox', { name: 'Repository' });
      await field.fill('octo-org');
      await field.blur();
      await page.getByText(/Not a GitHub repository: expected owner\/name/).waitFor();
      await field.fill(`${github.sim.url}/Octo-Org/hpc-app`);
      await page.getByText('Will add Octo-Org/hpc-app.').waitFor();
      await page.getByRole('button', { name: 'Add' }).click();
      await page.getByText('Added Octo-Org/hpc-app.').waitFor();
      expect(await repositoryItems(page).count()).toBe(1);
      await repositoryItems(page).getByRole('link', { name: 'Octo-Org/hpc-app' }).waitFor();

      await page.reload();
      await page.getByRole('heading', { name: 'My repositories', exact: true }).waitFor();
      await repositoryItems(page).getByRole('link', { name: 'Octo-Org/hpc-app' }).waitFor();
      await screenshot(page, 'repositories');

      const stored = await callApi(env, env.tokens.alice, 'GET', '/repositories/alice');
      expect((stored.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual([`${github.sim.url}/Octo-Org/hpc-app`]);
    });
  });

  it("refuses a repository that is another user's with a message saying so, and keeps what was typed", async () => {
    const claimed = await callApi(env, env.tokens.ops, 'POST', '/repositories/bob', { repositories: ['octo-org/taken'] });
    expect(claimed.status).toBe(200);

    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/repos');
      const field = page.getByRole('textbox', { name: 'Repository' });
      await field.fill('octo-org/taken');
      const { text } = await refusedAdd(page, 409);
      expect(text).toContain('This repository belongs to another cluster account.');
      expect(text).toContain('octo-org/taken is already connected to another cluster account; nothing was changed.');
      expect(text).not.toContain('bob');
      expect(await field.inputValue()).toBe('octo-org/taken');
      await screenshot(page, 'repositories-409');
    });

    const bobs = await callApi(env, env.tokens.ops, 'GET', '/repositories/bob');
    expect((bobs.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual([`${github.sim.url}/octo-org/taken`]);
    const alices = await callApi(env, env.tokens.alice, 'GET', '/repositories/alice');
    expect((alices.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual([`${github.sim.url}/Octo-Org/hpc-app`]);
  });

  it("refuses a repository the linked GitHub account only writes to, and one from a user with no linked account, offering to link", async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/repos');
      const field = page.getByRole('textbox', { name: 'Repository' });
      await field.fill('octo-org/only-write');
      const { alert, text } = await refusedAdd(page, 403);
      expect(text).toContain('Your GitHub account is not an admin of it.');
      expect(text).toContain('your GitHub account alice-gh is not an admin of octo-org/only-write (it has write access)');
      expect(text).toContain('Nothing was changed.');
      await alert.getByRole('link', { name: 'Link another GitHub account' }).waitFor();
      expect(await field.inputValue()).toBe('octo-org/only-write');
      await screenshot(page, 'repositories-403');
    });

    // bob has no linked account: the refusal offers to link one, and after GitHub he can add his repository.
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.bob, '/repos');
      await page.getByRole('textbox', { name: 'Repository' }).fill('bob-lab/tool');
      await page.getByRole('button', { name: 'Add' }).click();
      const alert = page.getByRole('alert');
      await alert.getByText('Link your GitHub account first.').waitFor();
      expect(await alert.innerText()).toContain('bob-lab/tool was not added: no GitHub account is linked to your cluster account bob.');
      github.sim.oauth.approveAs('bob-gh');
      await alert.getByRole('link', { name: 'Link your GitHub account' }).click();
      await page.getByRole('status').filter({ hasText: 'Your GitHub account bob-gh is linked.' }).waitFor();
      // What was typed survived the trip to GitHub.
      expect(await page.getByRole('textbox', { name: 'Repository' }).inputValue()).toBe('bob-lab/tool');
      await page.getByRole('button', { name: 'Add' }).click();
      await page.getByText('Added bob-lab/tool.').waitFor();
    });
    const bobs = await callApi(env, env.tokens.ops, 'GET', '/repositories/bob');
    expect((bobs.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual([
      `${github.sim.url}/bob-lab/tool`,
      `${github.sim.url}/octo-org/taken`,
    ]);
    const audit = await callApi(env, env.tokens.ops, 'GET', '/api/audit?user=bob&count=1');
    expect((audit.body as { entries: Array<{ actor: string; reason: string }> }).entries[0]).toMatchObject({ actor: 'bob', reason: 'api, GitHub admin bob-gh' });
  });

  it('says a repository GitHub shows no one does not exist (not that the account is no admin), drops "Will add" once refused, and tells a github.com link which host is expected', async () => {
    // GitHub here is the simulator, on another host than github.com.
    const host = new URL(github.sim.url).host;
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/repos');
      const field = page.getByRole('textbox', { name: 'Repository' });
      // alice-gh has no role on ghost-org and the App is not installed there: GitHub answers Not Found.
      await field.fill('ghost-org/nothing');
      await page.getByText('Will add ghost-org/nothing.').waitFor();
      const { alert, text } = await refusedAdd(page, 422);
      expect(text).toContain('No such repository on GitHub.');
      expect(text).toContain('GitHub shows your GitHub account alice-gh no repository ghost-org/nothing: it does not exist, or it is private and the GitHub App is not installed on it');
      expect(text).not.toMatch(/not an admin/);
      expect(await alert.getByRole('link').count()).toBe(0);
      expect(await page.getByText(/Will add/).count()).toBe(0);
      expect(await field.inputValue()).toBe('ghost-org/nothing');
      await screenshot(page, 'repositories-not-found');

      // Editing the entry takes the refusal away and brings the check back.
      await field.press('End');
      await field.press('s');
      await page.getByText('Will add ghost-org/nothings.').waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);

      await field.fill('https://github.com/octo-org/hpc-app');
      await page
        .getByText(
          `Recognised as a github.com link, but this installation expects repositories on ${host}, not github.com. If the repository is on ${host}, enter octo-org/hpc-app.`,
        )
        .waitFor();
      expect(await page.getByText(/Not a GitHub repository/).count()).toBe(0);
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      await screenshot(page, 'repositories-github-com-link');
    });

    // repo-api, asked directly, refuses it in the same words and changes nothing.
    const refused = await callApi(env, env.tokens.alice, 'POST', '/repositories/alice', { repositories: ['https://github.com/octo-org/hpc-app'] });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain(`it is a github.com link, but this installation expects repositories on ${host} (if the repository is there, enter octo-org/hpc-app)`);
    const alices = await callApi(env, env.tokens.alice, 'GET', '/repositories/alice');
    expect((alices.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual([`${github.sim.url}/Octo-Org/hpc-app`]);
  });

    it('removes a repository after a confirmation', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/repos');
      await repositoryItems(page).getByRole('link', { name: 'Octo-Org/hpc-app' }).waitFor();
      await page.getByRole('button', { name: 'Remove Octo-Org/hpc-app' }).click();
      // The confirmation takes the focus, so Enter confirms from the keyboard.
      await page.getByRole('button', { name: 'Yes, remove' }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Yes, remove');
      await page.keyboard.press('Enter');
      await page.getByText('Removed Octo-Org/hpc-app.').waitFor();
      await page.getByText('No repositories yet').waitFor();
    });
    const alices = await callApi(env, env.tokens.alice, 'GET', '/repositories/alice');
    expect((alices.body as RepositoryList).repositories).toEqual([]);
  });

  it('shows a job on the jobs page as soon as its record is written, with the reason it got no runner, and its timeline', async () => {
    expect((await callApi(env, env.tokens.alice, 'POST', '/repositories/alice', { repositories: ['octo-org/hpc-app'] })).status).toBe(200);
    const jobs = new WorkflowJobStore(env.redis.redis, env.redis.prefix);
    const queuedAt = new Date(Date.now() - 3_000).toISOString();
    const ignoredAt = new Date(Date.now() - 2_500).toISOString();

    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/jobs');
      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
      await page.getByText('No jobs yet').waitFor();
      await page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();
      // The page must change without being reloaded or polled (polling is off while live).
      await page.evaluate(() => Object.assign(window, { untouchedPage: true }));

      const job: WorkflowJobRecord = {
        workflowJobId: 4242001,
        runId: 99001,
        repository: 'octo-org/hpc-app',
        repositoryUrl: 'https://github.com/octo-org/hpc-app',
        installationId: 7,
        name: 'train-model (gpu)',
        workflowName: 'Nightly',
        labels: ['self-hosted', 'gpu'],
        state: 'ignored',
        ignoreReason: 'no-profile',
        transitions: [
          { state: 'queued', at: queuedAt },
          { state: 'ignored', at: ignoredAt, note: 'no runner profile serves labels [self-hosted, gpu]' },
        ],
        events: [],
        firstDeliveryId: 'e2e-delivery-1',
      };
      expect(await jobs.create(job)).toBe(true);

      const row = page.getByRole('row').filter({ hasText: 'train-model (gpu)' });
      await row.waitFor({ timeout: 5_000 });
      expect(await page.evaluate(() => (window as unknown as { untouchedPage?: boolean }).untouchedPage)).toBe(true);
      const text = await row.innerText();
      expect(text).toContain('octo-org/hpc-app');
      expect(text).toContain('Not served');
      expect(text).toContain('no runner profile serves labels [self-hosted, gpu]');
      expect(text).toContain('gpu');
      await screenshot(page, 'jobs');

      // A second job, served this time, moves forward on screen as its record changes.
      const t0 = Date.now();
      const served: WorkflowJobRecord = {
        ...job,
        workflowJobId: 4242002,
        name: 'unit-tests',
        labels: ['self-hosted', 'slurm'],
        state: 'queued',
        ignoreReason: undefined,
        transitions: [{ state: 'queued', at: new Date(t0).toISOString() }],
        firstDeliveryId: 'e2e-delivery-2',
      };
      delete served.ignoreReason;
      await jobs.create(served);
      const servedRow = page.getByRole('row').filter({ hasText: 'unit-tests' });
      await servedRow.getByText('Queued', { exact: true }).waitFor({ timeout: 5_000 });
      const at = (offsetMs: number) => new Date(t0 + offsetMs).toISOString();
      await jobs.update(served.workflowJobId, (current) => ({
        ...current,
        state: 'running',
        launchId: 'e2elaunch1',
        runnerName: 'slurm-e2elaunch1',
        transitions: [
          ...current.transitions,
          { state: 'launching', at: at(1_000), note: 'launch e2elaunch1 (profile default)' },
          { state: 'launched', at: at(2_000), note: 'gateway accepted launch e2elaunch1' },
          { state: 'running', at: at(9_000) },
        ],
        events: [{ at: at(6_000), kind: 'token-granted', detail: 'registration token', launchId: 'e2elaunch1' }],
      }));
      await servedRow.getByText('Running', { exact: true }).waitFor({ timeout: 5_000 });
      expect(await servedRow.innerText()).toContain('runner slurm-e2elaunch1');

      await servedRow.getByRole('link', { name: 'unit-tests' }).click();
      await page.getByRole('heading', { name: 'Job: unit-tests', exact: true }).waitFor();
      const milestones = page.getByRole('list', { name: 'Milestones' });
      await milestones.waitFor();
      const timeline = await milestones.innerText();
      expect(timeline).toMatch(/Launched[\s\S]*\(after 2s\)/);
      expect(timeline).toMatch(/Token granted[\s\S]*\(after 4s\)/);
      expect(timeline).toMatch(/Running[\s\S]*\(after 3s\)/);
      expect(timeline).toMatch(/Completed\s*not yet/);
      await screenshot(page, 'job-detail');
    });
  });

  it('lets an admin retry a dead-lettered launch, and shows it leave the dead letters once the dispatcher takes it up', async () => {
    const launches = new LaunchStore(env.redis.redis, env.redis.prefix);
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const launch: Launch = {
      id: 'e2edead01',
      runnerName: 'slurm-e2edead01',
      repository: 'octo-org/hpc-app',
      repositoryUrl: 'https://github.com/octo-org/hpc-app',
      installationId: 7,
      clusterUser: 'alice',
      profile: 'default',
      labels: ['self-hosted', 'slurm', 'linux', 'x64'],
      forWorkflowJobId: 4242003,
      state: 'pending',
      attempts: 0,
      createdAt,
      events: [{ at: createdAt, kind: 'created', detail: 'for job 4242003' }],
    };
    expect(await launches.create(launch)).toBe(true);
    await launches.update(launch.id, (current) => ({
      ...current,
      state: 'dead-lettered',
      attempts: 5,
      lastError: 'gateway answered 502 Bad Gateway',
      events: [
        ...current.events,
        { at: new Date(Date.now() - 30_000).toISOString(), kind: 'gateway-failed', detail: 'attempt 5: gateway answered 502 Bad Gateway' },
        { at: new Date(Date.now() - 29_000).toISOString(), kind: 'dead-lettered', detail: 'gateway answered 502 Bad Gateway' },
      ],
    }));

    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/repos');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dead letters' }).click();
      await page.getByRole('heading', { name: 'Dead-lettered launches', exact: true }).waitFor();
      await page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'e2edead01' });
      await row.waitFor();
      expect(await row.innerText()).toContain('gateway answered 502 Bad Gateway');
      await screenshot(page, 'dead-letters');

      const answer = page.waitForResponse((response) => response.url().endsWith('/api/launches/e2edead01/retry'));
      await row.getByRole('button', { name: 'Retry launch e2edead01 of octo-org/hpc-app' }).click();
      expect([200, 202]).toContain((await answer).status());
      await row.getByText(/Retry requested by ops at .*: waiting for the dispatcher to send it\./).waitFor();
      const recorded = await launches.get('e2edead01');
      expect(recorded?.events.at(-1)).toMatchObject({ kind: 'retried', detail: 'by ops' });
      await screenshot(page, 'dead-letters-retried');

      // What the dispatcher does with the request: back to pending. The page follows live.
      await launches.update('e2edead01', (current) => ({
        ...current,
        state: 'pending',
        events: [...current.events, { at: new Date().toISOString(), kind: 'created', detail: 'sent again' }],
      }));
      await page.getByText('No dead-lettered launches').waitFor({ timeout: 5_000 });

      await page.goto(`${env.baseUrl}/launches/e2edead01`);
      await page.getByRole('heading', { name: 'Launch e2edead01', exact: true }).waitFor();
      const facts = await page.locator('dl.facts').innerText();
      expect(facts).toContain('Pending');
      expect(await page.getByRole('region', { name: 'What happened' }).innerText()).toContain('Retry requested');
    });
  });

  it("shows an admin any user's list, the queues, the audit log and the link to the queue dashboard", async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.ops, '/ops/users');
      await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
      await page.getByRole('searchbox', { name: 'Search users or repositories' }).fill('bob');
      await page.getByRole('button', { name: 'Open' }).click();
      await page.getByRole('heading', { name: 'Repositories of bob', exact: true }).waitFor();
      await page.getByRole('list', { name: 'Repositories of bob' }).getByRole('link', { name: 'octo-org/taken' }).waitFor();
      await screenshot(page, 'admin-user');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Queues' }).click();
      await page.getByRole('heading', { name: 'Queues', exact: true }).waitFor();
      await page.getByRole('rowheader', { name: 'launch-retries' }).waitFor();
      // The retry asked for in the test above waits there for the dispatcher.
      const retries = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'launch-retries' }) });
      expect(await retries.locator('td[data-label="Waiting"]').innerText()).toBe('1');
      await screenshot(page, 'queues');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log', exact: true }).waitFor();
      // The admin's change to bob's list, marked as an admin's (no GitHub check was made for it).
      const audit = page.getByRole('row').filter({ hasText: 'octo-org/taken' }).first();
      await audit.waitFor();
      expect(await audit.innerText()).toMatch(/bob\s+ops \(admin\)/);
      await screenshot(page, 'audit');

      // The dashboard opens with the session cookie the app got at sign-in (no bearer header):
      // HttpOnly, so page scripts cannot read it, and SameSite=Strict.
      const cookie = await sessionCookie(page);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      const dashboard = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /Queue dashboard/ });
      const href = await dashboard.getAttribute('href');
      expect(href).toBe('/admin/queues');
      const opened = await page.request.get(`${env.baseUrl}${href}`);
      expect(opened.status()).toBe(200);
    });
  });

  it('keeps a user out of the admin pages', async () => {
    await withPage(async (page) => {
      await signIn(page, env.baseUrl, env.tokens.alice, '/ops/dead-letters');
      await page.getByRole('heading', { name: 'Admins only', exact: true }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dead letters' }).count()).toBe(0);
      const dashboard = await page.request.get(`${env.baseUrl}/admin/queues`);
      expect(dashboard.status()).toBe(403);
    });
  });

  it('works on a phone: the menu folds, tables become cards', async () => {
    await withPage(
      async (page) => {
        await signIn(page, env.baseUrl, env.tokens.alice, '/jobs');
        await page.getByRole('row').filter({ hasText: 'train-model (gpu)' }).waitFor();
        const nav = page.getByRole('navigation', { name: 'Main' });
        expect(await nav.isVisible()).toBe(false);
        const menu = page.getByRole('button', { name: 'Menu' });
        expect(await menu.getAttribute('aria-expanded')).toBe('false');
        await screenshot(page, 'phone-jobs');
        await menu.click();
        expect(await menu.getAttribute('aria-expanded')).toBe('true');
        await nav.getByRole('link', { name: 'My repositories' }).click();
        await page.getByRole('heading', { name: 'My repositories', exact: true }).waitFor();
        expect(await nav.isVisible()).toBe(false);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        expect(width).toBeLessThanOrEqual(390);
        await screenshot(page, 'phone-repositories');
      },
      { width: 390, height: 844 },
    );
  });
});
