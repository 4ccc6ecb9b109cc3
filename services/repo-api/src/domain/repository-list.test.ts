import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRepositoryList, describeProblems, fullNameOfUrl } from './repository-list.ts';

test('normalises, keeps the first spelling of each repository and drops case-insensitive duplicates', () => {
  const check = checkRepositoryList(['Octo/App', 'https://github.com/octo/app', 'octo/lib.git', 'OCTO/LIB'], 'https://github.com');
  assert.equal(check.kind, 'valid');
  if (check.kind !== 'valid') return;
  assert.deepEqual(check.repositories.map((repository) => repository.url), ['https://github.com/Octo/App', 'https://github.com/octo/lib']);
  assert.deepEqual(check.repositories.map((repository) => repository.key), ['octo/app', 'octo/lib']);
});

test('every bad entry is reported with its position, and the list is not used', () => {
  const check = checkRepositoryList(['ok/one', '', 'https://example.com/a/b', 'x'], 'https://github.com');
  assert.equal(check.kind, 'invalid');
  if (check.kind !== 'invalid') return;
  assert.deepEqual(check.problems.map((problem) => problem.index), [1, 2, 3]);
  const message = describeProblems(check.problems);
  assert.match(message, /^repositories\[1\] "": it is empty; repositories\[2\] "https:\/\/example.com\/a\/b": the host must be github.com; /);
});

test('a GitHub Enterprise Server address is honoured', () => {
  const check = checkRepositoryList(['https://ghe.example.org/team/app'], 'https://ghe.example.org');
  assert.equal(check.kind, 'valid');
  assert.equal(checkRepositoryList(['https://github.com/team/app'], 'https://ghe.example.org').kind, 'invalid');
});

test('more than 1,000 distinct repositories are too many; duplicates do not count', () => {
  const thousand = Array.from({ length: 1000 }, (_, index) => `o/r${index}`);
  assert.equal(checkRepositoryList([...thousand, 'O/R0'], 'https://github.com').kind, 'valid');
  assert.deepEqual(checkRepositoryList([...thousand, 'o/extra'], 'https://github.com'), { kind: 'too-many', count: 1001, max: 1000 });
});

test('long problem lists are cut short', () => {
  const problems = Array.from({ length: 15 }, (_, index) => ({ index, input: 'x', why: 'expected owner/name' }));
  assert.match(describeProblems(problems), /; and 5 more$/);
});

test('fullNameOfUrl reads owner/name back from a stored URL', () => {
  assert.equal(fullNameOfUrl('https://github.com/Octo/App'), 'Octo/App');
  assert.equal(fullNameOfUrl('https://ghe.example.org/team/app'), 'team/app');
});
