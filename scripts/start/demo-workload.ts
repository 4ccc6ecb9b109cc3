/**
 * The demo's traffic: connects the demo user's repositories through repo-api (as the admin),
 * then keeps jobs arriving on the simulated GitHub, with what real life brings: jobs for the
 * bigger profile, jobs no profile serves (GPU), a repository nobody connected, an environment
 * approval, and cancellations.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const DEMO_OWNER = 'demo-lab';
export const DEMO_REPOSITORIES = ['climate-model', 'genomics-pipeline', 'lattice-qcd'];
export const UNCONNECTED_REPOSITORY = 'student-project';

interface WorkloadSettings {
  simUrl: string;
  apiUrl: string;
  adminToken: string;
  user: string;
  log: (message: string) => void;
  signal: AbortSignal;
  /** Seconds between jobs are multiplied by this (a real Slurm node runs fewer at once); default 1. */
  pace?: number;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response.json().catch(() => ({})) as Promise<Record<string, unknown>>;
}

async function waitUntilUp(url: string, signal: AbortSignal) {
  while (!signal.aborted) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await sleep(300, undefined, { signal }).catch(() => {});
  }
}

const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

export async function runDemoWorkload(settings: WorkloadSettings): Promise<void> {
  const { simUrl, apiUrl, signal } = settings;
  await waitUntilUp(`${apiUrl}/readyz`, signal);
  await waitUntilUp(`${simUrl}/_sim/workflow-jobs`, signal);
  if (signal.aborted) return;
  await post(
    `${apiUrl}/repositories/${settings.user}`,
    { repositories: DEMO_REPOSITORIES.map((name) => `${DEMO_OWNER}/${name}`) },
    { authorization: `Bearer ${settings.adminToken}` },
  );
  settings.log(`connected ${DEMO_REPOSITORIES.map((name) => `${DEMO_OWNER}/${name}`).join(', ')} to ${settings.user}; ${DEMO_OWNER}/${UNCONNECTED_REPOSITORY} stays unconnected`);

  const names = ['build', 'test (py3.12)', 'test (py3.13)', 'lint', 'docs', 'benchmark'];
  let count = 0;
  while (!signal.aborted) {
    count += 1;
    const roll = Math.random();
    const repository =
      roll < 0.08 ? `${DEMO_OWNER}/${UNCONNECTED_REPOSITORY}` : `${DEMO_OWNER}/${pick(DEMO_REPOSITORIES)}`;
    const labels =
      roll < 0.16 && roll >= 0.08
        ? ['self-hosted', 'gpu']
        : roll < 0.3
          ? ['self-hosted', 'slurm', 'linux', 'x64', '32gb']
          : ['self-hosted', 'slurm', 'linux'];
    const waiting = roll > 0.95;
    try {
      const job = await post(`${simUrl}/_sim/workflow-jobs`, { repository, labels, name: pick(names), waiting });
      const id = Number(job.id);
      if (waiting) {
        setTimeout(() => void post(`${simUrl}/_sim/workflow-jobs/${id}/approve`, {}).catch(() => {}), 8000);
      } else if (Math.random() < 0.1) {
        setTimeout(() => void post(`${simUrl}/_sim/workflow-jobs/${id}/cancel`, {}).catch(() => {}), 500 + Math.random() * 6000);
      }
    } catch (error) {
      settings.log(`could not create a demo job: ${(error as Error).message}`);
    }
    // A burst now and then, a trickle otherwise.
    await sleep((count % 15 < 3 ? 300 : 1500 + Math.random() * 2500) * (settings.pace ?? 1), undefined, { signal }).catch(() => {});
  }
}
