import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createLogger } from '@gha-slurm/core/logger';
import { lazyChildLoggerFactory } from './lazy-request-logger.ts';

test('request loggers write with the request id at enabled levels only, and still redact', async () => {
  const lines: string[] = [];
  const logger = createLogger({ name: 'lazy', level: 'info', destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) });
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, childLoggerFactory: lazyChildLoggerFactory });
  app.get('/', async (request) => {
    request.log.debug('hidden');
    request.log.info({ authorization: 'secret-value', launchId: 'l-1' }, 'shown');
    request.log.child({ step: 'inner' }).warn('nested');
    return { level: request.log.level };
  });
  const response = await app.inject('/');
  assert.deepEqual(response.json(), { level: 'info' });
  const written = lines.map((line) => JSON.parse(line)).filter((line) => line.msg !== 'incoming request' && line.msg !== 'request completed');
  assert.deepEqual(written.map((line) => line.msg), ['shown', 'nested']);
  assert.ok(written.every((line) => line.reqId === 'req-1'));
  assert.equal(written[0].authorization, '[redacted]');
  assert.equal(written[1].step, 'inner');
  await app.close();
});
