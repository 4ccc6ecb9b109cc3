#!/usr/bin/env node
// Runs every *.test.ts of the workspace with Node's test runner (through tsx), because
// Node 20's `--test` does not expand globs itself. Extra arguments narrow the run to files
// whose path contains one of them: `npm test -- ingest`.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'services', 'scripts', 'tests'];
const filters = process.argv.slice(2);

const files = roots
  .flatMap((dir) => {
    try {
      return readdirSync(join(root, dir), { recursive: true }).map((file) => join(dir, String(file)));
    } catch {
      return [];
    }
  })
  .filter((file) => file.endsWith('.test.ts') && !file.includes('node_modules'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The end-to-end tests start every service and both simulators; run them one file at a time
// after the rest, so they do not compete with each other for the machine's cores.
const endToEnd = files.filter((file) => file.startsWith('tests/'));
const others = files.filter((file) => !file.startsWith('tests/'));
const run = (group, concurrency) =>
  group.length === 0
    ? { status: 0 }
    : spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...group], {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
      });
const first = run(others, 2);
const second = run(endToEnd, 1);
const result = { status: first.status === 0 && second.status === 0 ? 0 : 1 };
console.log(`\nran ${files.length} test files: ${files.map((file) => relative(root, join(root, file))).join(', ')}`);
process.exit(result.status ?? 1);
