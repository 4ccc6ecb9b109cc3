import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchTokenFromAuthorization, MAX_LAUNCH_TOKEN_LENGTH } from './launch-authorization.ts';

const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

test('the token is taken raw or after Bearer, in any case, with surrounding space', () => {
  for (const header of [jwt, `Bearer ${jwt}`, `bearer ${jwt}`, `BEARER   ${jwt}  `, ` ${jwt}\t`]) {
    assert.deepEqual(launchTokenFromAuthorization(header), { ok: true, token: jwt }, header);
  }
});

test('no header is "missing"; anything not shaped like a signed JWT is "malformed"', () => {
  assert.equal(launchTokenFromAuthorization(undefined).ok, false);
  for (const header of [undefined, '', '   ']) {
    const result = launchTokenFromAuthorization(header);
    assert.ok(!result.ok && result.failure === 'missing', String(header));
  }
  const malformed = ['Bearer', 'Bearer ', `Basic ${jwt}`, `token ${jwt}`, 'a.b', 'a.b.c.d', `${jwt} ${jwt}`, 'a!.b.c', `${'a'.repeat(MAX_LAUNCH_TOKEN_LENGTH)}.b.c`];
  for (const header of malformed) {
    const result = launchTokenFromAuthorization(header);
    assert.ok(!result.ok && result.failure === 'malformed', header.slice(0, 30));
  }
});
