/**
 * What the browser tests run against: the built app served by repo-api, started as a process
 * the way an operator starts it (static API tokens for a user, a second user and an admin,
 * a fresh Redis prefix), and Debian's Chromium driven by playwright-core. No browser is ever
 * downloaded: the one installed at CHROMIUM_PATH (default /usr/bin/chromium) is used.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startService, type RunningService } from '@gha-slurm/core/testing/service-process';
import { testRedis } from '@gha-slurm/core/testing/redis';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const distDir = join(webDir, 'dist');
export const artifactsDir = join(webDir, 'test-artifacts');

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether to skip: only on a developer's machine without Chromium. Under CI a missing
 * browser is a failure (the launch below says what to install), never a silent skip.
 */
export function browserMissing(): string | null {
  if (existsSync(chromiumPath)) return null;
  const why = `no Chromium at ${chromiumPath}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`;
  if (process.env.CI) return null;
  console.warn(`web browser tests skipped: ${why}. Under CI they run (and fail without a browser).`);
  return why;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
}

export interface Tokens {
  alice: string;
  bob: string;
  ops: string;
}

export interface Environment {
  repoApi: RunningService;
  baseUrl: string;
  tokens: Tokens;
  redis: Awaited<ReturnType<typeof testRedis>>;
  stop(): Promise<void>;
}

/** repo-api with the static tokens below; `extraEnv` adds variables (OIDC, for one). */
export async function startEnvironment(extraEnv: Record<string, string> = {}): Promise<Environment> {
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(`the web app is not built (${distDir} has no index.html): run "npm run build -w web" first (npm run test:e2e does)`);
  }
  const redis = await testRedis('web-e2e');
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-web-e2e-'));
  const token = () => randomBytes(24).toString('base64url');
  const tokens: Tokens = { alice: token(), bob: token(), ops: token() };
  const tokensFile = join(dir, 'api-tokens.yaml');
  writeFileSync(
    tokensFile,
    [
      'tokens:',
      `  - token: "${tokens.alice}"`,
      '    username: alice',
      `  - token: "${tokens.bob}"`,
      '    username: bob',
      `  - token: "${tokens.ops}"`,
      '    username: ops',
      '    admin: true',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  let repoApi: RunningService;
  try {
    repoApi = await startService('repo-api', {
      env: {
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        API_TOKENS: tokensFile,
        WEB_DIST_DIR: distDir,
        LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
        ...extraEnv,
      },
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    await redis.cleanup();
    throw error;
  }
  return {
    repoApi,
    baseUrl: repoApi.url,
    tokens,
    redis,
    async stop() {
      await repoApi.stop();
      rmSync(dir, { recursive: true, force: true });
      await redis.cleanup();
    },
  };
}

/** Calls repo-api directly, as a script would, to set the scene. */
export async function callApi(env: Environment, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${env.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * A fresh browser context (its own sessionStorage and cookies) whose page fails the test on
 * script errors and on console errors other than the failed requests a test provokes. It
 * also notes every answer from repo-api (method, path, status; never a header or body), for
 * the story a failure tells.
 */
export async function openPage(browser: Browser, options: { viewport?: { width: number; height: number } } = {}) {
  const context: BrowserContext = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } });
  const page: Page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const requests: string[] = [];
  const started = Date.now();
  const note = (line: string) => requests.push(`+${Date.now() - started} ms ${line}`);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx answer as a console error; those are what some tests provoke.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => note(`${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`));
  page.on('requestfailed', (request) => note(`${request.method()} ${new URL(request.url()).pathname} failed: ${request.failure()?.errorText ?? 'unknown'}`));
  return { context, page, problems, requests };
}

/**
 * Runs one scenario in a fresh page and fails it on any page problem. A failure carries what
 * is needed to understand it from a CI log alone: the page's visible text, the requests it
 * made, and repo-api's last output lines.
 */
export async function withPage(
  browser: Browser,
  env: Environment,
  run: (page: Page) => Promise<void>,
  viewport?: { width: number; height: number },
) {
  const { context, page, problems, requests } = await openPage(browser, { viewport });
  try {
    await run(page);
    expect(problems).toEqual([]);
  } catch (error) {
    if (error instanceof Error) error.message += await describeFailure(page, requests, problems, env);
    throw error;
  } finally {
    await context.close();
  }
}

async function describeFailure(page: Page, requests: string[], problems: string[], env: Environment): Promise<string> {
  const shown = await page
    .locator('body')
    .innerText({ timeout: 2_000 })
    .catch((error: unknown) => `(could not be read: ${String(error)})`);
  await screenshot(page, 'failure').catch(() => undefined);
  return [
    '',
    `--- the page at ${page.url()} shows ---`,
    shown.slice(0, 3000),
    '--- its requests ---',
    ...requests.slice(-40),
    ...(problems.length ? ['--- page problems ---', ...problems] : []),
    '--- repo-api output (last lines) ---',
    env.repoApi.output().slice(-4000),
  ].join('\n');
}

export async function signIn(page: Page, baseUrl: string, token: string, path = '/') {
  await page.goto(`${baseUrl}${path}`);
  await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor();
  await page.getByRole('textbox', { name: 'API token' }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The Sign out button may be folded into the phone menu: wait for the sign-in page to go.
  await page.getByRole('heading', { name: 'Sign in to gha-slurm', exact: true }).waitFor({ state: 'detached' });
  await sessionCookie(page);
}

/** The session cookie the app asks repo-api for once signed in (for EventSource and the dashboard). */
export async function sessionCookie(page: Page, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const cookie = (await page.context().cookies()).find((candidate) => candidate.name === 'ghaslurm_session');
    if (cookie) return cookie;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the app did not obtain the session cookie (POST /api/session) after signing in');
}

export async function screenshot(page: Page, name: string) {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true });
}
