import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '@gha-slurm/core/logger';
import { lazyRequestLogger } from './lazy-request-logger.ts';

function capturedLogger(level: 'info' | 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    name: 'lazy-test',
    level,
    format: 'json',
    destination: new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) }),
  }) as unknown as FastifyBaseLogger;
  // Counts the children really built, through the parent's own `child`.
  let children = 0;
  const counting = Object.create(logger) as FastifyBaseLogger;
  counting.child = (bindings, options) => (children++, logger.child(bindings, options));
  return { logger: counting, lines, children: () => children };
}

test('a request that logs nothing builds no child logger', () => {
  const { logger, children } = capturedLogger('info');
  const log = lazyRequestLogger(logger, { reqId: 'delivery-1' }, {});
  log.debug({ deliveryId: 'delivery-1' }, 'below the level');
  assert.equal(log.level, 'info');
  assert.equal(children(), 0);
});

test('lines logged through it carry the request id, and its children do too', () => {
  const { logger, lines, children } = capturedLogger('info');
  const log = lazyRequestLogger(logger, { reqId: 'delivery-2' }, {});
  log.error({ code: 'X' }, 'first');
  log.warn('second');
  log.child({ step: 'enqueue' }).info('third');
  assert.deepEqual(
    lines.map((line) => [line.msg, line.reqId, line.step]),
    [
      ['first', 'delivery-2', undefined],
      ['second', 'delivery-2', undefined],
      ['third', 'delivery-2', 'enqueue'],
    ],
  );
  assert.equal(lines[0]!.code, 'X');
  assert.equal(children(), 1, 'one child for the request, however many lines');
});

test('a route with its own log level gets a real child at once', () => {
  const { logger, lines } = capturedLogger('info');
  const log = lazyRequestLogger(logger, { reqId: 'delivery-3' }, { level: 'debug' });
  log.debug('now visible');
  assert.equal(lines[0]?.reqId, 'delivery-3');
});
