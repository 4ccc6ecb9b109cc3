/**
 * The parent's handle on a forked target server (`target-server.ts`): start it, ask it for its
 * CPU time and peak RSS, stop it. Only the child started here is ever signalled, by its pid.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_FLAGS } from '@gha-slurm/core/heap-policy';
import type { BatchStats, ParentMessage, ServerMessage, ServerUsage, TargetName } from './protocol.ts';

const SERVER_FILE = fileURLToPath(new URL('./target-server.ts', import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;

export interface TargetEnvironment {
  secret: string;
  redisUrl?: string;
  prefix?: string;
  logLevel?: string;
  /** A folder to write a V8 CPU profile of the server into (`--cpu-prof`), for finding where time goes. */
  cpuProfileDir?: string;
}

export class TargetProcess {
  private constructor(
    readonly name: TargetName,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(name: TargetName, environment: TargetEnvironment): Promise<TargetProcess> {
    const child = fork(SERVER_FILE, [], {
      cwd: REPOSITORY_ROOT,
      // The same flags for every target: the services' node flags, tsx, and the profiler when asked for.
      execArgv: [
        ...SERVICE_NODE_FLAGS,
        '--import',
        'tsx',
        // One file per thread (tsx runs its loader in a worker); the main thread's is the large one.
        ...(environment.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', join(environment.cpuProfileDir, name)] : []),
      ],
      env: {
        ...process.env,
        BENCH_TARGET: name,
        BENCH_SECRET: environment.secret,
        BENCH_REDIS_URL: environment.redisUrl ?? '',
        BENCH_PREFIX: environment.prefix ?? '',
        BENCH_LOG_LEVEL: environment.logLevel ?? 'info',
      },
      // stdout is the service log (JSON lines at `info`): written, as in production, but not kept.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const ready = await nextMessage(child, 'ready', READY_TIMEOUT_MS);
      return new TargetProcess(name, child, ready.port);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`the ${name} target did not start: ${(error as Error).message}`);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  url(path = '/webhook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async usage(): Promise<ServerUsage> {
    const answer = nextMessage(this.child, 'usage', 5000);
    this.send({ type: 'usage' });
    return (await answer).usage;
  }

  /** Closes the server (requests in flight finish, batches drain) and waits for the process to end. */
  async stop(): Promise<{ usage: ServerUsage; batches: BatchStats | undefined }> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    const stopped = nextMessage(this.child, 'stopped', STOP_TIMEOUT_MS);
    this.send({ type: 'stop' });
    try {
      const { usage, batches } = await stopped;
      await exited;
      return { usage, batches };
    } catch (error) {
      this.kill();
      throw error;
    }
  }

  /** For an interrupted run: ends this target's process at once. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }
}

function nextMessage<T extends ServerMessage['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<ServerMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${type}" message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ServerMessage) => {
      if (message.type === type) finish(undefined, message as Extract<ServerMessage, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(new Error(`the process ended (${signal ?? `exit code ${code}`}) before sending "${type}"`));
    function finish(error?: Error, message?: Extract<ServerMessage, { type: T }>) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
