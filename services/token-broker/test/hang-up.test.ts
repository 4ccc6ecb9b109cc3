/**
 * A runner that hangs up before its request is handled (a busy broker reaches the handler
 * late): its connection's 'close' came before the handler could listen for it, and no GitHub
 * call may be made for it all the same. Found by the cold-burst test in a loaded CI run, where
 * one runner that had hung up still got its repository's registration-token call.
 *
 * The request is held in a hook until the client has gone, so the order is certain, not a race.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUNNER_ROUTES } from '@gha-slurm/github-sim/github-sim';
import { startHarness, type Harness } from './support/broker-harness.ts';

const REPO = 'octo/hung-up';
let h: Harness;
let url: string;

before(async () => {
  h = await startHarness({ installRepositories: [REPO] });
  let held = false;
  h.app.addHook('preHandler', async (request) => {
    if (held) return; // only the first request, the one that hangs up
    held = true;
    const deadline = Date.now() + 10_000;
    while (!request.raw.socket?.destroyed && Date.now() < deadline) await sleep(10);
  });
  url = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => h?.close());

test('a runner gone before its request is handled costs no GitHub call, and its launch stays grantable', async () => {
  const { token, claims } = await h.launch({ repository: REPO });
  // Send, then hang up once the broker has the whole request (the hook holds it).
  await new Promise<void>((resolve) => {
    const client = httpRequest(`${url}/gha/runner`, { method: 'POST', headers: { authorization: token, 'content-length': '0' } });
    client.on('error', () => resolve());
    client.on('close', () => resolve());
    client.end(() => setTimeout(() => client.destroy(), 100));
  });
  // The grant ends by writing its outcome on the launch: a GitHub call it made would be done by then.
  const outcome = async () => (await h.launches.get(claims.sub))?.events.find((event) => event.kind.startsWith('token-'));
  const deadline = Date.now() + 15_000;
  while (!(await outcome()) && Date.now() < deadline) await sleep(20);
  assert.deepEqual(await outcome().then((event) => event && { kind: event.kind, detail: event.detail }), { kind: 'token-failed', detail: 'the runner gave up waiting' });
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.registrationToken, { repository: REPO }), 0, 'no registration-token call for a runner that hung up');
  // Its reservation was given back: the runner's next attempt is served.
  const again = await h.post('/gha/runner', token);
  assert.equal(again.statusCode, 200, again.body);
  assert.equal(again.json().name, claims.runnerName);
});
