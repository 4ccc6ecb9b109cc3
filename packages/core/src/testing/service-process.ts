/**
 * Starts a service from its source (`node --import tsx services/<name>/src/main.ts`) or, with
 * `bundled: true`, the way production runs it (`node services/<name>/dist/main.mjs`, built by
 * `npm run build`), with environment variables; waits until it answers `/readyz`, and stops it
 * with SIGTERM. Tests that drive the operator interface use it, so they see what a deployment sees.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SERVICE_NODE_FLAGS } from '../heap-policy.ts';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningService {
  url: string;
  process: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** SIGTERM, then the exit code (or the signal that ended it). */
  stop(): Promise<number | string | null>;
}

export interface StartOptions {
  env: Record<string, string>;
  /** How long to wait for the process to be ready. */
  timeoutMs?: number;
  /** The path that answers 200 once it is ready; `/readyz` by default. */
  readyPath?: string;
  /** Options for node itself, before the entry (`--cpu-prof`, which NODE_OPTIONS may not carry). */
  nodeOptions?: string[];
  /** Run services/<name>/dist/main.mjs with plain node (what production runs) instead of the source through tsx. */
  bundled?: boolean;
}

/**
 * `node scripts/build-services.mjs [services...]` (what `npm run build` runs): bundles the
 * services (all of them without names) into services/<name>/dist/. Throws with its output when
 * it fails.
 */
export function buildServices(services: string[] = []): void {
  const result = spawnSync(process.execPath, [join('scripts', 'build-services.mjs'), ...services], { cwd: repositoryRoot, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node scripts/build-services.mjs ${services.join(' ')} failed:\n${result.stdout}${result.stderr}`);
}

/** The bundle of a service, relative to the repository root; throws when it has not been built. */
export function bundleOf(service: string): string {
  const entry = join('services', service, 'dist', 'main.mjs');
  if (!existsSync(join(repositoryRoot, entry))) throw new Error(`${entry} does not exist: run npm run build first`);
  return entry;
}

function exited(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

/**
 * node's arguments to run `entry`: a bundle (.mjs, .js) as production runs it, with the
 * services' node flags; TypeScript through tsx.
 */
export function nodeArgsFor(entry: string): string[] {
  return /\.m?js$/.test(entry) ? [...SERVICE_NODE_FLAGS, entry] : ['--import', 'tsx', entry];
}

/**
 * `node [nodeOptions] --import tsx <entry>` (without tsx for a .mjs or .js entry, a bundle) from the
 * repository root with exactly `env` (and PATH), its stdout and stderr collected; `exit` settles
 * with the exit code (or the ending signal).
 */
export function spawnEntry(entry: string, env: Record<string, string>, nodeOptions: string[] = []) {
  const child = spawn(process.execPath, [...nodeOptions, ...nodeArgsFor(entry)], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exit: exited(child) };
}

function entryOf(service: string, bundled = false): string {
  return bundled ? bundleOf(service) : join('services', service, 'src', 'main.ts');
}

/** Runs a service's main.ts (its bundle with `bundled`) until it exits by itself; for start-up failures. */
export async function runServiceToExit(service: string, env: Record<string, string>, timeoutMs = 30_000, options: { bundled?: boolean } = {}) {
  const { child, output, exit } = spawnEntry(entryOf(service, options.bundled), { LOG_LEVEL: 'info', ...env });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exit;
  clearTimeout(timer);
  return { code, output: output() };
}

export async function startService(service: string, options: StartOptions): Promise<RunningService> {
  return startProcess(entryOf(service, options.bundled), options);
}

/** Like `startService`, for any entry point of the repository (a simulator, a script). */
export async function startProcess(entry: string, options: StartOptions): Promise<RunningService> {
  const port = options.env.PORT ?? String(await freePort());
  const { child, output, exit } = spawnEntry(entry, { LOG_LEVEL: 'info', HOST: '127.0.0.1', ...options.env, PORT: port }, options.nodeOptions);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (true) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      if ((await fetch(`${url}${options.readyPath ?? '/readyz'}`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${entry} was not ready within the timeout:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    process: child,
    output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
