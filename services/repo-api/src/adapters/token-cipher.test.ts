import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isEncryptionKey, TokenCipher, TokenCipherError } from './token-cipher.ts';

const secret = `ghu_${randomBytes(18).toString('hex')}`;

test('a sealed token opens with the same key and context, and shows nothing of the token', () => {
  const cipher = new TokenCipher(TokenCipher.generateKey());
  const sealed = cipher.seal(secret, 'github-token:alice');
  assert.match(sealed, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
  assert.ok(!sealed.includes(secret.slice(4, 12)));
  assert.equal(cipher.open(sealed, 'github-token:alice'), secret);
  assert.notEqual(cipher.seal(secret, 'github-token:alice'), sealed, 'a fresh nonce every time');
});

test('another key, another owner or a changed byte: refused, saying which', () => {
  const cipher = new TokenCipher(TokenCipher.generateKey());
  const sealed = cipher.seal(secret, 'github-token:alice');
  const reasonOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof TokenCipherError);
      assert.ok(!error.message.includes(secret));
      return error.reason;
    }
    assert.fail('expected a TokenCipherError');
  };
  assert.equal(reasonOf(() => new TokenCipher(TokenCipher.generateKey()).open(sealed, 'github-token:alice')), 'other-key');
  assert.equal(reasonOf(() => cipher.open(sealed, 'github-token:mallory')), 'corrupt', 'moved to another user');
  const parts = sealed.split('.');
  const flipped = Buffer.from(parts[3]!, 'base64url');
  flipped[0] = flipped[0]! ^ 1;
  assert.equal(reasonOf(() => cipher.open([...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.'), 'github-token:alice')), 'corrupt');
  assert.equal(reasonOf(() => cipher.open([...parts.slice(0, 4), parts[4]!.slice(0, 6)].join('.'), 'github-token:alice')), 'corrupt', 'a shortened tag');
  assert.equal(reasonOf(() => cipher.open(secret, 'github-token:alice')), 'corrupt');
});

test('the key must be 32 bytes in base64', () => {
  assert.ok(isEncryptionKey(randomBytes(32).toString('base64')));
  assert.ok(isEncryptionKey(randomBytes(32).toString('base64url')));
  assert.ok(!isEncryptionKey(randomBytes(31).toString('base64')));
  assert.ok(!isEncryptionKey(randomBytes(48).toString('base64')));
  assert.ok(!isEncryptionKey('correct horse battery staple, forty-four chr'));
  assert.ok(!isEncryptionKey(randomBytes(32).toString('hex')));
  assert.throws(() => new TokenCipher('short'), /32 random bytes/);
});
