/**
 * `/api/events` streams live no longer than their credential: sign-out (on any replica) ends a
 * session's streams at once, the periodic re-check ends a stream whose token expired or whose
 * session is gone, and one user may hold only so many streams.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSessionStore } from '../src/adapters/session.store.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { openEventStream, type EventStream } from './support/event-stream.ts';
import { startOidcIssuer, type OidcIssuer } from './support/oidc-issuer.ts';

let issuer: OidcIssuer;
/** The re-check every 30 s, as deployed: what ends a stream quickly here is the sign-out. */
let replicaA: Harness;
let replicaB: Harness;
/** Re-checks every 100 ms, so expiry shows within the test. */
let quick: Harness;

before(async () => {
  issuer = await startOidcIssuer();
  replicaA = await startHarness({ listen: true });
  replicaB = await startHarness({ listen: true, replicaOf: replicaA });
  quick = await startHarness({ listen: true, oidc: issuer, sseRecheckMs: 100, sseStreamsPerUser: 2 });
});

after(async () => {
  await replicaB.close();
  await replicaA.close();
  await quick.close();
  await issuer.close();
});

async function sessionCookie(h: Harness, who: string): Promise<string> {
  const response = await fetch(`${h.url}/api/session`, { method: 'POST', headers: h.as(who) });
  assert.equal(response.status, 200);
  return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
}

async function endsWith(stream: EventStream, reason: string, timeoutMs = 5000) {
  await stream.waitFor(() => stream.ends.length > 0, `the stream to end (${reason})`, timeoutMs);
  assert.deepEqual(stream.ends, [{ reason }]);
  await stream.ended;
}

test('signing out on one replica ends that session\'s stream on another at once; other streams stay', async () => {
  const cookie = await sessionCookie(replicaA, 'alice');
  const bySession = await openEventStream(replicaA.url, { cookie });
  const byToken = await openEventStream(replicaA.url, replicaA.as('alice'));
  try {
    assert.equal(bySession.response.statusCode, 200);
    const signOut = await fetch(`${replicaB.url}/api/session`, { method: 'DELETE', headers: { cookie } });
    assert.equal(signOut.status, 204);
    // Well before the 30 s re-check: only the sign-out can have ended it.
    await endsWith(bySession, 'signed-out', 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(byToken.ends, [], 'the bearer stream of the same user is not a signed-out session');
    assert.equal(byToken.response.destroyed, false);
  } finally {
    bySession.close();
    byToken.close();
  }
});

test('the periodic re-check ends a stream whose token has expired', async () => {
  const token = await issuer.token({ preferred_username: 'carol' }, { expiresIn: 2 });
  const stream = await openEventStream(quick.url, { authorization: `Bearer ${token}` });
  try {
    assert.equal(stream.response.statusCode, 200);
    await endsWith(stream, 'expired', 10_000);
  } finally {
    stream.close();
  }
});

test('the periodic re-check ends a stream whose session is gone (expired in Redis, or ended elsewhere)', async () => {
  const cookie = await sessionCookie(quick, 'alice');
  const stream = await openEventStream(quick.url, { cookie });
  try {
    assert.equal(stream.response.statusCode, 200);
    // As when the session's key expires: nobody signs out, so only the re-check can notice.
    await new RedisSessionStore(quick.redis, quick.prefix).delete(cookie.split('=')[1]!);
    await endsWith(stream, 'signed-out');
  } finally {
    stream.close();
  }
});

test('a user holds at most the configured number of streams; others are not affected, and a closed one frees its place', async () => {
  const first = await openEventStream(quick.url, quick.as('alice'));
  const second = await openEventStream(quick.url, quick.as('alice'));
  let third: EventStream | undefined;
  const bob = await openEventStream(quick.url, quick.as('bob'));
  try {
    assert.equal(first.response.statusCode, 200);
    assert.equal(second.response.statusCode, 200);
    const refused = await fetch(`${quick.url}/api/events`, { headers: quick.as('alice') });
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { code: string }).code, 'TOO_MANY_STREAMS_FOR_USER');
    assert.equal(bob.response.statusCode, 200, 'another user still opens one');

    first.close();
    const deadline = Date.now() + 5000;
    do {
      third?.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      third = await openEventStream(quick.url, quick.as('alice'));
    } while (third.response.statusCode === 429 && Date.now() < deadline);
    assert.equal(third.response.statusCode, 200);
  } finally {
    for (const stream of [first, second, third, bob]) stream?.close();
  }
});
