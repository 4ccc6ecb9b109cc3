import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { testRedis } from '../testing/redis.ts';
import { loadConfig, githubBudgetVariables, commonVariables } from '../config.ts';
import { z } from 'zod';
import { GitHubBudget, GitHubBudgetAborted, GitHubBudgetWait, githubBudgetFromConfig } from './github-budget.ts';

const redisEnv = await testRedis('github-budget');
after(() => redisEnv.cleanup());

/** 600 points a minute: a POST bucket of 2 at once, then one about every 0.54 s. */
function budget(appId: string) {
  return new GitHubBudget({ redis: redisEnv.redis, prefix: redisEnv.prefix, appId, pointsPerMinute: 600, maxWaitMs: 10_000 });
}
const post = { method: 'POST', url: '/repos/{owner}/{repo}/actions/runners/registration-token', scope: 'installation:1' };

test('beyond the burst a call waits its turn; past the bound a slot is kept for its flight and taken by whoever asks for it then', async () => {
  const shared = budget('1');
  const other = budget('1'); // another replica, the same Redis
  for (let i = 0; i < 2; i++) {
    const permit = await shared.acquire(post);
    assert.equal(permit.joined, false);
  }
  const refused = await other.acquire({ ...post, flight: 'repo-a', maxWaitMs: 0 }).catch((error: unknown) => error);
  assert.ok(refused instanceof GitHubBudgetWait && refused.kept, String(refused));
  assert.ok(refused.waitMs > 0 && refused.waitMs <= 700, `kept slot in ${refused.waitMs} ms`);
  // Asked again (any replica) within the bound: the kept slot, not a new one behind others.
  const permit = await shared.acquire({ ...post, flight: 'repo-a', maxWaitMs: 5_000 });
  assert.ok(!permit.joined);
  // Its kept slot (due no later than it was told), not a new one behind it (a slot interval later).
  assert.ok(permit.slotInMs <= refused.waitMs, `slot in ${permit.slotInMs} ms, kept for ${refused.waitMs} ms`);
  await permit.finish();
});

test('a caller that gives up while waiting gives its slot back', async () => {
  const shared = budget('2');
  await shared.acquire(post);
  await shared.acquire(post);
  const controller = new AbortController();
  const waiting = shared.acquire(post, controller.signal);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(waiting, GitHubBudgetAborted);
  // Its slot went back: the next caller is not queued behind a dead one.
  const refused = await shared.acquire({ ...post, maxWaitMs: 0 }).catch((error: unknown) => error as GitHubBudgetWait);
  assert.ok(refused instanceof GitHubBudgetWait);
  assert.ok(refused.waitMs <= 600, `next slot in ${refused.waitMs} ms`);
});

test('a 429 with retry-after blocks every call of the App on every replica until then', async () => {
  const shared = budget('3');
  await shared.observe({ ...post, scope: 'app' }, 429, { 'retry-after': '2' });
  const refused = await budget('3').acquire({ method: 'GET', url: '/repos/{owner}/{repo}/installation', scope: 'app', maxWaitMs: 0 }).catch((error: unknown) => error);
  assert.ok(refused instanceof GitHubBudgetWait && !refused.kept);
  assert.ok(refused.retryAfterSeconds === 2, `retry after ${refused.retryAfterSeconds} s`);
});

test('x-ratelimit-remaining 0 empties the installation window until x-ratelimit-reset', async () => {
  const shared = budget('4');
  const reset = Math.floor(Date.now() / 1000) + 30;
  await shared.observe(post, 200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset), 'x-ratelimit-limit': '5000' });
  const refused = await shared.acquire({ method: 'GET', url: '/repos/{owner}/{repo}/actions/runners', scope: 'installation:1' }).catch((error: unknown) => error);
  assert.ok(refused instanceof GitHubBudgetWait, String(refused));
  assert.ok(refused.retryAfterSeconds >= 28 && refused.retryAfterSeconds <= 31, `retry after ${refused.retryAfterSeconds} s`);
  // Another installation has its own window.
  assert.equal((await shared.acquire({ method: 'GET', url: '/repos/{owner}/{repo}/actions/runners', scope: 'installation:2' })).joined, false);
});

test("every service's configuration lands on the App's one budget; a service may only shorten its wait", async () => {
  // What each service reads: the shared variables under its own schema, from one environment.
  const schema = z.object({ ...commonVariables, ...githubBudgetVariables, GITHUB_APP_ID: z.string() });
  const env = { REDIS_PREFIX: redisEnv.prefix, GITHUB_APP_ID: '5', GITHUB_POINTS_PER_MINUTE: '600', GITHUB_BUDGET_WAIT_SECONDS: '20' };
  const brokerBudget = githubBudgetFromConfig(redisEnv.redis, loadConfig(schema, env));
  const pageBudget = githubBudgetFromConfig(redisEnv.redis, loadConfig(schema, env), { maxWaitMs: 5000 });
  assert.equal(brokerBudget.maxWaitMs, 20_000);
  assert.equal(pageBudget.maxWaitMs, 5000);
  assert.equal(githubBudgetFromConfig(redisEnv.redis, loadConfig(schema, env), { maxWaitMs: 90_000 }).maxWaitMs, 20_000);
  // A secondary limit one of them met stops the others too.
  await brokerBudget.observe({ ...post, scope: 'app' }, 429, { 'retry-after': '3' });
  const refused = await pageBudget.acquire({ method: 'GET', url: '/app/installations', scope: 'app', maxWaitMs: 0 }).catch((error: unknown) => error);
  assert.ok(refused instanceof GitHubBudgetWait && refused.retryAfterSeconds === 3, String(refused));
});

test('the budget variables refuse what is not a positive whole number, by name', () => {
  const schema = z.object({ ...githubBudgetVariables });
  assert.throws(() => loadConfig(schema, { GITHUB_POINTS_PER_MINUTE: 'lots' }), /GITHUB_POINTS_PER_MINUTE/);
  assert.throws(() => loadConfig(schema, { GITHUB_BUDGET_WAIT_SECONDS: '0' }), /GITHUB_BUDGET_WAIT_SECONDS/);
});
