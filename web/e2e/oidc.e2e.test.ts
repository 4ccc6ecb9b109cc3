/**
 * Single sign-on in a real browser: the authorization code flow with PKCE against an OIDC
 * provider on loopback, with repo-api configured for it (and static tokens still on). The
 * provider's ID token is for the web client and its access token for the API, as with
 * Keycloak and an API audience: the app must find the token repo-api accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { RepositoryList } from '@gha-slurm/core/api/types';
import { browserMissing, callApi, launchBrowser, screenshot, startEnvironment, withPage, type Environment } from './support/environment.ts';
import { startOidcProvider, type OidcProvider } from './support/oidc-provider.ts';

const skip = browserMissing();

describe.skipIf(skip !== null)('single sign-on in Chromium', () => {
  let provider: OidcProvider;
  let env: Environment;
  let browser: Browser;

  beforeAll(async () => {
    provider = await startOidcProvider({
      clientId: 'gha-slurm-web',
      apiAudience: 'gha-slurm-api',
      person: { username: 'carol', groups: ['hpc-admins'] },
    });
    env = await startEnvironment({
      OIDC_ISSUER: provider.issuer,
      OIDC_AUDIENCE: 'gha-slurm-api',
      OIDC_CLIENT_ID: 'gha-slurm-web',
      OIDC_ADMIN_GROUP: 'hpc-admins',
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await env?.stop();
    await provider?.close();
  });

  it('signs in through the provider with PKCE, returns to the page asked for, and uses the API as that person', async () => {
    await withPage(browser, env, async (page) => {
      await page.goto(`${env.baseUrl}/jobs`);
      await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
      // Both ways in are offered when both are configured.
      await page.getByRole('textbox', { name: 'API token' }).waitFor();
      await page.getByRole('button', { name: 'Sign in with your organisation account' }).click();

      await page.getByRole('heading', { name: 'Jobs', exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/jobs');
      expect(page.url()).not.toContain('code=');
      expect(provider.authorizeRequests).toHaveLength(1);
      expect(provider.authorizeRequests[0]).toMatchObject({
        clientId: 'gha-slurm-web',
        redirectUri: `${env.baseUrl}/auth/callback`,
        codeChallengeMethod: 'S256',
        hasCodeChallenge: true,
        scope: 'openid profile email',
      });
      expect(provider.tokenRequests).toBe(1);

      const who = await page.locator('.who').innerText();
      expect(who).toContain('carol');
      expect(who).toContain('admin');
      // The session cookie made from the OIDC token opens the live stream.
      await page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor();

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My repositories' }).click();
      // The jobs page has a "Repository" field too (its filter): type only once the route changed.
      await page.getByRole('heading', { name: 'My repositories', exact: true }).waitFor();
      const addForm = page.getByRole('form', { name: 'Add a repository' });
      await addForm.getByRole('textbox', { name: 'Repository' }).fill('carol-lab/simulation');
      await addForm.getByRole('button', { name: 'Add' }).click();
      await page.getByText('Added carol-lab/simulation.').waitFor();
      await screenshot(page, 'oidc-repositories');

      // A reload keeps the person signed in (the library keeps the tokens for the tab).
      await page.reload();
      await page.getByRole('list', { name: 'Repositories of carol' }).getByRole('link', { name: 'carol-lab/simulation' }).waitFor();

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
    });
    const stored = await callApi(env, env.tokens.ops, 'GET', '/repositories/carol');
    expect((stored.body as RepositoryList).repositories.map((entry) => entry.url)).toEqual(['https://github.com/carol-lab/simulation']);
  });
});
