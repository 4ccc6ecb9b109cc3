import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { additionsOf, changeReason, judgeAdditions, judgeAdminAdditions, needsProof } from './repository-ownership.ts';

const names = (...inputs: string[]) => inputs.map((input) => parseRepositoryName(input));

test('only entries not already on the list are additions, compared case-insensitively', () => {
  assert.deepEqual(additionsOf(['octo/kept'], names('Octo/Kept', 'octo/new')).map((name) => name.fullName), ['octo/new']);
  assert.deepEqual(additionsOf(['octo/a', 'octo/b'], names('octo/a')), [], 'a removal adds nothing');
});

test('users prove their additions; admins do not, and the audit log says which happened', () => {
  assert.equal(needsProof({ username: 'alice', admin: false, via: 'token' }), true);
  assert.equal(needsProof({ username: 'ops', admin: true, via: 'oidc' }), false);
  assert.equal(changeReason({ username: 'ops', admin: true, via: 'token' }), 'admin');
  assert.equal(changeReason({ username: 'alice', admin: false, via: 'token' }), 'api');
  assert.equal(changeReason({ username: 'alice', admin: false, via: 'token' }, 'alice-gh'), 'api, GitHub admin alice-gh');
});

test('refusals name the repositories and what was missing', () => {
  const one = names('octo/app');
  const linkingOff = judgeAdditions(one, { kind: 'linking-off' }, 'alice');
  assert.equal(linkingOff.kind, 'refused');
  assert.match(linkingOff.kind === 'refused' ? linkingOff.message : '', /^octo\/app was not added: only admins can connect repositories here, because GitHub account linking is not configured \(GITHUB_CLIENT_ID/);

  const notLinked = judgeAdditions(names('octo/app', 'octo/lib'), { kind: 'not-linked' }, 'alice');
  assert.deepEqual(notLinked.kind === 'refused' && [notLinked.code, notLinked.message], [
    'GITHUB_NOT_LINKED',
    'octo/app and octo/lib were not added: no GitHub account is linked to your cluster account alice. Link your GitHub account ' +
      '(one that is an admin of each of them), then add them again; nothing was changed.',
  ]);

  const expired = judgeAdditions(one, { kind: 'link-expired', login: 'alice-gh', why: 'has expired and GitHub would not renew it' }, 'alice');
  assert.match(expired.kind === 'refused' ? `${expired.code} ${expired.message}` : '', /^GITHUB_LINK_EXPIRED octo\/app was not added: the authorization of your GitHub account alice-gh has expired .* Link your GitHub account again/);

  const notAdmin = judgeAdditions(names('octo/app', 'octo/mine', 'octo/ghost'), {
    kind: 'checked',
    login: 'alice-gh',
    repositories: [
      { fullName: 'Octo/App', permission: 'write' },
      { fullName: 'octo/mine', permission: 'admin' },
      { fullName: 'octo/ghost', permission: null },
    ],
  }, 'alice');
  assert.equal(notAdmin.kind, 'refused');
  const message = notAdmin.kind === 'refused' ? notAdmin.message : '';
  assert.equal(notAdmin.kind === 'refused' && notAdmin.code, 'NOT_REPOSITORY_ADMIN');
  assert.match(message, /^octo\/app and octo\/ghost were not added: your GitHub account alice-gh is not an admin of octo\/app \(it has write access\); /);
  assert.match(message, /GitHub shows your GitHub account alice-gh no repository octo\/ghost: it does not exist, or it is private and the GitHub App is not installed on it/);
  assert.doesNotMatch(message, /not an admin of octo\/ghost/);
  assert.doesNotMatch(message, /octo\/mine/);
  assert.match(message, /Nothing was changed\.$/);
});

test('every addition administered: allowed, naming the account that proved it; GitHub away: unavailable', () => {
  const check = { kind: 'checked' as const, login: 'alice-gh', repositories: [{ fullName: 'octo/app', permission: 'admin' as const }] };
  assert.deepEqual(judgeAdditions(names('octo/app'), check, 'alice'), { kind: 'allowed', verifiedBy: 'alice-gh' });
  const away = judgeAdditions(names('octo/app'), { kind: 'unavailable', why: 'GitHub answered 502' }, 'alice');
  assert.deepEqual(away, {
    kind: 'unavailable',
    message: 'GitHub could not be asked whether your GitHub account is an admin of octo/app (GitHub answered 502); nothing was changed. Try again shortly.',
  });
});

test('long lists of refusals are cut short', () => {
  const many = Array.from({ length: 8 }, (_, index) => `octo/r${index}`);
  const verdict = judgeAdditions(names(...many), { kind: 'checked', login: 'x', repositories: [] }, 'alice');
  assert.match(verdict.kind === 'refused' ? verdict.message : '', /^octo\/r0, octo\/r1, octo\/r2, octo\/r3, octo\/r4 and 3 more were not added: .*; and 3 more\. Check the name/);
});

test('additions GitHub shows nobody are refused as not found, definitely so where the App sees all of the owner\'s repositories', () => {
  const check = {
    kind: 'checked' as const,
    login: 'alice-gh',
    repositories: [
      { fullName: 'octo/typo', permission: null },
      { fullName: 'secret/private', permission: null, detail: 'GitHub: Resource protected by organization SAML enforcement' },
    ],
  };
  const verdict = judgeAdditions(names('octo/typo', 'secret/private'), check, 'alice', new Map([['octo/typo', 'missing' as const], ['secret/private', 'unknown' as const]]));
  assert.equal(verdict.kind === 'refused' && verdict.code, 'REPOSITORY_NOT_FOUND');
  const message = verdict.kind === 'refused' ? verdict.message : '';
  assert.match(message, /^octo\/typo and secret\/private were not added: octo\/typo does not exist on GitHub; /);
  assert.match(message, /GitHub shows your GitHub account alice-gh no repository secret\/private \(GitHub: Resource protected by organization SAML enforcement\): it does not exist, or it is private/);
  assert.match(message, /Check the name; nothing was changed\.$/);
  assert.doesNotMatch(message, /not an admin/);
});

test('an admin adds any repository but one GitHub says does not exist', () => {
  assert.deepEqual(judgeAdminAdditions(names('octo/app', 'elsewhere/private'), new Map([['octo/app', 'exists' as const], ['elsewhere/private', 'unknown' as const]])), {
    kind: 'allowed',
    verifiedBy: 'admin',
  });
  const refused = judgeAdminAdditions(names('octo/app', 'octo/tpyo'), new Map([['octo/app', 'exists' as const], ['octo/tpyo', 'missing' as const]]));
  assert.deepEqual(refused.kind === 'refused' && [refused.code, refused.message], [
    'REPOSITORY_NOT_FOUND',
    'octo/tpyo was not added: it does not exist on GitHub (the GitHub App is installed on every repository of its owner, and on no such one). Check the name; nothing was changed.',
  ]);
});
