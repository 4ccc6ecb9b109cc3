/**
 * GitHub Actions as the simulated GitHub runs it: workflow runs and their jobs per repository,
 * and the runners that take them. The rule that matters is GitHub's: a queued job goes to an
 * idle runner of its repository whose labels include all the job's labels (compared
 * case-insensitively), and an idle runner that asks for work gets the OLDEST such job, not
 * the one it was launched for.
 *
 * Plain state and rules; `routes/sim-*.routes.ts` translate HTTP to these calls, and every
 * change of a job's status is told to `notify` (which sends the `workflow_job` webhook).
 */
import { githubTime, type GitHubSimState, type SimRepository, type SimRunner } from './state.ts';

export type WorkflowJobStatus = 'queued' | 'waiting' | 'in_progress' | 'completed';
export type WorkflowJobAction = 'queued' | 'waiting' | 'in_progress' | 'completed';

export const CONCLUSIONS = ['success', 'failure', 'cancelled', 'skipped', 'timed_out', 'neutral', 'action_required'] as const;
export type Conclusion = (typeof CONCLUSIONS)[number];

export interface SimWorkflowJob {
  id: number;
  runId: number;
  runAttempt: number;
  /** Lower-case full name of its repository. */
  repository: string;
  name: string;
  workflowName: string;
  labels: string[];
  status: WorkflowJobStatus;
  conclusion: Conclusion | null;
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  runnerGroupName: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  headSha: string;
  headBranch: string;
  /** Whether a runner ran it (a job cancelled while queued never did). */
  ran: boolean;
}

export interface SimWorkflowRun {
  id: number;
  repository: string;
  name: string;
  runNumber: number;
  headSha: string;
  headBranch: string;
  event: string;
  createdAt: string;
  updatedAt: string;
  jobIds: number[];
}

export interface SimWorkflowRunView extends SimWorkflowRun {
  status: WorkflowJobStatus;
  conclusion: Conclusion | null;
}

/** Why a request about a job or a runner was refused; the routes map it to GitHub's status. */
export class ActionsError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'invalid' | 'unauthorized',
    message: string,
  ) {
    super(message);
    this.name = 'ActionsError';
  }
}

interface Waiter {
  runnerId: number;
  resolve(job: SimWorkflowJob | null): void;
  timer: NodeJS.Timeout;
}

interface RunnerSession {
  /** The job it was given, until it reports it done. */
  jobId: number | null;
  /** A JIT runner's configuration is good for one start. */
  started: boolean;
}

export interface CreateJobRequest {
  repository: string;
  labels: string[];
  name?: string;
  workflowName?: string;
  /** Environment approval pending: `waiting` until approved. */
  waiting?: boolean;
  /** Adds the job to this run (of the same repository) instead of a new one. */
  runId?: number;
}

/** `config.sh` adds these unless told `--no-default-labels`. */
const DEFAULT_RUNNER_LABELS = ['self-hosted', 'Linux', 'X64'];

function now(): string {
  return githubTime(new Date());
}

function lower(values: string[]): Set<string> {
  return new Set(values.map((value) => value.toLowerCase()));
}

function hex(length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

export function isConclusion(value: unknown): value is Conclusion {
  return typeof value === 'string' && (CONCLUSIONS as readonly string[]).includes(value);
}

export class ActionsSim {
  private readonly jobsById = new Map<number, SimWorkflowJob>();
  private readonly runsById = new Map<number, SimWorkflowRun>();
  private readonly runNumbers = new Map<string, number>();
  private readonly sessions = new Map<number, RunnerSession>();
  /** Runners waiting for a job, longest-waiting first. */
  private waiters: Waiter[] = [];

  constructor(
    private readonly state: GitHubSimState,
    private readonly notify: (job: SimWorkflowJob, action: WorkflowJobAction) => void = () => {},
  ) {}

  // ── jobs ────────────────────────────────────────────────────────────────────────────────

  /** A job as a push would create it: queued (offered to waiting runners at once) or waiting. */
  createJob(request: CreateJobRequest): SimWorkflowJob {
    if (!Array.isArray(request.labels) || request.labels.length === 0 || request.labels.some((label) => typeof label !== 'string' || label.trim() === '')) {
      throw new ActionsError('invalid', 'labels must be a non-empty list of non-empty strings');
    }
    let repository: SimRepository;
    try {
      repository = this.state.repository(request.repository);
    } catch {
      throw new ActionsError('invalid', `repository must be owner/name, not ${JSON.stringify(request.repository)}`);
    }
    const key = repository.fullName.toLowerCase();
    const workflowName = request.workflowName ?? 'CI';
    let run: SimWorkflowRun;
    if (request.runId !== undefined) {
      const existing = this.runsById.get(request.runId);
      if (!existing || existing.repository !== key) throw new ActionsError('not-found', `no workflow run ${request.runId} in ${repository.fullName}`);
      run = existing;
    } else {
      const runNumber = (this.runNumbers.get(key) ?? 0) + 1;
      this.runNumbers.set(key, runNumber);
      run = {
        id: this.state.newId(),
        repository: key,
        name: workflowName,
        runNumber,
        headSha: hex(40),
        headBranch: 'main',
        event: 'push',
        createdAt: now(),
        updatedAt: now(),
        jobIds: [],
      };
      this.runsById.set(run.id, run);
    }
    const createdAt = now();
    const job: SimWorkflowJob = {
      id: this.state.newId(),
      runId: run.id,
      runAttempt: 1,
      repository: key,
      name: request.name ?? 'build',
      workflowName: run.name,
      labels: [...request.labels],
      status: request.waiting ? 'waiting' : 'queued',
      conclusion: null,
      runnerId: null,
      runnerName: null,
      runnerGroupId: null,
      runnerGroupName: null,
      createdAt,
      // GitHub fills started_at with the creation time until a runner starts the job.
      startedAt: createdAt,
      completedAt: null,
      headSha: run.headSha,
      headBranch: run.headBranch,
      ran: false,
    };
    this.jobsById.set(job.id, job);
    run.jobIds.push(job.id);
    this.touch(job);
    this.notify(job, job.status === 'waiting' ? 'waiting' : 'queued');
    if (job.status === 'queued') this.offer(job);
    return job;
  }

  job(id: number): SimWorkflowJob | undefined {
    return this.jobsById.get(id);
  }

  /** Jobs, oldest first; of one repository and status when given. */
  jobs(filter: { repository?: string; status?: WorkflowJobStatus } = {}): SimWorkflowJob[] {
    const repository = filter.repository?.toLowerCase();
    return [...this.jobsById.values()]
      .filter((job) => (repository === undefined || job.repository === repository) && (filter.status === undefined || job.status === filter.status))
      .sort((a, b) => a.id - b.id);
  }

  run(id: number): SimWorkflowRunView | undefined {
    const run = this.runsById.get(id);
    return run && this.view(run);
  }

  /** Runs of a repository, newest first, as GitHub lists them. */
  runs(repository: string): SimWorkflowRunView[] {
    const key = repository.toLowerCase();
    return [...this.runsById.values()]
      .filter((run) => run.repository === key)
      .sort((a, b) => b.id - a.id)
      .map((run) => this.view(run));
  }

  /** An approver approved the environment: the job is queued. */
  approveJob(id: number): SimWorkflowJob {
    const job = this.requireJob(id);
    if (job.status !== 'waiting') throw new ActionsError('conflict', `job ${id} is ${job.status}, not waiting for approval`);
    job.status = 'queued';
    this.touch(job);
    this.notify(job, 'queued');
    this.offer(job);
    return job;
  }

  /**
   * Cancels the job. Queued or waiting: it completes as cancelled, no runner involved. Running:
   * it completes as cancelled at once; the runner that runs it is told when it reports the job
   * done (409), and then ends.
   */
  cancelJob(id: number): SimWorkflowJob {
    const job = this.requireJob(id);
    if (job.status === 'completed') throw new ActionsError('conflict', 'Cannot cancel a workflow run that is completed.');
    this.finish(job, 'cancelled');
    return job;
  }

  /** A runner that is not ours (a permanent one, someone else's) takes the queued job. */
  takeJob(id: number, runnerName: string): SimWorkflowJob {
    const job = this.requireJob(id);
    if (job.status !== 'queued') throw new ActionsError('conflict', `job ${id} is ${job.status}, not queued`);
    if (typeof runnerName !== 'string' || runnerName.trim() === '') throw new ActionsError('invalid', 'runnerName is required');
    const repository = this.repositoryOf(job);
    let runner = this.state.runnerNamed(repository, runnerName);
    if (runner?.ephemeral) throw new ActionsError('conflict', `runner ${runnerName} is an ephemeral runner: it takes jobs by asking for them`);
    if (runner && (runner.busy || this.sessions.get(runner.id)?.jobId != null)) throw new ActionsError('conflict', `runner ${runnerName} is busy`);
    runner ??= this.state.addRunner(repository, {
      name: runnerName,
      labels: dedupeLabels([...DEFAULT_RUNNER_LABELS, ...job.labels]),
      ephemeral: false,
      status: 'online',
    });
    runner.status = 'online';
    this.assign(job, runner);
    return job;
  }

  /** Completes a running job from outside its runner (a foreign runner finished it, or a test says so). */
  completeJob(id: number, conclusion: Conclusion = 'success'): SimWorkflowJob {
    const job = this.requireJob(id);
    if (job.status !== 'in_progress') throw new ActionsError('conflict', `job ${id} is ${job.status}, not in progress`);
    this.finish(job, conclusion);
    return job;
  }

  // ── runners ─────────────────────────────────────────────────────────────────────────────

  /**
   * `config.sh --url <repository URL> --token <registration token> --ephemeral --replace`: an
   * ephemeral runner with the default labels and the given ones, online.
   */
  registerWithToken(input: { url: string; token: string; name: string; labels: string[] }): SimRunner {
    if (typeof input.token !== 'string' || input.token === '') throw new ActionsError('unauthorized', 'a registration token is required');
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 64) throw new ActionsError('invalid', 'name must be 1 to 64 characters');
    if (!Array.isArray(input.labels) || input.labels.some((label) => typeof label !== 'string' || label.trim() === '')) {
      throw new ActionsError('invalid', 'labels must be a list of non-empty strings');
    }
    const repository = this.repositoryFromUrl(input.url);
    const token = this.state.validRegistrationToken(input.token);
    // What config.sh reports: "Http response code: NotFound from 'POST .../actions/runner-registration'".
    if (!repository || !token || token.repository !== repository.fullName.toLowerCase()) {
      throw new ActionsError('not-found', `Http response code: NotFound from 'POST ${input.url}/actions/runner-registration' (an invalid or expired registration token, or another repository's)`);
    }
    const existing = this.state.runnerNamed(repository, input.name);
    if (existing) {
      // --replace: the old registration goes, unless it is running a job right now.
      if (existing.busy) throw new ActionsError('conflict', `A runner named ${input.name} exists and is running a job`);
      this.removeRunner(existing.id);
    }
    const runner = this.state.addRunner(repository, {
      name: input.name,
      labels: dedupeLabels([...DEFAULT_RUNNER_LABELS, ...input.labels]),
      ephemeral: true,
      status: 'online',
    });
    this.sessions.set(runner.id, { jobId: null, started: true });
    return runner;
  }

  /** `run.sh --jitconfig <it>`: the runner created by generate-jitconfig starts, once. */
  registerWithJitConfig(encoded: string): SimRunner {
    let agentId: number;
    let secret: string;
    try {
      const files = JSON.parse(Buffer.from(String(encoded), 'base64').toString()) as Record<string, string>;
      const settings = JSON.parse(Buffer.from(files['.runner'] ?? '', 'base64').toString()) as { agentId: number };
      const credentials = JSON.parse(Buffer.from(files['.credentials_rsaparams'] ?? '', 'base64').toString()) as { secret: string };
      agentId = Number(settings.agentId);
      secret = String(credentials.secret);
    } catch {
      throw new ActionsError('invalid', 'not a JIT configuration issued by this GitHub');
    }
    const runner = this.state.runner(agentId);
    if (!runner || !runner.jitSecret || runner.jitSecret !== secret) throw new ActionsError('not-found', 'the runner of this JIT configuration does not exist (deleted, or never issued)');
    const session = this.sessions.get(runner.id);
    if (session?.started) throw new ActionsError('conflict', 'this JIT configuration was already used: it registers one runner, once');
    this.sessions.set(runner.id, { jobId: null, started: true });
    runner.status = 'online';
    return runner;
  }

  /**
   * The runner asks for work and waits up to `waitMs`. The oldest queued job of its repository
   * that it can serve is its at once; otherwise the first fitting job to be queued while it
   * waits. Null when none came in time (or the simulator closes).
   */
  acquireJob(runnerId: number, waitMs: number, signal?: AbortSignal): Promise<SimWorkflowJob | null> {
    const runner = this.requireRunner(runnerId);
    const session = this.sessionOf(runner);
    if (runner.busy || session.jobId !== null) throw new ActionsError('conflict', `runner ${runner.name} is running a job`);
    if (this.waiters.some((waiter) => waiter.runnerId === runnerId)) throw new ActionsError('conflict', `runner ${runner.name} is already waiting for a job`);
    runner.status = 'online';
    const job = this.oldestQueuedFor(runner);
    if (job) {
      this.assign(job, runner);
      return Promise.resolve(job);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        runnerId,
        resolve,
        timer: setTimeout(() => this.release(waiter), Math.max(0, Math.min(Number(waitMs) || 0, 3_600_000))),
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', () => this.release(waiter), { once: true });
    });
  }

  /**
   * The runner reports its job done. An ephemeral runner is then removed. A job that was
   * cancelled (or completed from elsewhere) meanwhile is refused and left as it is.
   */
  runnerCompleted(runnerId: number, jobId: number, conclusion: Conclusion): SimWorkflowJob {
    const runner = this.requireRunner(runnerId);
    const session = this.sessionOf(runner);
    const job = this.requireJob(jobId);
    if (session.jobId !== jobId) throw new ActionsError('conflict', `job ${jobId} is not assigned to runner ${runner.name}`);
    const alreadyOver = job.status === 'completed';
    if (!alreadyOver) this.finish(job, conclusion);
    this.runnerDone(runner);
    if (alreadyOver) throw new ActionsError('conflict', `job ${jobId} was already ${job.conclusion ?? 'completed'}`);
    return job;
  }

  /**
   * The runner process ended without reporting a job: it stays registered, offline, idle (as
   * GitHub keeps an ephemeral runner that never ran a job). A job it was running fails.
   */
  disconnect(runnerId: number): SimRunner {
    const runner = this.requireRunner(runnerId);
    for (const waiter of this.waiters.filter((entry) => entry.runnerId === runnerId)) this.release(waiter);
    const session = this.sessionOf(runner);
    if (session.jobId !== null) {
      const job = this.jobsById.get(session.jobId);
      if (job && job.status !== 'completed') this.finish(job, 'failure');
      this.runnerDone(runner);
      if (!this.state.runner(runnerId)) return runner;
    }
    runner.status = 'offline';
    runner.busy = false;
    return runner;
  }

  /** Unregisters a runner (`DELETE .../actions/runners/{id}`); GitHub refuses while it runs a job. */
  deleteRunner(runnerId: number): void {
    const runner = this.requireRunner(runnerId);
    if (runner.busy) throw new ActionsError('conflict', 'Bad request - Runner is still running a job');
    this.removeRunner(runnerId);
  }

  /** A runner registered on the repository by someone else (not through our launches). */
  addForeignRunner(input: { repository: string; name: string; labels?: string[]; status?: SimRunner['status']; busy?: boolean }): SimRunner {
    let repository: SimRepository;
    try {
      repository = this.state.repository(input.repository);
    } catch {
      throw new ActionsError('invalid', `repository must be owner/name, not ${JSON.stringify(input.repository)}`);
    }
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 64) throw new ActionsError('invalid', 'name must be 1 to 64 characters');
    if (this.state.runnerNamed(repository, input.name)) throw new ActionsError('conflict', `Already exists - A runner with the name ${input.name} already exists.`);
    return this.state.addRunner(repository, {
      name: input.name,
      labels: dedupeLabels([...DEFAULT_RUNNER_LABELS, ...(input.labels ?? [])]),
      ephemeral: false,
      status: input.status ?? 'online',
      busy: input.busy ?? false,
    });
  }

  /** Runners waiting for a job right now. */
  waitingRunners(): number[] {
    return this.waiters.map((waiter) => waiter.runnerId);
  }

  /** Answers every waiting runner "no job" (the simulator is closing). */
  close(): void {
    for (const waiter of [...this.waiters]) this.release(waiter);
  }

  // ── rules ───────────────────────────────────────────────────────────────────────────────

  /** GitHub's match: every label of the job is a label of the runner, case-insensitively. */
  static fits(job: Pick<SimWorkflowJob, 'labels'>, runnerLabels: string[]): boolean {
    const available = lower(runnerLabels);
    return job.labels.every((label) => available.has(label.toLowerCase()));
  }

  private oldestQueuedFor(runner: SimRunner): SimWorkflowJob | undefined {
    const labels = runner.labels.map((label) => label.name);
    return this.jobs({ repository: runner.repository, status: 'queued' }).find((job) => ActionsSim.fits(job, labels));
  }

  /** A job became queued: the longest-waiting idle runner that can serve it takes it. */
  private offer(job: SimWorkflowJob): void {
    for (const waiter of this.waiters) {
      const runner = this.state.runner(waiter.runnerId);
      if (!runner || runner.repository !== job.repository || runner.busy) continue;
      if (!ActionsSim.fits(job, runner.labels.map((label) => label.name))) continue;
      this.removeWaiter(waiter);
      this.assign(job, runner);
      waiter.resolve(job);
      return;
    }
  }

  private assign(job: SimWorkflowJob, runner: SimRunner): void {
    job.status = 'in_progress';
    job.runnerId = runner.id;
    job.runnerName = runner.name;
    job.runnerGroupId = runner.runnerGroupId;
    job.runnerGroupName = 'Default';
    job.startedAt = now();
    job.ran = true;
    runner.busy = true;
    const session = this.sessions.get(runner.id);
    if (session) session.jobId = job.id;
    else this.sessions.set(runner.id, { jobId: job.id, started: true });
    this.touch(job);
    this.notify(job, 'in_progress');
  }

  private finish(job: SimWorkflowJob, conclusion: Conclusion): void {
    const wasRunning = job.status === 'in_progress';
    job.status = 'completed';
    job.conclusion = conclusion;
    job.completedAt = now();
    this.touch(job);
    // A runner that is not ours is free again; ours stays busy until it reports back and ends.
    if (wasRunning && job.runnerId !== null) {
      const runner = this.state.runner(job.runnerId);
      if (runner && !runner.ephemeral) {
        runner.busy = false;
        const session = this.sessions.get(runner.id);
        if (session) session.jobId = null;
      }
    }
    this.notify(job, 'completed');
  }

  /** The runner's job is over: an ephemeral runner unregisters, another one is idle again. */
  private runnerDone(runner: SimRunner): void {
    if (runner.ephemeral) {
      this.removeRunner(runner.id);
      return;
    }
    runner.busy = false;
    const session = this.sessions.get(runner.id);
    if (session) session.jobId = null;
  }

  private removeRunner(runnerId: number): void {
    for (const waiter of this.waiters.filter((entry) => entry.runnerId === runnerId)) this.release(waiter);
    this.sessions.delete(runnerId);
    this.state.removeRunner(runnerId);
  }

  private release(waiter: Waiter): void {
    if (!this.removeWaiter(waiter)) return;
    waiter.resolve(null);
  }

  private removeWaiter(waiter: Waiter): boolean {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return false;
    this.waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    return true;
  }

  private sessionOf(runner: SimRunner): RunnerSession {
    let session = this.sessions.get(runner.id);
    if (!session) {
      session = { jobId: null, started: true };
      this.sessions.set(runner.id, session);
    }
    return session;
  }

  private touch(job: SimWorkflowJob): void {
    const run = this.runsById.get(job.runId);
    if (run) run.updatedAt = now();
  }

  private view(run: SimWorkflowRun): SimWorkflowRunView {
    const jobs = run.jobIds.map((id) => this.jobsById.get(id)).filter((job): job is SimWorkflowJob => job !== undefined);
    let status: WorkflowJobStatus;
    let conclusion: Conclusion | null = null;
    if (jobs.every((job) => job.status === 'completed')) {
      status = 'completed';
      conclusion = (['failure', 'timed_out', 'cancelled', 'action_required'] as const).find((bad) => jobs.some((job) => job.conclusion === bad)) ?? 'success';
    } else if (jobs.some((job) => job.status === 'in_progress' || job.status === 'completed')) status = 'in_progress';
    else if (jobs.some((job) => job.status === 'queued')) status = 'queued';
    else status = 'waiting';
    return { ...run, status, conclusion };
  }

  private requireJob(id: number): SimWorkflowJob {
    const job = this.jobsById.get(Number(id));
    if (!job) throw new ActionsError('not-found', `no workflow job ${id}`);
    return job;
  }

  private requireRunner(id: number): SimRunner {
    const runner = this.state.runner(Number(id));
    if (!runner) throw new ActionsError('not-found', `no runner ${id}`);
    return runner;
  }

  private repositoryOf(job: SimWorkflowJob): SimRepository {
    const [owner = '', name = ''] = job.repository.split('/');
    const repository = this.state.findRepository(owner, name);
    if (!repository) throw new ActionsError('not-found', `no repository ${job.repository}`);
    return repository;
  }

  /** `https://github.com/owner/repo` (any host: the runner reached us), trailing slash or `.git` allowed. */
  private repositoryFromUrl(url: unknown): SimRepository | undefined {
    let path: string[];
    try {
      path = new URL(String(url)).pathname.split('/').filter(Boolean);
    } catch {
      return undefined;
    }
    const owner = path.at(-2);
    const name = path.at(-1)?.replace(/\.git$/, '');
    return owner && name ? this.state.findRepository(owner, name) : undefined;
  }
}

/** Labels without case-insensitive duplicates, first spelling kept. */
function dedupeLabels(labels: string[]): string[] {
  const seen = new Set<string>();
  return labels.filter((label) => {
    const key = label.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
