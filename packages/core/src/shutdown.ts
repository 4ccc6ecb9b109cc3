/**
 * Stopping a service on SIGTERM (or Ctrl-C) within a bounded time. Each service closes what it
 * opened, in order (stop taking work, finish what is in flight, then let go of Redis), but a
 * dependency that hangs (Redis that stopped answering, a gateway that never replies) must not
 * keep the process alive until the orchestrator kills it without a word: after `timeoutMs` the
 * process exits all the same, saying what it was still waiting for. A close that fails is
 * logged and the next one still runs; nothing here can end as an unhandled rejection.
 */
import type { Logger } from './logger.ts';

export interface ShutdownStep {
  /** What is closed, for the log: `HTTP server`, `queue workers`, `Redis`. */
  name: string;
  close(): unknown;
}

export type ShutdownOutcome =
  | { kind: 'clean' }
  /** Every step ended, but these failed (each logged). */
  | { kind: 'failed'; failed: string[] }
  /** The time ran out while `waitingFor` had not finished; the steps after it were not run. */
  | { kind: 'timed-out'; waitingFor: string; failed: string[] };

export interface ShutdownSettings {
  logger: Pick<Logger, 'info' | 'error'>;
  timeoutMs: number;
}

const TIMED_OUT = Symbol('timed out');

/** Runs `steps` one after the other within `timeoutMs` in all; never rejects. */
export async function shutDown(steps: ShutdownStep[], settings: ShutdownSettings): Promise<ShutdownOutcome> {
  const deadline = Date.now() + settings.timeoutMs;
  const failed: string[] = [];
  for (const step of steps) {
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
    });
    // A close that throws synchronously is a failure like one that rejects.
    const closing = Promise.resolve().then(() => step.close());
    try {
      const result = await Promise.race([closing, outOfTime]);
      if (result === TIMED_OUT) {
        // Whatever it does later must not surface as an unhandled rejection.
        closing.catch((error: unknown) => settings.logger.error({ err: error, step: step.name }, 'close failed after the shutdown gave up on it'));
        settings.logger.error(
          { step: step.name, timeoutMs: settings.timeoutMs },
          `shutdown did not finish within ${settings.timeoutMs} ms: still waiting for ${step.name}; exiting anyway`,
        );
        return { kind: 'timed-out', waitingFor: step.name, failed };
      }
    } catch (error) {
      failed.push(step.name);
      settings.logger.error({ err: error, step: step.name }, `closing ${step.name} failed`);
    } finally {
      clearTimeout(timer);
    }
  }
  return failed.length === 0 ? { kind: 'clean' } : { kind: 'failed', failed };
}

export interface SignalShutdownSettings extends ShutdownSettings {
  /** What stopping does, for the first log line: `draining requests in flight`. */
  what: string;
  /** Ends the process; tests pass their own. */
  exit?: (code: number) => void;
}

/**
 * On the first SIGTERM or SIGINT, runs `steps` (see `shutDown`) and exits: 0 when every step
 * closed cleanly, 1 otherwise. A second signal while stopping ends the process at once, as the
 * signal's default does (the handlers are installed once).
 */
export function stopOnSignals(steps: ShutdownStep[], settings: SignalShutdownSettings): void {
  const exit = settings.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    settings.logger.info({ signal, timeoutMs: settings.timeoutMs }, `stopping: ${settings.what}`);
    void shutDown(steps, settings).then((outcome) => {
      if (outcome.kind === 'clean') settings.logger.info('stopped');
      exit(outcome.kind === 'clean' ? 0 : 1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
