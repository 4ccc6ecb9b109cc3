/**
 * webhook-ingest started the way an operator starts it, against real Redis through a proxy
 * that can be made to hang: its start-up line shows no Redis password, and SIGTERM ends it
 * within its shutdown bound even while a delivery waits on a Redis that stopped answering.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deliveryHeaders, workflowJobPayload } from '@gha-slurm/core/testing/github-fixtures';
import { startHangingProxy, type HangingProxy } from '@gha-slurm/core/testing/hanging-proxy';
import { testRedis } from '@gha-slurm/core/testing/redis';
import { startService } from '@gha-slurm/core/testing/service-process';

const SECRET = `whsec-${randomUUID()}`;
// The test Redis has no password; ioredis warns and goes on, which is all this needs.
const REDIS_PASSWORD = `redis-pw-${randomUUID()}`;

let redisEnv: Awaited<ReturnType<typeof testRedis>>;
let proxy: HangingProxy;

before(async () => {
  redisEnv = await testRedis('ingest-proc');
  proxy = await startHangingProxy(redisEnv.url);
});

after(async () => {
  await proxy.close();
  await redisEnv.cleanup();
});

test('no Redis password in the output; SIGTERM while Redis hangs under a delivery ends the process, saying what it waited for', async () => {
  const url = new URL(proxy.url);
  url.password = REDIS_PASSWORD;
  const service = await startService('webhook-ingest', {
    env: {
      REDIS_URL: url.toString(),
      REDIS_PREFIX: redisEnv.prefix,
      GITHUB_WEBHOOK_SECRET: SECRET,
      SHUTDOWN_TIMEOUT_MS: '1500',
    },
  });
  try {
    assert.match(service.output(), /webhook-ingest listening/);

    proxy.hang();
    const body = JSON.stringify(workflowJobPayload({ action: 'queued' }));
    // This delivery waits on Redis for good; the shutdown must not wait with it.
    const stuck = fetch(`${service.url}/webhook`, { method: 'POST', headers: deliveryHeaders('workflow_job', body, SECRET), body }).catch(() => null);
    await until(() => proxy.heldBytes() > 0);

    const code = await service.stop();
    assert.equal(code, 1, `exited by itself, not killed; output:\n${service.output()}`);
    assert.match(service.output(), /shutdown did not finish within 1500 ms: still waiting for \w/);
    assert.ok(!service.output().includes('Unhandled'), service.output());
    await stuck;
  } finally {
    if (service.process.exitCode === null) service.process.kill('SIGKILL');
  }
  assert.ok(!service.output().includes(REDIS_PASSWORD), 'the Redis password was printed');
});

/** Polls `done` until it holds (the test's own timeout bounds the wait). */
async function until(done: () => boolean) {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20));
}
