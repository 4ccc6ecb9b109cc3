/**
 * Runs the system's processes side by side. Each one's output goes to its own log file (JSON
 * lines as the services write them); the terminal stays calm: it shows a process's errors, and
 * why a process that died did so (its last lines), unless `echo` asks for every line. All of
 * them are stopped with SIGTERM on Ctrl-C, and all of them if one dies on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { prettyLine } from '@gha-slurm/core/logger';
import { nodeArgsFor } from '@gha-slurm/core/testing/service-process';

export interface ProcessSpec {
  name: string;
  /** An entry point: a bundle (`.mjs`, `.js`) runs with plain node, TypeScript through tsx. */
  entry: string;
  env: Record<string, string | undefined>;
}

export interface SupervisorOptions {
  /** Where `<name>.log` of each process goes (started afresh each run). */
  logDir: string;
  /** `errors`: only error lines reach the terminal; `all`: every line, as text for people. */
  echo: 'errors' | 'all';
  /** Where terminal lines go (default: stdout). */
  print?: (line: string) => void;
}

const COLOURS = [36, 33, 35, 32, 34, 31, 90];
const ERROR_LEVEL = 50;
const KEPT_LINES = 15;

/** pino's level of a JSON line; null for a line that is not one (a stack trace, a warning). */
function levelOf(line: string): number | null {
  if (!line.startsWith('{')) return null;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' ? level : null;
  } catch {
    return null;
  }
}

export class Supervisor {
  private children = new Map<string, ChildProcess>();
  private files: WriteStream[] = [];
  private stopping = false;
  private readonly width: number;
  private readonly print: (line: string) => void;

  constructor(
    private readonly root: string,
    private readonly specs: ProcessSpec[],
    private readonly options: SupervisorOptions,
    private readonly onFailure: (name: string) => void,
  ) {
    this.width = Math.max(...specs.map((spec) => spec.name.length));
    this.print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
  }

  logFile(name: string): string {
    return join(this.options.logDir, `${name}.log`);
  }

  start(): void {
    mkdirSync(this.options.logDir, { recursive: true });
    const colour = process.stdout.isTTY;
    this.specs.forEach((spec, index) => {
      const child = spawn(process.execPath, nodeArgsFor(spec.entry), {
        cwd: this.root,
        env: spec.env as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const name = spec.name.padEnd(this.width);
      const label = colour ? `\x1b[${COLOURS[index % COLOURS.length]}m${name}\x1b[0m │ ` : `${name} │ `;
      const file = createWriteStream(this.logFile(spec.name), { flags: 'w' });
      this.files.push(file);
      const last: string[] = [];
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          file.write(`${line}\n`);
          last.push(line);
          if (last.length > KEPT_LINES) last.shift();
          if (this.options.echo === 'all' || (levelOf(line) ?? 0) >= ERROR_LEVEL) this.print(`${label}${prettyLine(line)}`);
        });
      }
      // 'close', not 'exit': its last lines have been read by then.
      child.on('close', (code, signal) => {
        this.children.delete(spec.name);
        if (this.stopping) return;
        // Its last words, unless they were on the terminal already.
        if (this.options.echo !== 'all') for (const line of last) this.print(`${label}${prettyLine(line)}`);
        this.print(`${label}exited (${code ?? signal}); stopping everything (its log: ${this.logFile(spec.name)})`);
        this.onFailure(spec.name);
      });
      this.children.set(spec.name, child);
    });
  }

  /** SIGTERM to everyone, SIGKILL after 10 s for whoever does not stop; then the log files are closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all(this.files.map((file) => new Promise<void>((resolve) => file.end(resolve))));
  }
}
