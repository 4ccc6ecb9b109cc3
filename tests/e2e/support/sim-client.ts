/**
 * The simulated GitHub's control API (`/_sim/...`), as a test or the demo drives it: create,
 * approve, cancel and hand out workflow jobs, install the App, look at what happened.
 */
export interface SimWorkflowJob {
  id: number;
  runId: number;
  repository: string;
  name: string;
  labels: string[];
  status: 'queued' | 'waiting' | 'in_progress' | 'completed';
  conclusion: string | null;
  runnerName: string | null;
}

async function send<T>(url: string, method: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Normalises the simulator's job shape (camelCase or GitHub's snake_case). */
function toJob(raw: Record<string, unknown>): SimWorkflowJob {
  return {
    id: Number(raw.id),
    runId: Number(raw.runId ?? raw.run_id),
    repository: String(raw.repository ?? raw.repositoryFullName ?? ''),
    name: String(raw.name ?? ''),
    labels: (raw.labels as string[]) ?? [],
    status: raw.status as SimWorkflowJob['status'],
    conclusion: (raw.conclusion as string | null) ?? null,
    runnerName: (raw.runnerName ?? raw.runner_name ?? null) as string | null,
  };
}

export function simClient(baseUrl: string) {
  const sim = `${baseUrl}/_sim`;
  return {
    install: (account: string, repositories: string[]) => send(`${sim}/installations`, 'POST', { account, repositories }),
    async createJob(input: { repository: string; labels: string[]; name?: string; waiting?: boolean }): Promise<SimWorkflowJob> {
      return toJob(await send<Record<string, unknown>>(`${sim}/workflow-jobs`, 'POST', input));
    },
    approve: (id: number) => send(`${sim}/workflow-jobs/${id}/approve`, 'POST', {}),
    cancel: (id: number) => send(`${sim}/workflow-jobs/${id}/cancel`, 'POST', {}),
    takeElsewhere: (id: number, runnerName: string) => send(`${sim}/workflow-jobs/${id}/take`, 'POST', { runnerName }),
    completeElsewhere: (id: number, conclusion = 'success') => send(`${sim}/workflow-jobs/${id}/complete`, 'POST', { conclusion }),
    async jobs(repository?: string): Promise<SimWorkflowJob[]> {
      const answer = await send<unknown>(`${sim}/workflow-jobs${repository ? `?repository=${encodeURIComponent(repository)}` : ''}`, 'GET');
      const list = Array.isArray(answer) ? answer : ((answer as { jobs?: unknown[]; workflowJobs?: unknown[] }).jobs ?? (answer as { workflowJobs?: unknown[] }).workflowJobs ?? []);
      return (list as Array<Record<string, unknown>>).map(toJob);
    },
  };
}

export type SimClient = ReturnType<typeof simClient>;

export interface SimDelivery {
  id: number;
  guid: string;
  redelivery: boolean;
  status_code: number;
  event: string;
  action: string | null;
}

/** Extra control calls of the simulator: webhook faults, deliveries, runners not made by us. */
export function simControl(baseUrl: string) {
  const sim = `${baseUrl}/_sim`;
  return {
    dropWebhooks: (rule: { times?: number; probability?: number; event?: string; action?: string }) => send(`${sim}/webhook-faults`, 'POST', rule),
    clearWebhookFaults: () => send(`${sim}/webhook-faults`, 'DELETE'),
    async deliveries(): Promise<SimDelivery[]> {
      return (await send<{ deliveries: SimDelivery[] }>(`${sim}/deliveries`, 'GET')).deliveries;
    },
    addRunner: (runner: { repository: string; name: string; status: 'online' | 'offline'; busy?: boolean }) => send(`${sim}/runners`, 'POST', runner),
    async runners(repository: string): Promise<Array<{ id: number; name: string; status: string }>> {
      return (await send<{ runners: Array<{ id: number; name: string; status: string }> }>(`${sim}/runners?repository=${encodeURIComponent(repository)}`, 'GET')).runners;
    },
  };
}
