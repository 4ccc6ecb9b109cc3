/**
 * The broker's HTTP surface besides the grant itself: the JWKS a gateway verifies launch
 * tokens with, health and metrics, and the abuse limits (rate, body, headers).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { createServer } from 'node:net';
import { loadConfig } from '@gha-slurm/core/config';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { createRedis } from '@gha-slurm/core/redis';
import { createBroker } from '../src/broker.ts';
import { brokerConfigSchema } from '../src/config.ts';
import { ed25519, startHarness, type Harness } from './support/broker-harness.ts';

let h: Harness;
const nextKey = ed25519();

before(async () => {
  h = await startHarness({ installRepositories: ['octo/http'] });
});
after(() => h.close());

test('GET /.well-known/jwks.json publishes every verification key, and a gateway can verify launch tokens with it', async () => {
  const broker = await h.otherBroker({ LAUNCH_VERIFY_KEYS: `${h.launchKey.publicPem}\n${nextKey.publicPem}` });
  const response = await broker.inject('/.well-known/jwks.json');
  assert.equal(response.statusCode, 200);
  assert.match(response.headers['content-type'] as string, /^application\/json/);
  assert.match(response.headers['cache-control'] as string, /max-age=\d+/);
  const { keys } = response.json() as { keys: JWK[] };
  assert.equal(keys.length, 2);
  for (const key of keys) {
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(key.kty, 'OKP');
    assert.equal(key.crv, 'Ed25519');
    assert.equal(key.alg, 'EdDSA');
    assert.equal(key.use, 'sig');
    assert.equal(key.kid, await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x }, 'sha256'));
    assert.ok(!('d' in key), 'no private part');
  }
  assert.ok(keys.some((key) => key.kid === h.signer.kid));

  const jwks = createLocalJWKSet({ keys });
  const { token } = await h.launch();
  const verified = await jwtVerify(token, jwks, { algorithms: ['EdDSA'], issuer: 'gha-slurm', audience: 'gha-slurm-token-broker' });
  assert.equal(verified.payload.repository, 'octo/http');

  // Rotation: a token signed with the second key is granted by a broker that lists both.
  const rotated = await h.launch({ signer: await createLaunchSigner({ privateKeyPem: nextKey.privatePem }) });
  assert.equal((await broker.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: rotated.token } })).statusCode, 200);
});

test('health, readiness (Redis) and Prometheus metrics', async () => {
  assert.deepEqual((await h.app.inject('/healthz')).json(), { status: 'ok' });
  const ready = await h.app.inject('/readyz');
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().checks.redis, 'ok');
  await h.post('/gha/runner', 'nope');
  const metrics = await h.app.inject('/metrics');
  assert.match(metrics.headers['content-type'] as string, /^text\/plain/);
  assert.match(metrics.body, /token_broker_refusals_total\{[^}]*status="401"[^}]*reason="malformed"[^}]*\} 1/);
});

test('requests per client address are limited; health probes are not', async () => {
  const broker = await h.otherBroker({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' });
  const statuses = [];
  for (const url of ['/gha/runner', '/gha/runner/jit', '/gha/runner', '/gha/runner/jit', '/gha/runner']) {
    statuses.push((await broker.inject({ method: 'POST', url, remoteAddress: '10.1.2.3' })).statusCode);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429], 'one budget for both grant routes');
  const limited = await broker.inject({ method: 'POST', url: '/gha/runner', remoteAddress: '10.1.2.3' });
  assert.equal(limited.json().code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0);
  assert.equal((await broker.inject({ method: 'POST', url: '/gha/runner', remoteAddress: '10.9.9.9' })).statusCode, 401, 'another address has its own budget');
  assert.equal((await broker.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress: '10.1.2.3' })).statusCode, 429);
  for (let i = 0; i < 5; i++) assert.equal((await broker.inject({ url: '/healthz', remoteAddress: '10.1.2.3' })).statusCode, 200);
});

test('the per-address limit is one budget for all replicas', async () => {
  const replicas = [await h.otherBroker({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' }), await h.otherBroker({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' })];
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    statuses.push((await replicas[i % 2]!.inject({ method: 'POST', url: '/gha/runner', remoteAddress: '10.7.7.7' })).statusCode);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429], 'requests spread over two replicas share one budget');
});

test('a body is ignored whatever its type, and more than 1 KiB of it is refused', async () => {
  const { token } = await h.launch();
  const form = await h.post('/gha/runner', token, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' });
  assert.equal(form.statusCode, 200, form.body);
  const json = await h.post('/gha/runner', 'nope', { headers: { 'content-type': 'application/json' }, payload: '' });
  assert.equal(json.statusCode, 401, json.body);
  const large = await h.post('/gha/runner', 'nope', { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(2048) }) });
  assert.equal(large.statusCode, 413);
  assert.equal(large.json().statusCode, 413);
});

test('request headers beyond 8 KiB are refused by the server (431)', async () => {
  const broker = await h.otherBroker({});
  const address = await broker.listen({ host: '127.0.0.1', port: 0 });
  const { port } = new URL(address);
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/gha/runner', headers: { authorization: 'x'.repeat(9000) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 431);
});

test('with Redis unreachable a grant is 503 with Retry-After (the token stays good) and readiness fails', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const env = { ...h.env, REDIS_URL: `redis://127.0.0.1:${port}` };
  const redis = createRedis(env.REDIS_URL, 'client');
  redis.on('error', () => {});
  const broker = await createBroker(loadConfig(brokerConfigSchema, env), {
    redis,
    logger: createLogger({ name: 'token-broker-test', level: 'silent' }),
    registry: createMetricsRegistry('token-broker', false),
  });
  try {
    const { token } = await h.launch();
    const response = await broker.inject({ method: 'POST', url: '/gha/runner', headers: { authorization: token } });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.json().code, 'STORE_UNAVAILABLE');
    assert.equal(response.headers['retry-after'], '5');
    assert.equal((await broker.inject('/readyz')).statusCode, 503);
    assert.equal((await h.post('/gha/runner', token)).statusCode, 200, 'the token was not spent');
  } finally {
    await broker.close();
    redis.disconnect();
  }
});
