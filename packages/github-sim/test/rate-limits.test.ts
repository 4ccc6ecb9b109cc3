/**
 * The simulator enforces GitHub's documented limits when asked to, and answers as GitHub does:
 * secondary points per minute per endpoint (429 + retry-after), concurrent requests (403 +
 * retry-after), primary requests per hour per installation (403, x-ratelimit-remaining 0 and
 * the reset). Off by default.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateAppKeyPair } from '../src/app-keys.ts';
import { APP_ROUTES, RUNNER_ROUTES, startGitHubSim, type GitHubSim, type SimLimits } from '../src/github-sim.ts';

const keys = await generateAppKeyPair();
const sims: GitHubSim[] = [];
after(() => Promise.all(sims.map((sim) => sim.close())));

async function simWith(limits?: SimLimits) {
  const sim = await startGitHubSim({ app: { id: 99, publicKeyPem: keys.publicKeyPem }, ...(limits ? { limits } : {}) });
  sims.push(sim);
  const installation = sim.state.install({ account: 'octo', repositories: ['octo/a', 'octo/b'] });
  const token = sim.state.createInstallationToken(installation.id).token;
  const post = (repository: string) =>
    fetch(`${sim.url}/repos/${repository}/actions/runners/registration-token`, { method: 'POST', headers: { authorization: `token ${token}` } });
  const get = (repository: string) => fetch(`${sim.url}/repos/${repository}/actions/runners`, { headers: { authorization: `token ${token}` } });
  return { sim, installation, post, get };
}

test('points per minute per endpoint: a POST costs 5, beyond the minute 429 with retry-after; other endpoints keep theirs', async () => {
  const { sim, post, get } = await simWith({ pointsPerMinute: 10 });
  assert.equal((await post('octo/a')).status, 201);
  assert.equal((await post('octo/b')).status, 201);
  const refused = await post('octo/a');
  assert.equal(refused.status, 429);
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(retryAfter >= 59 && retryAfter <= 60, `retry-after ${retryAfter}`);
  assert.match(((await refused.json()) as { message: string }).message, /secondary rate limit/);
  // GETs cost 1 point, on their own endpoint.
  for (let i = 0; i < 10; i++) assert.equal((await get('octo/a')).status, 200);
  assert.equal((await get('octo/a')).status, 429);
  assert.deepEqual(
    sim.calls.list(RUNNER_ROUTES.registrationToken).map((call) => call.status),
    [201, 201, 429],
  );
  assert.deepEqual([...new Set(sim.limits.refusals.map((refusal) => refusal.limit))], ['points']);
});

test('concurrent requests beyond the limit: 403 with retry-after', async () => {
  const { sim, post } = await simWith({ concurrentRequests: 2 });
  sim.faults.add({ kind: 'slow', delayMs: 400, route: RUNNER_ROUTES.registrationToken });
  const statuses = (await Promise.all([post('octo/a'), post('octo/b'), post('octo/a')])).map((response) => response.status).sort();
  assert.deepEqual(statuses, [201, 201, 403]);
  assert.equal(sim.limits.refusals.at(-1)?.limit, 'concurrency');
  // Once they answered, there is room again.
  assert.equal((await post('octo/b')).status, 201);
});

test('requests per hour per installation: none left is 403 with x-ratelimit-remaining 0 and the reset; other credentials count apart', async () => {
  const { sim, post } = await simWith({ requestsPerHour: 3 });
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const response = await post('octo/a');
    assert.equal(response.status, 201);
    remaining.push(response.headers.get('x-ratelimit-remaining') ?? '');
  }
  assert.deepEqual(remaining, ['2', '1', '0']);
  const refused = await post('octo/a');
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
  assert.equal(refused.headers.get('x-ratelimit-limit'), '3');
  const reset = Number(refused.headers.get('x-ratelimit-reset'));
  assert.ok(reset > Date.now() / 1000 + 3500 && reset <= Date.now() / 1000 + 3601, `reset ${reset}`);
  assert.match(((await refused.json()) as { message: string }).message, /API rate limit exceeded for installation ID/);
  // Another credential has its own window: a call without one is GitHub's 401, not the limit's 403.
  const anonymous = await fetch(`${sim.url}/repos/octo/a/installation`);
  assert.equal(anonymous.status, 401);
  assert.equal(sim.calls.count(APP_ROUTES.repositoryInstallation), 1);
});

test('off by default: a burst is answered as before', async () => {
  const { post } = await simWith();
  const statuses = await Promise.all(Array.from({ length: 150 }, (_, i) => post(i % 2 ? 'octo/a' : 'octo/b').then((response) => response.status)));
  assert.deepEqual([...new Set(statuses)], [201]);
});
