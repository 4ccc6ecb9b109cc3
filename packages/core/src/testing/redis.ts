/**
 * Redis for tests, without assuming Docker. In order:
 * 1. `REDIS_URL`, when set;
 * 2. a Redis answering on 127.0.0.1:6379;
 * 3. a throwaway container through testcontainers, when a container runtime works;
 * 4. a `redis-server` binary started here on a free port (stopped when the process exits).
 * Otherwise it fails saying what to install. Each test takes its own key prefix from
 * `uniquePrefix()` and removes its keys with `deletePrefix()`, so tests never see one
 * another's data, nor a developer's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisAnswers } from '../redis.ts';
import { freePort } from './service-process.ts';

let resolved: Promise<string> | undefined;
const cleanups: Array<() => void> = [];
process.once('exit', () => cleanups.forEach((cleanup) => cleanup()));


async function fromContainer(): Promise<string | null> {
  try {
    const { GenericContainer, getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    process.once('beforeExit', () => void container.stop());
    return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
  } catch {
    return null;
  }
}


async function fromBinary(): Promise<string | null> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gha-slurm-redis-'));
  let child: ChildProcess;
  try {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve());
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  child.unref();
  cleanups.push(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await redisAnswers(url)) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function resolveRedisUrl(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return local;
  const candidate = (await fromContainer()) ?? (await fromBinary());
  if (candidate) return candidate;
  throw new Error(
    'tests need Redis: set REDIS_URL, run one on 127.0.0.1:6379, start a container runtime, ' +
      'or install redis-server (Debian: apt-get install redis-server)',
  );
}

/** The URL of a Redis the tests may use; found once per process. */
export function testRedisUrl(): Promise<string> {
  resolved ??= resolveRedisUrl();
  return resolved;
}

/** A key prefix no other test uses (valid as `REDIS_PREFIX`). */
export function uniquePrefix(label = 'test'): string {
  return `${label}-${randomBytes(6).toString('hex')}`;
}

/** Deletes every key under `prefix:`. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * A test's Redis: a connection, a fresh prefix, and `cleanup()` that removes the prefix's
 * keys and closes the connection.
 */
export async function testRedis(label?: string) {
  const url = await testRedisUrl();
  const prefix = uniquePrefix(label);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  return {
    url,
    prefix,
    redis,
    async cleanup() {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
