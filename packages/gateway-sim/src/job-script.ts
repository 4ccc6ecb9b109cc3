/**
 * What the gateway's Slurm job script does on the compute node, step by step:
 *
 *   TOKEN=<launch token>
 *   GHTOKEN=$(curl -s -X POST -H "Authorization: $TOKEN" $TOKEN_URL/gha/runner | jq -r .token)
 *   ./config.sh --unattended --replace --url $URL --token $GHTOKEN --ephemeral --name $NAME --labels $LABELS
 *   timeout 2m ./run.sh   # ends when no job comes
 *
 * or, in JIT mode, `curl .../gha/runner/jit | jq -r .jitconfig` and `./run.sh --jitconfig`.
 * With no token (the broker refused: no job left) it ends at once.
 */
import type { RunnerHost } from './runner-host.ts';

export type TokenMode = 'token' | 'jit';

export interface JobScriptInput {
  launchToken: string;
  tokenUrl: string;
  gitHubUrl: string;
  runnerName: string;
  runnerLabels: string[];
}

export interface JobScriptSettings {
  mode: TokenMode;
  /** How long the runner waits for a job before it ends (the real script: 2 minutes). */
  jobWaitMs: number;
  /** How long a job "runs". */
  runMs: number;
  /** The conclusion the runner reports. */
  conclusion?: string;
}

export type JobScriptOutcome =
  | { kind: 'no-token'; status: number; reason: string }
  | { kind: 'no-job'; runnerId: number }
  | { kind: 'ran'; runnerId: number; jobId: number }
  | { kind: 'error'; reason: string };

export async function runJobScript(input: JobScriptInput, settings: JobScriptSettings, host: RunnerHost, signal?: AbortSignal): Promise<JobScriptOutcome> {
  const endpoint = `${input.tokenUrl.replace(/\/+$/, '')}/gha/runner${settings.mode === 'jit' ? '/jit' : ''}`;
  let response: Response;
  try {
    // The raw token, no "Bearer": what the existing script sends.
    response = await fetch(endpoint, { method: 'POST', headers: { authorization: input.launchToken }, signal });
  } catch (error) {
    return { kind: 'error', reason: `the broker could not be reached: ${(error as Error).message}` };
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) return { kind: 'no-token', status: response.status, reason: String(body.message ?? response.statusText) };

  let runner;
  try {
    runner =
      settings.mode === 'jit'
        ? await host.registerWithJitConfig(String(body.jitconfig))
        : await host.registerWithToken({ url: input.gitHubUrl, token: String(body.token), name: String(body.name ?? input.runnerName), labels: (body.labels as string[] | undefined) ?? input.runnerLabels });
  } catch (error) {
    return { kind: 'error', reason: (error as Error).message };
  }

  const job = await host.acquireJob(runner.id, settings.jobWaitMs);
  if (!job) {
    await host.disconnect(runner.id);
    return { kind: 'no-job', runnerId: runner.id };
  }
  await new Promise((resolve) => setTimeout(resolve, settings.runMs));
  await host.completeJob(runner.id, job.id, settings.conclusion ?? 'success');
  return { kind: 'ran', runnerId: runner.id, jobId: job.id };
}
