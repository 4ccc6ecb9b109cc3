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
