import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

test('secrets are redacted wherever the usual field names put them', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger({ name: 'test', destination });
  logger.info(
    {
      token: 'secret-1',
      launch: { launcherToken: 'secret-2', runner: { jitconfig: 'secret-3' } },
      req: { headers: { authorization: 'Bearer secret-4', 'x-hub-signature-256': 'sha256=secret-5', 'auth-token': 'secret-6' } },
      repository: 'octo/repo',
    },
    'granted',
  );
  const output = lines.join('');
  for (let i = 1; i <= 6; i++) assert.ok(!output.includes(`secret-${i}`), `secret-${i} leaked: ${output}`);
  assert.match(output, /octo\/repo/, 'ordinary fields are kept');
});

test("redaction copies what it changes and leaves the caller's objects alone", async () => {
  const { redactSecrets } = await import('./logger.ts');
  const headers = { authorization: 'Bearer s', accept: 'json' };
  const input = { req: { headers }, list: [{ token: 't' }, { ok: 1 }], plain: { a: 1 } };
  const output = redactSecrets(input) as typeof input;
  assert.equal(output.req.headers.authorization, '[redacted]');
  assert.equal(output.list[0]!.token, '[redacted]');
  assert.equal(headers.authorization, 'Bearer s', 'the original is untouched');
  assert.equal(output.plain, input.plain, 'untouched branches are shared, not copied');
  assert.equal(output.list[1], input.list[1]);
});

test('LOG_FORMAT=pretty writes one line of text per entry, secrets still redacted; json stays the default', async () => {
  const { logFormatOf, prettyLine } = await import('./logger.ts');
  const collect = () => {
    const lines: string[] = [];
    return { lines, destination: new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }) };
  };
  const pretty = collect();
  const logger = createLogger({ name: 'repo-api', destination: pretty.destination, format: 'pretty' });
  logger.info({ url: 'http://127.0.0.1:3003', token: 'secret-1', count: 2, reason: 'two words' }, 'listening');
  logger.error({ err: new Error('boom') }, 'request failed');
  await new Promise((resolve) => setImmediate(resolve));
  const text = pretty.lines.join('');
  assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} INFO  repo-api: listening url=http:\/\/127\.0\.0\.1:3003 token=\[redacted\] count=2 reason="two words"\n/);
  assert.match(text, /ERROR repo-api: request failed err="Error: boom"\n$/);
  assert.ok(!text.includes('secret-1'));
  assert.ok(!text.includes('{"level"'), 'no JSON in pretty output');

  const json = collect();
  createLogger({ name: 'repo-api', destination: json.destination, format: 'json' }).info('listening');
  assert.equal(JSON.parse(json.lines[0]!).msg, 'listening');

  assert.equal(logFormatOf(undefined), 'json');
  assert.equal(logFormatOf('Pretty'), 'pretty');
  assert.throws(() => logFormatOf('colour'), /LOG_FORMAT must be one of json, pretty \(got "colour"\)/);
  assert.equal(prettyLine('not json'), 'not json');
});
