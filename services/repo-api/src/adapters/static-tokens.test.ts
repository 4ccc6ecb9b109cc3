import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStaticTokens, StaticTokenAuthenticator, StaticTokensError } from './static-tokens.ts';

const file = `
tokens:
  - token: "alice-token-0123456789"
    username: alice
  - token: "ops-token-0123456789abc"
    username: ops
    admin: true
`;

test('a token signs in as its user, with the admin flag', async () => {
  const tokens = new StaticTokenAuthenticator(parseStaticTokens(file, 'tokens.yaml'));
  assert.deepEqual(await tokens.authenticate('alice-token-0123456789'), {
    kind: 'authenticated',
    principal: { username: 'alice', admin: false, via: 'token' },
  });
  assert.deepEqual(await tokens.authenticate('ops-token-0123456789abc'), {
    kind: 'authenticated',
    principal: { username: 'ops', admin: true, via: 'token' },
  });
});

test('an unknown token, a prefix of a token, or a token with more is refused, and the reason never repeats it', async () => {
  const tokens = new StaticTokenAuthenticator(parseStaticTokens(file, 'tokens.yaml'));
  for (const candidate of ['nope', 'alice-token-012345678', 'alice-token-01234567890', '']) {
    const result = await tokens.authenticate(candidate);
    assert.equal(result.kind, 'rejected');
    assert.ok(result.kind === 'rejected' && !result.reason.includes('alice-token'));
  }
});

test('problems in the file are all reported, naming entries by position and user, never by token', () => {
  const text = `
tokens:
  - token: "short"
    username: alice
  - token: "a-secret-value-long-enough"
    username: Bob
  - token: "another-secret-long-enough"
    username: carol
    admin: "yes"
  - token: "another-secret-long-enough"
    username: dave
  - token: "yet-another-secret-value"
    username: erin
    role: admin
`;
  assert.throws(() => parseStaticTokens(text, 'tokens.yaml'), (error: unknown) => {
    assert.ok(error instanceof StaticTokensError);
    assert.equal(error.problems.length, 5, error.problems.join('\n'));
    assert.match(error.problems[0]!, /^tokens\[0\] \(alice\): token must be/);
    assert.match(error.problems[1]!, /^tokens\[1\] \(Bob\): username must be a cluster account name/);
    assert.match(error.problems[2]!, /^tokens\[2\] \(carol\): admin must be true or false/);
    assert.match(error.problems[3]!, /^tokens\[3\] \(dave\): the same token appears twice/);
    assert.match(error.problems[4]!, /^tokens\[4\] \(erin\): unknown field\(s\) role/);
    assert.ok(!error.message.includes('secret'), 'no token in the message');
    return true;
  });
  assert.throws(() => parseStaticTokens('users: []', 'tokens.yaml'), /expected a "tokens:" list/);
  assert.throws(() => parseStaticTokens('tokens: [', 'tokens.yaml'), /not valid YAML/);
  assert.throws(() => StaticTokenAuthenticator.fromFile('/nonexistent/tokens.yaml'), /cannot read it \(ENOENT\)/);
});
