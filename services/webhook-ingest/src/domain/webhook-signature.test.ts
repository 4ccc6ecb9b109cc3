import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { webhookSignatureVerifier } from './webhook-signature.ts';

const SECRET = 'a webhook secret with ünïcode';
const body = Buffer.from(JSON.stringify({ action: 'queued', workflow_job: { name: 'build – ✓' } }), 'utf8');
const signatureOf = (secret: string, bytes: Buffer) => `sha256=${createHmac('sha256', secret).update(bytes).digest('hex')}`;

test('a body signed with the secret verifies, and agrees with @octokit/webhooks on it', async () => {
  const verify = webhookSignatureVerifier(SECRET);
  const signature = signatureOf(SECRET, body);
  assert.equal(verify(body, signature), true);
  assert.equal(await new Webhooks({ secret: SECRET }).verify(body.toString('utf8'), signature), true);
});

test('another secret, another body, a truncated, upper-case or sha1 signature do not verify', () => {
  const verify = webhookSignatureVerifier(SECRET);
  const signature = signatureOf(SECRET, body);
  assert.equal(verify(body, signatureOf('another secret', body)), false);
  assert.equal(verify(Buffer.concat([body, Buffer.from(' ')]), signature), false);
  assert.equal(verify(body, signature.slice(0, -2)), false);
  assert.equal(verify(body, `${signature}00`), false);
  // @octokit/webhooks compared the strings exactly, so upper-case hex never verified there either.
  assert.match(signature, /[a-f]/);
  assert.equal(verify(body, `sha256=${signature.slice(7).toUpperCase()}`), false);
  assert.equal(verify(body, `sha1=${signature.slice(7, 47)}`), false);
  assert.equal(verify(body, `sha256=${'z'.repeat(64)}`), false);
  assert.equal(verify(body, ''), false);
});

test('an empty secret is refused when the verifier is made, not at the first delivery', () => {
  assert.throws(() => webhookSignatureVerifier(''), /secret is required/);
});
