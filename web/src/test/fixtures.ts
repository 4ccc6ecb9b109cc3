/** Records shaped as repo-api answers them, for component tests. */
import type { JobView, Launch, Me, PublicConfig } from '@gha-slurm/core/api/types';

export const config: PublicConfig = {
  oidc: null,
  staticTokens: true,
  github: { url: 'https://github.com', appInstallUrl: 'https://github.com/apps/gha-slurm/installations/new' },
};

/** `GET /api/me` of a user, with linking on and no GitHub account linked unless given. */
export function me(overrides: Partial<Me> = {}): Me {
  return { username: 'alice', admin: false, via: 'token', github: { enabled: true, account: null }, ...overrides };
}

/** A job as the API shows it; its `displayState` is its state unless given. */
export function job(overrides: Partial<JobView> = {}): JobView {
  return {
    workflowJobId: 1001,
    runId: 2001,
    repository: 'octo-org/hpc-app',
    repositoryUrl: 'https://github.com/octo-org/hpc-app',
    installationId: 42,
    name: 'build (ubuntu)',
    workflowName: 'CI',
    labels: ['self-hosted', 'slurm'],
    state: 'queued',
    transitions: [{ state: 'queued', at: '2026-05-01T10:00:00.000Z' }],
    events: [],
    firstDeliveryId: 'delivery-1',
    displayState: overrides.state ?? 'queued',
    ...overrides,
  };
}

export function launch(overrides: Partial<Launch> = {}): Launch {
  return {
    id: 'a1b2c3d4',
    runnerName: 'slurm-a1b2c3d4',
    repository: 'octo-org/hpc-app',
    repositoryUrl: 'https://github.com/octo-org/hpc-app',
    installationId: 42,
    clusterUser: 'alice',
    profile: 'default',
    labels: ['self-hosted', 'slurm', 'linux', 'x64'],
    forWorkflowJobId: 1001,
    state: 'pending',
    attempts: 0,
    createdAt: '2026-05-01T10:00:01.000Z',
    events: [{ at: '2026-05-01T10:00:01.000Z', kind: 'created', detail: 'for job 1001' }],
    ...overrides,
  };
}

/** A fake `fetch` answering by method and path; records every request. */
export function fakeFetch(routes: Record<string, (init: RequestInit | undefined) => Response | Promise<Response>>) {
  const calls: Array<{ method: string; path: string; init: RequestInit | undefined }> = [];
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const path = String(input);
    calls.push({ method, path, init });
    const route = routes[`${method} ${path}`];
    if (!route) return json(404, { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: `no route ${method} ${path}` });
    return route(init);
  }) as typeof fetch;
  return { fetch: fetchImpl, calls };
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
