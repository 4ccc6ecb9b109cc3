import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from './support/harness.ts';

let dist: string;
let h: Harness;

before(async () => {
  dist = mkdtempSync(join(tmpdir(), 'repo-api-web-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>gha-slurm</title><div id="root"></div><script type="module" src="/assets/app-1a2b3c.js"></script>');
  writeFileSync(join(dist, 'assets', 'app-1a2b3c.js'), 'console.log("app")');
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  h = await startHarness({ webDistDir: dist, publicUrl: 'https://ci.example.org', corsOrigins: ['https://ci.example.org'] });
});

after(async () => {
  await h.close();
  rmSync(dist, { recursive: true, force: true });
});

test('the built web app is served at /, its routes fall back to index.html, hashed assets are cached for good', async () => {
  const root = await h.app.inject({ method: 'GET', url: '/' });
  assert.equal(root.statusCode, 200);
  assert.match(root.body, /<div id="root">/);
  assert.equal(root.headers['cache-control'], 'no-cache');

  for (const route of ['/jobs', '/jobs/123', '/admin-view/users?tab=2', '/settings/']) {
    const response = await h.app.inject({ method: 'GET', url: route });
    assert.equal(response.statusCode, 200, route);
    assert.match(response.body, /<div id="root">/, route);
  }

  const asset = await h.app.inject({ method: 'GET', url: '/assets/app-1a2b3c.js' });
  assert.equal(asset.statusCode, 200);
  assert.match(asset.headers['content-type'] as string, /javascript/);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await h.app.inject({ method: 'GET', url: '/favicon.svg' })).statusCode, 200);

  // A missing file and unknown API paths are 404 JSON, not the app.
  for (const path of ['/assets/missing.js', '/api/nothing', '/admin/other', '/repositories']) {
    const response = await h.app.inject({ method: 'GET', url: path, headers: h.as('ops') });
    assert.equal(response.statusCode, 404, path);
    assert.equal(response.json().code, 'NOT_FOUND', path);
  }
});

test('without a build, / says the web app is not built and how to build it', async () => {
  const bare = await startHarness({ webDistDir: join(dist, 'does-not-exist') });
  try {
    for (const path of ['/', '/jobs']) {
      const response = await bare.app.inject({ method: 'GET', url: path });
      assert.equal(response.statusCode, 200);
      assert.match(response.headers['content-type'] as string, /text\/html/);
      assert.match(response.body, /not built/);
      assert.match(response.body, /npm run build -w web/);
    }
  } finally {
    await bare.close();
  }
});

test('security headers on every answer; HSTS and upgrade-insecure-requests when served over https', async () => {
  const response = await h.app.inject({ method: 'GET', url: '/api/config' });
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN');
  assert.match(response.headers['content-security-policy'] as string, /default-src 'self'/);
  assert.match(response.headers['content-security-policy'] as string, /upgrade-insecure-requests/);
  assert.match(response.headers['strict-transport-security'] as string, /max-age=/);
});

test('CORS: the web app\'s origin is allowed, any other is not', async () => {
  const preflight = (origin: string) =>
    h.app.inject({
      method: 'OPTIONS',
      url: '/repositories/alice',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
  const allowed = await preflight('https://ci.example.org');
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://ci.example.org');
  assert.match(allowed.headers['access-control-allow-headers'] as string, /authorization/);
  const denied = await preflight('https://evil.example');
  assert.equal(denied.headers['access-control-allow-origin'], undefined);

  const simple = await h.app.inject({ method: 'GET', url: '/api/config', headers: { origin: 'https://evil.example' } });
  assert.equal(simple.headers['access-control-allow-origin'], undefined);
});

test('OpenAPI at /docs (public) with the schemas that validate', async () => {
  const page = await h.app.inject({ method: 'GET', url: '/docs' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /swagger/i);
  const document = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
  assert.equal(document.openapi, '3.1.0');
  for (const path of ['/repositories/{username}', '/api/jobs', '/api/jobs/{id}', '/api/launches', '/api/launches/{id}/retry', '/api/queues', '/api/installations', '/api/audit', '/api/events', '/api/config']) {
    assert.ok(document.paths[path], `${path} is documented`);
  }
  const body = document.components.schemas.ReplaceRepositoriesRequest;
  assert.equal(body.additionalProperties, false);
  assert.equal(body.properties.repositories.maxItems, 1000);
  assert.equal(document.paths['/repositories/{username}'].get.parameters[0].schema.pattern, '^[a-z_][a-z0-9_-]{0,31}$');
  assert.ok(!Object.keys(document.paths).some((path) => path.startsWith('/admin/queues')), 'the dashboard is not part of the API');
});

test('the queue dashboard: 401 without credentials, 403 for a user, open to an admin by bearer or session cookie', async () => {
  const anonymous = await h.app.inject({ method: 'GET', url: '/admin/queues' });
  assert.equal(anonymous.statusCode, 401);
  assert.match(anonymous.json().message, /session cookie/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/queues', headers: h.as('alice') })).statusCode, 403);

  const byBearer = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: h.as('ops') });
  assert.equal(byBearer.statusCode, 200);
  assert.match(byBearer.body, /<base href="\/admin\/queues/);

  const session = await h.app.inject({ method: 'POST', url: '/api/session', headers: h.as('ops') });
  assert.equal(session.statusCode, 200);
  assert.equal(session.json().username, 'ops');
  const setCookie = String(session.headers['set-cookie']);
  assert.match(setCookie, /^ghaslurm_session=[A-Za-z0-9_-]{43};/);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  assert.match(setCookie, /Secure/, 'served over https (PUBLIC_URL)');
  assert.match(setCookie, /Path=\//);
  const cookie = setCookie.split(';')[0]!;

  const page = await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie } });
  assert.equal(page.statusCode, 200);
  const api = await h.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie } });
  assert.equal(api.statusCode, 200);
  const names = (api.json().queues as Array<{ name: string }>).map((queue) => queue.name).sort();
  assert.deepEqual(names, ['github-events', 'launch-retries']);

  // The cookie opens the dashboard and the event stream, not the API.
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/queues', headers: { cookie } })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'GET', url: '/repositories/ops', headers: { cookie } })).statusCode, 401);
  // Nor does a cookie make a new session.
  assert.equal((await h.app.inject({ method: 'POST', url: '/api/session', headers: { cookie } })).statusCode, 401);

  // A user's session does not open the dashboard.
  const userSession = await h.app.inject({ method: 'POST', url: '/api/session', headers: h.as('alice') });
  const userCookie = String(userSession.headers['set-cookie']).split(';')[0]!;
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: userCookie } })).statusCode, 403);

  const signOut = await h.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
  assert.equal(signOut.statusCode, 204);
  assert.match(String(signOut.headers['set-cookie']), /ghaslurm_session=;/);
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie } })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: 'ghaslurm_session=forged' } })).statusCode, 401);
});

test('health, readiness and metrics answer without credentials', async () => {
  assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json().checks.redis, 'ok');
  const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /repo_api_repository_list_changes_total|repo_api_sign_in_failures_total/);
});

test('the rate limit answers 429 past the limit per client, and leaves health checks alone', async () => {
  const limited = await startHarness({ rateLimitPerMinute: 5 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await limited.app.inject({ method: 'GET', url: '/repositories/alice', headers: limited.as('alice') })).statusCode);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const refused = await limited.app.inject({ method: 'GET', url: '/api/config' });
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'RATE_LIMITED');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    for (let i = 0; i < 10; i++) assert.equal((await limited.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally {
    await limited.close();
  }
});

test('a body larger than the limit is refused with 413', async () => {
  const huge = JSON.stringify({ repositories: Array.from({ length: 999 }, () => `octo/${'x'.repeat(99)}`).concat(['y'.repeat(600_000)]) });
  const response = await h.app.inject({
    method: 'POST',
    url: '/repositories/alice',
    headers: { ...h.as('alice'), 'content-type': 'application/json' },
    payload: huge,
  });
  assert.equal(response.statusCode, 413);
});
