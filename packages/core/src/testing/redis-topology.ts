/**
 * A Redis primary with replicas and sentinels on loopback, started from the `redis-server`
 * binary in a scratch folder, for tests of what survives a failover. Each server is a child
 * process of the test, stopped by its own pid; `stop()` ends every one still running and
 * removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './service-process.ts';

export interface RedisNode {
  port: number;
  process: ChildProcess;
}

export interface TopologyOptions {
  replicas?: number;
  sentinels?: number;
  /** Sentinel's `down-after-milliseconds`: how long the primary is silent before a failover. */
  downAfterMs?: number;
  masterName?: string;
  /** `requirepass` of the primary and replicas (and what replicas and sentinels log in with). */
  password?: string;
  /** `requirepass` of the sentinels. */
  sentinelPassword?: string;
}

export interface RedisTopology {
  masterName: string;
  primary: RedisNode;
  replicas: RedisNode[];
  sentinels: RedisNode[];
  /** The Redis variables of a service that uses this topology. */
  env: Record<string, string>;
  /** The primary's port as the sentinels see it now. */
  primaryPort(): Promise<number>;
  /** A connection to the primary through the sentinels (the test's own reads and writes). */
  connect(): Redis;
  /** Ends every server still running, by pid, and removes the scratch folder. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function answers(port: number, password: string | undefined, check: (redis: Redis) => Promise<boolean>): Promise<boolean> {
  const redis = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await check(redis);
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Redis topology: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startRedisTopology(options: TopologyOptions = {}): Promise<RedisTopology> {
  const masterName = options.masterName ?? 'ghaslurm-test';
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-sentinel-'));
  const started: ChildProcess[] = [];

  const launch = async (name: string, args: string[], password: string | undefined): Promise<RedisNode> => {
    const port = await freePort();
    const child = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', join(dir, `${name}.log`)], { stdio: 'ignore' });
    started.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`cannot start redis-server (install it: apt-get install redis-server): ${error.message}`)));
      child.once('spawn', () => resolve());
    });
    await until(`${name} on port ${port}`, () => answers(port, password, async (redis) => (await redis.ping()) === 'PONG'));
    return { port, process: child };
  };

  const stop = async () => {
    const running = started.filter((child) => child.exitCode === null && child.signalCode === null);
    for (const child of running) child.kill('SIGKILL');
    await Promise.all(running.map(exited));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // No persistence: a failover test is about replication, and the folder is thrown away.
    const server = ['--save', '', '--appendonly', 'no', '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];
    // Every server may become the primary, so each both asks for the password and uses it.
    if (options.password) server.push('--requirepass', options.password, '--masterauth', options.password);
    const primary = await launch('primary', server, options.password);
    const replicas: RedisNode[] = [];
    for (let i = 0; i < (options.replicas ?? 2); i++) {
      replicas.push(await launch(`replica-${i}`, [...server, '--replicaof', '127.0.0.1', String(primary.port)], options.password));
    }
    await until('the replicas to be in sync', () =>
      answers(primary.port, options.password, async (redis) => {
        const info = await redis.info('replication');
        return (info.match(/^slave\d+:.*state=online/gm) ?? []).length === replicas.length;
      }),
    );

    const sentinels: RedisNode[] = [];
    const sentinelCount = options.sentinels ?? 3;
    for (let i = 0; i < sentinelCount; i++) {
      // Sentinel rewrites its configuration file, so each has its own, in the scratch folder.
      const file = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        file,
        [
          `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} ${Math.floor(sentinelCount / 2) + 1}`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 2`,
          ...(options.password ? [`sentinel auth-pass ${masterName} ${options.password}`] : []),
          ...(options.sentinelPassword ? [`requirepass ${options.sentinelPassword}`] : []),
          '',
        ].join('\n'),
      );
      sentinels.push(await launch(`sentinel-${i}`, [file, '--sentinel'], options.sentinelPassword));
    }
    const primaryPort = async () => {
      for (const sentinel of sentinels) {
        let port: number | null = null;
        const asked = await answers(sentinel.port, options.sentinelPassword, async (redis) => {
          const address = (await redis.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName)) as [string, string] | null;
          port = address ? Number(address[1]) : null;
          return port !== null;
        });
        if (asked && port !== null) return port;
      }
      throw new Error('no sentinel answers');
    };
    // Every sentinel must know the replicas and the other sentinels before a failover can work.
    await until('the sentinels to see the replicas and each other', async () => {
      for (const sentinel of sentinels) {
        const ready = await answers(sentinel.port, options.sentinelPassword, async (redis) => {
          const master = (await redis.call('SENTINEL', 'MASTER', masterName)) as string[];
          const field = (name: string) => Number(master[master.indexOf(name) + 1]);
          return field('num-slaves') === replicas.length && field('num-other-sentinels') === sentinels.length - 1;
        });
        if (!ready) return false;
      }
      return true;
    }, 30_000);

    const env: Record<string, string> = {
      // With Sentinel, REDIS_URL gives only the credentials: the sentinels say where to connect.
      REDIS_URL: options.password ? `redis://:${encodeURIComponent(options.password)}@127.0.0.1:6379` : 'redis://127.0.0.1:6379',
      REDIS_SENTINELS: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(','),
      REDIS_SENTINEL_NAME: masterName,
      ...(options.sentinelPassword ? { REDIS_SENTINEL_PASSWORD: options.sentinelPassword } : {}),
    };
    return {
      masterName,
      primary,
      replicas,
      sentinels,
      env,
      primaryPort,
      connect: () =>
        new Redis({
          sentinels: sentinels.map((sentinel) => ({ host: '127.0.0.1', port: sentinel.port })),
          name: masterName,
          password: options.password,
          sentinelPassword: options.sentinelPassword,
          maxRetriesPerRequest: null,
          retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 500),
        }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
