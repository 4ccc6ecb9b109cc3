/** Messages between `run.ts` and the target servers it forks (`target-server.ts`). */

export type TargetName = 'bare' | 'ingest';

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
