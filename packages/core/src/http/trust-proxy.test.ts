import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { fastifyTrustProxy, parseTrustProxy, type TrustProxy } from './trust-proxy.ts';

test('every documented form is read: off, on, a hop count, and proxy addresses, ranges and names', () => {
  assert.equal(parseTrustProxy(undefined), false);
  assert.equal(parseTrustProxy(''), false);
  assert.equal(parseTrustProxy('false'), false);
  assert.equal(parseTrustProxy('true'), true);
  assert.equal(parseTrustProxy('2'), 2);
  assert.deepEqual(parseTrustProxy('10.0.0.0/8, loopback,fd00::/8,192.0.2.7,10.1.0.0/255.255.0.0'), [
    '10.0.0.0/8',
    'loopback',
    'fd00::/8',
    '192.0.2.7',
    '10.1.0.0/255.255.0.0',
  ]);
});

test('anything else is refused, naming each wrong entry and the forms that work', () => {
  for (const [value, wrong] of [
    ['yes', '"yes"'],
    ['10.0.0.0/33', '"10.0.0.0/33"'],
    ['10.0.0.0/8,proxy.example.org', '"proxy.example.org"'],
    ['1.5', '"1.5"'],
    ['10.0.0.0/8,', '""'],
  ]) {
    assert.throws(
      () => parseTrustProxy(value),
      (error: Error) => error.message.includes(`${wrong} is none of these`) && error.message.includes('a hop count'),
      value,
    );
  }
});

/** The client address Fastify reports for a request from `from` that forwarded `forwardedFor`. */
async function clientAddress(setting: TrustProxy, from: string, forwardedFor: string): Promise<string> {
  const app = Fastify({ trustProxy: fastifyTrustProxy(setting) });
  app.get('/', async (request) => ({ ip: request.ip }));
  try {
    const response = await app.inject({ method: 'GET', url: '/', remoteAddress: from, headers: { 'x-forwarded-for': forwardedFor } });
    return (response.json() as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

test('Fastify applies each setting as documented', async () => {
  // Off: the proxy is the client.
  assert.equal(await clientAddress(false, '10.0.0.5', '198.51.100.1, 203.0.113.9'), '10.0.0.5');
  // One hop: the address the nearest proxy saw.
  assert.equal(await clientAddress(1, '10.0.0.5', '198.51.100.1, 203.0.113.9'), '203.0.113.9');
  // Two hops: one further.
  assert.equal(await clientAddress(2, '10.0.0.5', '198.51.100.1, 203.0.113.9'), '198.51.100.1');
  // Listed proxies: believed only when the request comes from one of them.
  assert.equal(await clientAddress(['10.0.0.0/8'], '10.0.0.5', '203.0.113.9'), '203.0.113.9');
  assert.equal(await clientAddress(['10.0.0.0/8'], '192.0.2.50', '203.0.113.9'), '192.0.2.50');
});
