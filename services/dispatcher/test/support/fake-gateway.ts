/**
 * A stand-in for the Slurm-side gateway, on loopback, in either of the two ways the design
 * supports:
 * - `munge` (the default): gha-slurm-munge's `POST /runner/start`, `200 {"status":"OK!"}`, no
 *   job id, and every accepted request is a new Slurm job (it is not idempotent);
 * - `slurm-gateway`: the project's gateway, `201 {jobId, runnerName, state}` for a new runner
 *   name, `200` with the same job for a repeat (nothing submitted twice), and
 *   `GET`/`DELETE /runner/:runnerName`.
 * It records every request and answers as told: accept, fail with a status (and a body or
 * headers), hang, or submit and then answer only after a delay (the window in which a client
 * gives up on a request that did start a job).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SlurmJobReport } from '../../src/domain/slurm-observation.ts';

export type GatewayMode =
  | { kind: 'accept' }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang' }
  /** Submits the job, then answers only after `afterMs` (a client with a shorter timeout gives up first). */
  | { kind: 'late'; afterMs: number };

export type GatewayStyle = 'munge' | 'slurm-gateway';

export interface RecordedStart {
  headers: IncomingMessage['headers'];
  body: Record<string, string>;
  answeredWith: number | 'hung';
}

/** A Slurm job the fake submitted: one per accepted start (munge), or per runner name (ours). */
/** What `GET /runner/:runnerName` answers of it: a test sets state, reason, times as Slurm would. */
export interface FakeSlurmJob extends SlurmJobReport {
  jobId: number;
  runnerName: string;
  /** The start request that submitted it; its `launcherToken` is what the job's runner would send the broker. */
  body: Record<string, string>;
}

export interface RecordedRunnerCall {
  method: 'GET' | 'DELETE';
  runnerName: string;
  answeredWith: number;
}

export class FakeGateway {
  readonly requests: RecordedStart[] = [];
  readonly slurmJobs: FakeSlurmJob[] = [];
  readonly runnerCalls: RecordedRunnerCall[] = [];
  /** Modes applied to the next start requests in order; `fallback` after they run out. */
  script: GatewayMode[] = [];
  fallback: GatewayMode = { kind: 'accept' };
  /** When set, `GET`/`DELETE /runner/...` answer this status (a gateway in trouble). */
  runnerCallsFail: number | null = null;
  private server: Server;
  private hanging = new Set<IncomingMessage>();
  private timers = new Set<NodeJS.Timeout>();
  private nextJobId = 7000;

  constructor(readonly secret: string, public style: GatewayStyle = 'munge') {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.headers['auth-token'] !== this.secret) return this.send(response, 401, { error: 'Unauthorized' });
        const runnerPath = /^\/runner\/([^/]+)$/.exec(request.url ?? '');
        if (request.method === 'POST' && request.url === '/runner/start') {
          return this.startRunner(request, response, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>);
        }
        if (runnerPath && (request.method === 'GET' || request.method === 'DELETE')) {
          const runnerName = decodeURIComponent(runnerPath[1]!);
          if (this.style === 'slurm-gateway') return this.runner(request.method, runnerName, response);
          // gha-slurm-munge has no such route: recorded, so a test can tell it was never asked.
          this.runnerCalls.push({ method: request.method, runnerName, answeredWith: 404 });
        }
        this.send(response, 404, { error: 'Not Found' });
      });
    });
  }

  private startRunner(request: IncomingMessage, response: ServerResponse, body: Record<string, string>) {
    const mode = this.script.shift() ?? this.fallback;
    const record: RecordedStart = { headers: request.headers, body, answeredWith: 'hung' };
    this.requests.push(record);
    if (mode.kind === 'hang') {
      this.hanging.add(request);
      return;
    }
    if (mode.kind === 'status') return this.answer(response, record, mode.status, mode.body ?? { error: 'Slurm said no' }, mode.headers);
    const { job, isNew } = this.submit(body);
    const status = this.style === 'munge' ? 200 : isNew ? 201 : 200;
    const answerBody = this.style === 'munge' ? { status: 'OK!' } : { jobId: job.jobId, runnerName: job.runnerName, state: job.state };
    if (mode.kind === 'late') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!response.destroyed) this.answer(response, record, status, answerBody);
      }, mode.afterMs);
      this.timers.add(timer);
      return;
    }
    this.answer(response, record, status, answerBody);
  }

  /** gha-slurm-munge submits every request; our gateway submits a runner name once. */
  private submit(body: Record<string, string>): { job: FakeSlurmJob; isNew: boolean } {
    const existing = this.style === 'slurm-gateway' ? this.slurmJobs.find((job) => job.runnerName === body.runnerName) : undefined;
    if (existing) return { job: existing, isNew: false };
    const job: FakeSlurmJob = { jobId: this.nextJobId++, runnerName: body.runnerName ?? '', body, state: 'PENDING' };
    this.slurmJobs.push(job);
    return { job, isNew: true };
  }

  private runner(method: 'GET' | 'DELETE', runnerName: string, response: ServerResponse) {
    if (this.runnerCallsFail !== null) {
      this.runnerCalls.push({ method, runnerName, answeredWith: this.runnerCallsFail });
      return this.send(response, this.runnerCallsFail, { error: 'slurmrestd could not be reached' }, { 'retry-after': '1' });
    }
    const job = this.slurmJobs.find((candidate) => candidate.runnerName === runnerName);
    const status = job ? 200 : 404;
    this.runnerCalls.push({ method, runnerName, answeredWith: status });
    if (!job) return this.send(response, 404, { error: `no Slurm job for runner ${runnerName}` });
    if (method === 'DELETE' && (job.state === 'PENDING' || job.state === 'RUNNING')) job.state = 'CANCELLED';
    const { body: _body, runnerName: _name, ...shown } = job;
    this.send(response, 200, { reason: job.state === 'PENDING' ? 'Resources' : null, ...shown, runnerName });
  }

  private answer(response: ServerResponse, record: RecordedStart, status: number, body: unknown = {}, headers: Record<string, string> = {}) {
    record.answeredWith = status;
    this.send(response, status, body, headers);
  }

  private send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Accepted starts (answered 200 or 201), in order. */
  accepted(): RecordedStart[] {
    return this.requests.filter((request) => request.answeredWith === 200 || request.answeredWith === 201);
  }

  /** Changes what Slurm says of a runner's job (state, reason, nodes, times, exit code). */
  setJob(runnerName: string, change: Partial<Omit<FakeSlurmJob, 'jobId' | 'runnerName' | 'body'>>): void {
    const job = this.slurmJobs.find((candidate) => candidate.runnerName === runnerName);
    if (!job) throw new Error(`no Slurm job for ${runnerName}`);
    Object.assign(job, change);
  }

  /** The Slurm jobs submitted for a runner name. */
  jobsOf(runnerName: string): FakeSlurmJob[] {
    return this.slurmJobs.filter((job) => job.runnerName === runnerName);
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const request of this.hanging) request.socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
