/**
 * A Redis for `npm start`: `REDIS_URL` when set, else one answering on 127.0.0.1:6379, else a
 * `redis-server` started here with its data under `.data/redis` (kept between runs, ignored by
 * git), else a message saying how to get one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { redisAnswers } from '@gha-slurm/core/redis';
import { freePort } from '@gha-slurm/core/testing/service-process';

export interface RedisForStart {
  url: string;
  /** Set when this script started the server; stop it on exit. */
  server?: ChildProcess;
}


export const HOW_TO_GET_REDIS = `gha-slurm needs Redis 6.2 or newer. Either
  - set REDIS_URL to one you have, or
  - install it: sudo apt-get install redis-server   (Debian, Ubuntu)
                brew install redis                   (macOS)
    and run npm start again (it starts redis-server itself), or
  - run one in a container: docker run -d -p 6379:6379 redis:7`;

export async function findOrStartRedis(projectRoot: string): Promise<RedisForStart> {
  if (process.env.REDIS_URL) {
    if (await redisAnswers(process.env.REDIS_URL)) return { url: process.env.REDIS_URL };
    throw new Error(`REDIS_URL is set but nothing answers at it.\n${HOW_TO_GET_REDIS}`);
  }
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return { url: local };
  if (spawnSync('redis-server', ['--version']).error) throw new Error(HOW_TO_GET_REDIS);

  const dir = join(projectRoot, '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await redisAnswers(url)) return { url, server };
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill('SIGTERM');
  throw new Error(`redis-server did not start (data folder ${dir}).\n${HOW_TO_GET_REDIS}`);
}
