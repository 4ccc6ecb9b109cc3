import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerChangesOf } from './mapping-change.ts';

test('a repository on only one of the lists changed hands; case and a trailing slash do not make a change', () => {
  assert.deepEqual(
    ownerChangesOf({
      user: 'alice',
      before: ['https://github.com/Lab/Moving', 'https://github.com/lab/stays'],
      after: ['https://github.com/LAB/stays/', 'https://ghe.example.org/lab/new'],
    }),
    [{ repository: 'Lab/Moving', formerUser: 'alice' }, { repository: 'lab/new' }],
  );
  assert.deepEqual(ownerChangesOf({ user: 'bob', before: [], after: ['not a url'] }), []);
});
