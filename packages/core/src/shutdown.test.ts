import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';
import { shutDown } from './shutdown.ts';

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: 'shutdown-test',
    level: 'info',
    destination: new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) }),
  });
  return { logger, lines };
}

test('a step that never ends is given up on at the bound, named in the log, and the steps after it are not awaited', async () => {
  const { logger, lines } = recordingLogger();
  const ran: string[] = [];
  const outcome = await shutDown(
    [
      { name: 'HTTP server', close: () => void ran.push('HTTP server') },
      { name: 'queue workers', close: () => new Promise(() => ran.push('queue workers')) },
      { name: 'Redis', close: () => void ran.push('Redis') },
    ],
    { logger, timeoutMs: 200 },
  );
  assert.deepEqual(outcome, { kind: 'timed-out', waitingFor: 'queue workers', failed: [] });
  assert.deepEqual(ran, ['HTTP server', 'queue workers']);
  assert.ok(lines.some((line) => line.level === 50 && /still waiting for queue workers/.test(String(line.msg))));
});

test('a close that rejects or throws is logged with its name, the next steps still run, and nothing is left unhandled', async () => {
  const { logger, lines } = recordingLogger();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const ran: string[] = [];
    const outcome = await shutDown(
      [
        { name: 'queue', close: () => Promise.reject(new Error('Connection is closed.')) },
        { name: 'gateway client', close: () => { throw new Error('already destroyed'); } },
        { name: 'Redis', close: () => void ran.push('Redis') },
      ],
      { logger, timeoutMs: 5000 },
    );
    assert.deepEqual(outcome, { kind: 'failed', failed: ['queue', 'gateway client'] });
    assert.deepEqual(ran, ['Redis']);
    const errors = lines.filter((line) => line.level === 50);
    assert.deepEqual(errors.map((line) => line.msg), ['closing queue failed', 'closing gateway client failed']);
    assert.equal((errors[0]!.err as { message: string }).message, 'Connection is closed.');

    // A step given up on that fails later is logged too, not left to crash the process.
    const late = await shutDown(
      [{ name: 'slow close', close: () => new Promise((_resolve, reject) => setTimeout(() => reject(new Error('late failure')), 100)) }],
      { logger, timeoutMs: 10 },
    );
    assert.equal(late.kind, 'timed-out');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(lines.some((line) => line.msg === 'close failed after the shutdown gave up on it'));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('every step closing cleanly is a clean outcome', async () => {
  const { logger } = recordingLogger();
  assert.deepEqual(await shutDown([{ name: 'a', close: async () => undefined }, { name: 'b', close: () => undefined }], { logger, timeoutMs: 1000 }), {
    kind: 'clean',
  });
});
