/** Messages between `run.ts` and the target servers it forks (`target-server.ts`). */

/**
 * `naive` (only with `--naive`) is the ingest with one BullMQ `add` per request instead of the
 * batching enqueuer: the design the issue compares against.
 */
export type TargetName = 'bare' | 'ingest' | 'naive';

export interface ServerUsage {
  /** CPU time the server process has used so far, in microseconds. */
  cpuUserMicros: number;
  cpuSystemMicros: number;
  /** The process's peak resident set size so far (getrusage's maxrss). */
  peakRssBytes: number;
  rssBytes: number;
}

export interface BatchStats {
  count: number;
  deliveries: number;
  largest: number;
}

export type ParentMessage = { type: 'usage' } | { type: 'stop' };

export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'usage'; usage: ServerUsage }
  | { type: 'stopped'; usage: ServerUsage; batches: BatchStats | undefined };
