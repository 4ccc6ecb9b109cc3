import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { commonVariables, ConfigError, loadConfig } from './config.ts';
import { describeRedisTarget, redisTarget } from './redis.ts';

const schema = z.object(commonVariables);

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(schema, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('REDIS_SENTINELS and REDIS_SENTINEL_NAME make a Sentinel target; REDIS_URL keeps the credentials', () => {
  const config = loadConfig(schema, {
    REDIS_URL: 'redis://:primary-pass-7@ignored:6379/2',
    REDIS_SENTINELS: '10.0.0.5:26379, sentinel-b ,[::1]:26380',
    REDIS_SENTINEL_NAME: 'ghaslurm',
    REDIS_SENTINEL_PASSWORD: 'sentinel-pass-9',
    REDIS_MIN_REPLICAS_ACK: '1',
  });
  const target = redisTarget(config);
  assert.deepEqual(target.sentinels, [
    { host: '10.0.0.5', port: 26379 },
    { host: 'sentinel-b', port: 26379 },
    { host: '::1', port: 26380 },
  ]);
  assert.equal(target.sentinelName, 'ghaslurm');
  assert.equal(target.minReplicasAck, 1);
  const described = describeRedisTarget(target);
  assert.equal(described, 'primary "ghaslurm" through sentinels 10.0.0.5:26379,sentinel-b:26379,[::1]:26380');
  assert.ok(!described.includes('pass'), 'no password is described');
});

test('without Sentinel the target is REDIS_URL, and no replica has to acknowledge', () => {
  const target = redisTarget(loadConfig(schema, {}));
  assert.equal(target.url, 'redis://127.0.0.1:6379');
  assert.equal(target.sentinels, undefined);
  assert.equal(target.minReplicasAck, 0);
  assert.equal(describeRedisTarget(target), 'redis://127.0.0.1:6379');
});

test('one Sentinel variable without the other, a bad address or a negative count stop the service, naming the variable', () => {
  assert.deepEqual(problemsOf({ REDIS_SENTINELS: '127.0.0.1:26379' }), [
    'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (Sentinel needs the sentinels and the name of the primary they monitor)',
  ]);
  assert.deepEqual(problemsOf({ REDIS_SENTINEL_NAME: 'ghaslurm' }), [
    'REDIS_SENTINELS: is required with REDIS_SENTINEL_NAME (Sentinel needs the sentinels and the name of the primary they monitor)',
  ]);
  const problems = problemsOf({ REDIS_SENTINELS: 'a:1,b:port', REDIS_SENTINEL_NAME: 'x', REDIS_MIN_REPLICAS_ACK: '-1' });
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems.find((problem) => problem.startsWith('REDIS_SENTINELS'))!, /"b:port" is not host:port/);
  assert.match(problems.find((problem) => problem.startsWith('REDIS_MIN_REPLICAS_ACK'))!, /0 or more/);
});
