/**
 * `npm run bench:cold-grants`: cold grants per second (each repository's first grant needs a
 * registration-token POST to GitHub) against the simulated GitHub's configured budget, its
 * limits enforced, through three broker replicas on one Redis (in this process), runners
 * retrying on 503 as the job script does. The baseline is the budget itself (POSTs a second
 * the simulator allows on the endpoint); goal (issue 16): at least 0.9x of it, with no 403/429.
 *
 * Options: --repositories <n> (600), --posts-per-minute <n> (1200), --runners <n> (100),
 *          --json <file> (also write the figures as JSON)
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUNNER_ROUTES } from '@gha-slurm/github-sim/github-sim';
import { startHarness } from '../../services/token-broker/test/support/broker-harness.ts';
import { figure, writeFigures } from '../figures.ts';

const { values: args } = parseArgs({
  options: {
    repositories: { type: 'string', default: '600' },
    'posts-per-minute': { type: 'string', default: '1200' },
    runners: { type: 'string', default: '100' },
    json: { type: 'string' },
  },
});
const count = Number(args.repositories);
const postsPerMinute = Number(args['posts-per-minute']);
const runnerCount = Number(args.runners);
const GOAL_RATIO = 0.9;

const repositories = Array.from({ length: count }, (_, i) => `cold-${i % 20}/repo-${i}`);
const h = await startHarness({
  installRepositories: repositories,
  simLimits: { pointsPerMinute: postsPerMinute * 5, concurrentRequests: 100, requestsPerHour: 5000 },
  env: { GITHUB_POINTS_PER_MINUTE: String(postsPerMinute * 5), LOG_LEVEL: 'error' },
});
try {
  const replicas = [await h.app.listen({ host: '127.0.0.1', port: 0 })];
  for (let i = 0; i < 2; i++) replicas.push(await (await h.otherBroker({})).listen({ host: '127.0.0.1', port: 0 }));
  console.log(`bench:cold-grants: ${count} repositories, GitHub budget ${postsPerMinute} POSTs/min (${(postsPerMinute / 60).toFixed(1)}/s), ${runnerCount} runners, 3 replicas`);
  const launches = await Promise.all(repositories.map((repository) => h.launch({ repository })));
  let next = 0;
  let retries = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: runnerCount }, async (_, slot) => {
      while (next < launches.length) {
        const launch = launches[next++]!;
        for (let attempt = 0; ; attempt++) {
          const response = await fetch(`${replicas[(slot + attempt) % replicas.length]}/gha/runner`, { method: 'POST', headers: { authorization: launch.token } });
          await response.arrayBuffer();
          if (response.status === 200) break;
          if (response.status !== 503) throw new Error(`grant answered ${response.status}`);
          retries += 1;
          await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const grantsPerSecond = count / seconds;
  const budgetPerSecond = postsPerMinute / 60;
  const refused = h.sim.calls.list().filter((call) => call.status === 403 || call.status === 429).length;
  const posts = h.sim.calls.count(RUNNER_ROUTES.registrationToken);
  const ratio = grantsPerSecond / budgetPerSecond;
  console.log(`cold grants/s:   ${grantsPerSecond.toFixed(2)} (${count} in ${seconds.toFixed(1)} s, ${retries} retries after 503)`);
  console.log(`GitHub budget/s: ${budgetPerSecond.toFixed(2)}   ratio ${ratio.toFixed(3)}x   goal >= ${GOAL_RATIO}x: ${ratio >= GOAL_RATIO ? 'met' : 'NOT met'}`);
  console.log(`GitHub: ${posts} registration POSTs, ${refused} answers 403/429; load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  writeFigures(args.json, [
    figure({
      benchmark: 'cold-grants',
      figure: 'cold grants/s',
      value: grantsPerSecond,
      unit: '/s',
      baseline: { name: "GitHub's budget, POSTs/s", value: budgetPerSecond },
      goal: `>= ${GOAL_RATIO}x, no 403/429`,
      met: ratio >= GOAL_RATIO && refused === 0,
      notes: `${posts} registration POSTs, ${refused} answers 403/429, ${retries} retries after 503, load ${loadavg()[0]!.toFixed(2)}`,
    }),
  ]);
  if (refused > 0) process.exitCode = 2;
} finally {
  await h.close();
}
