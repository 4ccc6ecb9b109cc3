/**
 * A page closed while its `/api/events` request was still being signed in: the connection's
 * 'close' came before the stream existed to hear it. The stream must not count against the
 * user's streams (nor be written to) for the rest of the credential's life.
 *
 * The request is held in a hook until its client has gone, so the order is certain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from './support/harness.ts';
import { openEventStream } from './support/event-stream.ts';

let h: Harness;
/** Settles when the held request is let go, its client gone. */
let released: Promise<void>;

before(async () => {
  let held = false;
  let release!: () => void;
  released = new Promise((resolve) => (release = resolve));
  h = await startHarness({
    listen: true,
    sseStreamsPerUser: 1,
    beforeReady: (app) =>
      app.addHook('preHandler', async (request) => {
        if (held || !request.url.startsWith('/api/events')) return;
        held = true; // only the first stream request, the one whose page goes away
        const deadline = Date.now() + 10_000;
        while (!request.raw.socket?.destroyed && Date.now() < deadline) await sleep(10);
        release();
      }),
  });
});
after(() => h?.close());

test("a stream whose page was gone before it opened leaves the user's one stream free", async () => {
  await new Promise<void>((resolve) => {
    const client = httpRequest(`${h.url}/api/events`, { headers: h.as('alice') });
    client.on('error', () => resolve());
    client.on('close', () => resolve());
    client.end(() => setTimeout(() => client.destroy(), 100));
  });
  // The held request goes on once its client is gone; its handler runs right after the hook.
  await released;
  await sleep(50);
  const stream = await openEventStream(h.url, h.as('alice'));
  try {
    assert.equal(stream.response.statusCode, 200, 'the only stream alice may hold is hers to open');
  } finally {
    stream.close();
  }
});
