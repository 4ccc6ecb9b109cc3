/**
 * Admin tools in a real browser: the users page (every user with repositories, with counts,
 * searchable), and the queue dashboard, which sends a browser without a session to sign in
 * and works with no internet at all (every request to another origin is refused here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserMissing, callApi, launchBrowser, screenshot, startEnvironment, withPage as withPageIn, type Environment } from './support/environment.ts';

const skip = browserMissing();

describe.skipIf(skip !== null)('admin tools in Chromium, against repo-api and Redis', () => {
  let env: Environment;
  let browser: Browser;

  beforeAll(async () => {
    env = await startEnvironment();
    browser = await launchBrowser();
    const imported = await callApi(env, env.tokens.ops, 'PUT', '/api/mappings', {
      users: [
        { username: 'alice', repositories: ['octo-lab/climate', 'octo-lab/genomics', 'octo-lab/qcd'] },
        { username: 'bob', repositories: ['bob/thesis-code'] },
      ],
    });
    expect(imported.status).toBe(200);
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  /** A page with no internet: any request that leaves repo-api's origin is refused and noted. */
  const offline = (run: (page: Page, outside: string[]) => Promise<void>) =>
    withPageIn(browser, env, async (page) => {
      const outside: string[] = [];
      const origin = new URL(env.baseUrl).origin;
      await page.context().route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
        outside.push(url);
        return route.abort('internetdisconnected');
      });
      await run(page, outside);
    });

  it('the users page lists everyone with repositories and their counts, and filters as the admin types', async () => {
    await offline(async (page) => {
      await page.goto(`${env.baseUrl}/ops/users`);
      await page.getByRole('textbox', { name: 'API token' }).fill(env.tokens.ops);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const table = page.getByRole('table', { name: /Users and how many repositories/ });
      await expect.poll(() => table.getByRole('row').allInnerTexts()).toEqual(['Cluster user\tRepositories', 'alice\t3', 'bob\t1']);
      await page.getByRole('searchbox', { name: 'Search users or repositories' }).fill('thesis');
      await page.getByText('1 user of 2 match "thesis".').waitFor();
      await screenshot(page, 'users-page');
      await table.getByRole('link', { name: 'bob' }).click();
      await page.getByRole('heading', { level: 1, name: 'Repositories of bob' }).waitFor();
    });
  });

  it('the queue dashboard sends a browser without a session to sign in, then opens with no internet', async () => {
    await offline(async (page, outside) => {
      await page.goto(`${env.baseUrl}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe('/ops/queues');
      await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
      await page.getByRole('textbox', { name: 'API token' }).fill(env.tokens.ops);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Queues' }).waitFor();

      const [dashboard] = await Promise.all([
        page.context().waitForEvent('page'),
        page.getByRole('main').getByRole('link', { name: /queue dashboard/ }).click(),
      ]);
      await dashboard.waitForLoadState('load');
      expect(new URL(dashboard.url()).pathname).toBe('/admin/queues');
      await dashboard.getByText('github-events').first().waitFor();
      await screenshot(dashboard, 'queue-dashboard-offline');
      expect(outside).toEqual([]);
    });
  });
});
