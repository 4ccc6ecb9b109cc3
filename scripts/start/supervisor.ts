/**
 * Runs the system's processes side by side: each one's output prefixed with its name, all of
 * them stopped with SIGTERM on Ctrl-C, and all of them stopped if one dies on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessSpec {
  name: string;
  /** A TypeScript entry point, run with tsx. */
  entry: string;
  env: Record<string, string | undefined>;
}

const COLOURS = [36, 33, 35, 32, 34, 31, 90];

export class Supervisor {
  private children = new Map<string, ChildProcess>();
  private stopping = false;
  private readonly width: number;

  constructor(private readonly root: string, private readonly specs: ProcessSpec[], private readonly onFailure: (name: string) => void) {
    this.width = Math.max(...specs.map((spec) => spec.name.length));
  }

  start(): void {
    this.specs.forEach((spec, index) => {
      const child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
        cwd: this.root,
        env: spec.env as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const label = `\x1b[${COLOURS[index % COLOURS.length]}m${spec.name.padEnd(this.width)}\x1b[0m │ `;
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label}${line}\n`));
      }
      child.on('exit', (code, signal) => {
        this.children.delete(spec.name);
        if (!this.stopping) {
          process.stdout.write(`${label}exited (${code ?? signal}); stopping everything\n`);
          this.onFailure(spec.name);
        }
      });
      this.children.set(spec.name, child);
    });
  }

  /** SIGTERM to everyone, SIGKILL after 10 s for whoever does not stop. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
