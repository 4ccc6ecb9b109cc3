/**
 * Starts gateway-process.ts as a child process and talks to it over IPC: its URL, its pid
 * (for the memory sampler) and its counts of runner starts.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface GatewayCounts {
  total: number;
  distinct: number;
  duplicated: number;
  /** Wall-clock (Date.now()) times of the first and last start; null before any. */
  firstAt: number | null;
  lastAt: number | null;
}

export interface GatewayStandIn {
  url: string;
  pid: number;
  counts(): Promise<GatewayCounts>;
  stop(): Promise<void>;
}

export async function startGatewayStandIn(): Promise<GatewayStandIn> {
  const child = fork(fileURLToPath(new URL('./gateway-process.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  const next = <T>(kind: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { kind: string } & T) => {
        if (message.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      const onExit = (code: number | null) => reject(new Error(`the gateway stand-in exited (${code}) before answering ${kind}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next<{ port: number }>('listening');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async counts() {
      const answer = next<GatewayCounts>('count');
      child.send({ kind: 'count' });
      const { total, distinct, duplicated, firstAt, lastAt } = await answer;
      return { total, distinct, duplicated, firstAt, lastAt };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' });
      await exited;
    },
  };
}
