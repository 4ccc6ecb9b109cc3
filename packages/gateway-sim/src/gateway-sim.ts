/**
 * A simulated gha-slurm-munge: wire-compatible `POST /runner/start` (the `auth-token` checked,
 * `200 {"status":"OK!"}`), a simulated Slurm queue that holds each job for a while, and then
 * the job script of `job-script.ts`. It can be told to fail (500) or to accept a request and
 * never submit it, as the real gateway sometimes does. `GET /_sim/jobs` shows its queue.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { runJobScript, type JobScriptOutcome, type JobScriptSettings, type TokenMode } from './job-script.ts';
import type { RunnerHost } from './runner-host.ts';

export type SlurmJobState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'NEVER_SUBMITTED';

export interface SlurmJob {
  id: number;
  state: SlurmJobState;
  runnerName: string;
  gitHubURL: string;
  clusterUser: string | null;
  cpus: string | null;
  memory: string | null;
  partition: string | null;
  duration: string | null;
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  outcome?: JobScriptOutcome;
}

export interface GatewaySimSettings {
  secret: string;
  /** Used when a request carries no `tokenURL`. */
  defaultTokenUrl: string;
  mode: TokenMode;
  /** A job waits in the Slurm queue for a random time in this range. */
  queueDelayMs: [number, number];
  jobWaitMs: number;
  runMs: [number, number];
}

export interface GatewayFaults {
  /** Answer the next N requests with 500. */
  failNext: number;
  /** Answer the next N requests 200 and never submit them. */
  dropNext: number;
}

const REQUIRED = ['gitHubURL', 'launcherToken', 'runnerName'] as const;

function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const between = ([min, max]: [number, number]) => min + Math.random() * Math.max(0, max - min);

export class GatewaySim {
  readonly jobs: SlurmJob[] = [];
  readonly faults: GatewayFaults = { failNext: 0, dropNext: 0 };
  readonly server: FastifyInstance;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private nextId = 1000;

  constructor(readonly settings: GatewaySimSettings, private readonly host: RunnerHost) {
    this.server = Fastify({ logger: false });
    this.server.post('/runner/start', async (request, reply) => {
      if (!sameSecret(request.headers['auth-token'], settings.secret)) return reply.code(401).send({ error: 'Unauthorized' });
      if (this.faults.failNext > 0) {
        this.faults.failNext -= 1;
        return reply.code(500).send({ error: 'sbatch: error: Batch job submission failed (simulated)' });
      }
      const body = (request.body ?? {}) as Record<string, unknown>;
      const missing = REQUIRED.filter((field) => typeof body[field] !== 'string' || !body[field]);
      if (missing.length > 0) return reply.code(400).send({ error: `missing ${missing.join(', ')}` });
      const text = (field: string) => (typeof body[field] === 'string' ? (body[field] as string) : null);
      const job: SlurmJob = {
        id: this.nextId++,
        state: 'PENDING',
        runnerName: String(body.runnerName),
        gitHubURL: String(body.gitHubURL),
        clusterUser: text('clusterUser'),
        cpus: text('cpus'),
        memory: text('memory'),
        partition: text('partition'),
        duration: text('duration'),
        submittedAt: new Date().toISOString(),
      };
      this.jobs.push(job);
      if (this.faults.dropNext > 0) {
        // The real gateway answers 200 even when its own submission failed afterwards.
        this.faults.dropNext -= 1;
        job.state = 'NEVER_SUBMITTED';
        return reply.send({ status: 'OK!' });
      }
      const labels = (text('runnerLabels') ?? '').split(',').filter(Boolean);
      this.schedule(job, {
        launchToken: String(body.launcherToken),
        tokenUrl: text('tokenURL') ?? settings.defaultTokenUrl,
        gitHubUrl: job.gitHubURL,
        runnerName: job.runnerName,
        runnerLabels: labels,
      });
      return reply.send({ status: 'OK!' });
    });
    this.server.get('/_sim/jobs', async () => ({ jobs: this.jobs }));
    this.server.get('/healthz', async () => ({ status: 'ok' }));
    this.server.get('/readyz', async () => ({ status: 'ready' }));
  }

  private schedule(job: SlurmJob, input: Parameters<typeof runJobScript>[0]) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      job.state = 'RUNNING';
      job.startedAt = new Date().toISOString();
      const scriptSettings: JobScriptSettings = { mode: this.settings.mode, jobWaitMs: this.settings.jobWaitMs, runMs: between(this.settings.runMs) };
      const run = runJobScript(input, scriptSettings, this.host, this.abort.signal)
        .catch((error: Error): JobScriptOutcome => ({ kind: 'error', reason: error.message }))
        .then((outcome) => {
          job.outcome = outcome;
          job.state = 'COMPLETED';
          job.endedAt = new Date().toISOString();
        });
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, between(this.settings.queueDelayMs));
    this.timers.add(timer);
  }

  /** Resolves when no job is pending or running. */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.timers.size > 0 || this.running.size > 0) {
      if (Date.now() > deadline) throw new Error('gateway-sim jobs still running');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    return this.server.listen({ port, host });
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
    await Promise.allSettled(this.running);
    await this.server.close();
  }
}
