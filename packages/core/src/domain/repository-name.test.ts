import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GitHubComLinkElsewhere, InvalidRepositoryName, parseRepositoryName } from './repository-name.ts';

test('owner/name and URLs normalise to one canonical URL and a lower-case key', () => {
  for (const input of ['Octo-Org/Hello.World', 'https://github.com/Octo-Org/Hello.World', 'https://GitHub.com/Octo-Org/Hello.World.git', ' https://github.com/Octo-Org/Hello.World/ ']) {
    const name = parseRepositoryName(input);
    assert.equal(name.url, 'https://github.com/Octo-Org/Hello.World', input);
    assert.equal(name.key, 'octo-org/hello.world');
  }
});

test('GitHub Enterprise Server addresses are honoured', () => {
  const name = parseRepositoryName('https://ghe.example.org/team/tool', 'https://ghe.example.org/');
  assert.equal(name.url, 'https://ghe.example.org/team/tool');
  assert.throws(() => parseRepositoryName('https://gitlab.com/team/tool', 'https://ghe.example.org'), /host must be ghe.example.org/);
});

test('a github.com link given to another GitHub is recognised as such, and the expected host is named', () => {
  for (const input of ['https://github.com/team/tool', 'https://www.GitHub.com/team/tool.git/']) {
    assert.throws(() => parseRepositoryName(input, 'https://github.example.edu'), (error: unknown) => {
      assert.ok(error instanceof GitHubComLinkElsewhere, input);
      // Still an invalid name to every caller that only knows InvalidRepositoryName.
      assert.ok(error instanceof InvalidRepositoryName, input);
      assert.equal(error.expectedHost, 'github.example.edu');
      assert.equal(error.why, 'it is a github.com link, but this installation expects repositories on github.example.edu (if the repository is there, enter team/tool)');
      assert.equal(error.message, `"${input}" is a github.com link, but this installation expects repositories on github.example.edu`);
      assert.doesNotMatch(error.message, /not a GitHub repository/);
      return true;
    });
  }
  // No owner/name to suggest when the link is not a repository's.
  assert.throws(() => parseRepositoryName('https://github.com/team', 'https://github.example.edu:8443'), (error: unknown) => {
    assert.ok(error instanceof GitHubComLinkElsewhere);
    assert.equal(error.why, 'it is a github.com link, but this installation expects repositories on github.example.edu:8443');
    return true;
  });
  // On github.com itself nothing changes.
  assert.equal(parseRepositoryName('https://github.com/team/tool').url, 'https://github.com/team/tool');
});

test('bad names say what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['just-a-name', /expected owner\/name/],
    ['a/b/c', /expected owner\/name/],
    ['-bad/repo', /not a valid owner/],
    ['owner/re po', /not a valid repository name/],
    ['owner/..', /not a valid repository name/],
    ['https://gitlab.com/owner/repo', /host must be github.com/],
    ['https://github.com/owner/repo?x=1', /query/],
    ['https://user:pw@github.com/owner/repo', /credentials/],
    ['http://[bad/owner/repo', /not a valid URL/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseRepositoryName(input), (error: unknown) => {
      assert.ok(error instanceof InvalidRepositoryName, input);
      assert.match(error.message, message, input);
      return true;
    });
  }
});
