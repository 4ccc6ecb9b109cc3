/**
 * How a simulated runner talks to the simulated GitHub: register (with a registration token or
 * a JIT config), ask for a job, report it done, or go away. The real runner speaks GitHub's
 * internal protocol; this is the same conversation in plain HTTP, implemented by github-sim
 * under `/_sim/runners`.
 */
export interface RegisteredRunner {
  id: number;
  name: string;
  labels: string[];
}

export interface AssignedJob {
  id: number;
  name: string;
  repository: string;
}

export interface RunnerHost {
  registerWithToken(input: { url: string; token: string; name: string; labels: string[] }): Promise<RegisteredRunner>;
  registerWithJitConfig(jitconfig: string): Promise<RegisteredRunner>;
  /** Waits up to `waitMs` for GitHub to give the runner a job; null when none came. */
  acquireJob(runnerId: number, waitMs: number): Promise<AssignedJob | null>;
  completeJob(runnerId: number, jobId: number, conclusion: string): Promise<void>;
  /** The runner process ends without a job (an ephemeral runner stays registered, offline). */
  disconnect(runnerId: number): Promise<void>;
}

async function call(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export function httpRunnerHost(githubSimUrl: string): RunnerHost {
  const base = `${githubSimUrl.replace(/\/+$/, '')}/_sim/runners`;
  async function expectJson<T>(response: Response, what: string): Promise<T> {
    if (!response.ok) throw new Error(`${what}: GitHub answered ${response.status} ${(await response.text()).slice(0, 200)}`);
    return (await response.json()) as T;
  }
  return {
    async registerWithToken(input) {
      return expectJson(await call(`${base}/register`, input), 'registering the runner');
    },
    async registerWithJitConfig(jitconfig) {
      return expectJson(await call(`${base}/register-jit`, { jitconfig }), 'registering the JIT runner');
    },
    async acquireJob(runnerId, waitMs) {
      const response = await call(`${base}/${runnerId}/acquire`, { waitMs });
      if (response.status === 204) return null;
      return (await expectJson<{ job: AssignedJob }>(response, 'acquiring a job')).job;
    },
    async completeJob(runnerId, jobId, conclusion) {
      const response = await call(`${base}/${runnerId}/complete`, { jobId, conclusion });
      // 409: the job was cancelled while it ran; the runner simply ends, as the real one does.
      if (!response.ok && response.status !== 409) throw new Error(`completing job ${jobId}: GitHub answered ${response.status}`);
    },
    async disconnect(runnerId) {
      await call(`${base}/${runnerId}/disconnect`, {});
    },
  };
}
