/**
 * The simulator as a process (`node --import tsx src/main.ts`, what `npm run start -w
 * packages/github-sim` runs): configured by the design's variable names, installed on the
 * repositories of SIM_INSTALL, delivering to WEBHOOK_URL, stopping on SIGTERM, and refusing to
 * start with a message naming each bad variable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitHubApp } from '@gha-slurm/core/github/app-client';
import { createLogger } from '@gha-slurm/core/logger';
import { freePort, spawnEntry } from '@gha-slurm/core/testing/service-process';
import { appKeys, WebhookReceiver } from './support/harness.ts';

const secretsDir = mkdtempSync(join(tmpdir(), 'github-sim-main-'));
let receiver: WebhookReceiver;

before(async () => {
  receiver = await new WebhookReceiver().start();
});
after(async () => {
  await receiver.close();
  rmSync(secretsDir, { recursive: true, force: true });
});

const start = (env: Record<string, string>) => spawnEntry('packages/github-sim/src/main.ts', env);

test('runs as a process: the App key from a _FILE, SIM_INSTALL installed, jobs delivered to WEBHOOK_URL, SIGTERM stops it', async () => {
  const keys = await appKeys();
  const keyFile = join(secretsDir, 'app.pem');
  writeFileSync(keyFile, keys.privateKeyPem);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = start({
    PORT: String(port),
    GITHUB_APP_ID: '31337',
    GITHUB_PRIVATE_KEY_FILE: keyFile,
    GITHUB_WEBHOOK_SECRET: 'process-secret',
    WEBHOOK_URL: receiver.url,
    SIM_INSTALL: 'demo-lab/climate-model, demo-lab/genomics,solo/*',
  });
  try {
    const deadline = Date.now() + 30_000;
    while (true) {
      if (proc.child.exitCode !== null) throw new Error(`exited early:\n${proc.output()}`);
      const up = await fetch(`${url}/_sim/healthz`).then((response) => response.ok).catch(() => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error(`not up in time:\n${proc.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(proc.output(), /simulated GitHub listening at/);

    const installations = (await (await fetch(`${url}/_sim/installations`)).json()) as { installations: Array<{ account: string; repositories: string[] | 'all' }> };
    assert.deepEqual(
      installations.installations.map((entry) => [entry.account, entry.repositories]),
      [['demo-lab', ['demo-lab/climate-model', 'demo-lab/genomics']], ['solo', 'all']],
    );

    const created = await fetch(`${url}/_sim/workflow-jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repository: 'demo-lab/genomics', labels: ['self-hosted', 'slurm'] }),
    });
    assert.equal(created.status, 201);
    const job = (await created.json()) as { id: number; runId: number; status: string };
    assert.equal(job.status, 'queued');
    await receiver.waitFor(() => receiver.forJob(job.id).length === 1, 10_000);
    const delivery = receiver.forJob(job.id)[0]!;
    assert.equal(delivery.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', 'process-secret').update(delivery.body).digest('hex')}`);
    assert.equal(delivery.payload.repository.html_url, `${url}/demo-lab/genomics`, 'GITHUB_URL defaults to its own address');

    // The App key it was given is the one it checks App JWTs against.
    const github = createGitHubApp({ appId: 31337, privateKey: keys.privateKeyPem, baseUrl: url, logger: createLogger({ name: 't', level: 'silent' }), errorRetries: 0 });
    const { data } = await github.app.request('GET /repos/{owner}/{repo}/installation', { owner: 'demo-lab', repo: 'genomics' });
    const { data: fetched } = await github.forInstallation(data.id).request('GET /repos/{owner}/{repo}/actions/jobs/{job_id}', { owner: 'demo-lab', repo: 'genomics', job_id: job.id });
    assert.equal(fetched.status, 'queued');
  } finally {
    proc.child.kill('SIGTERM');
  }
  assert.equal(await proc.exit, 0);
});

test('refuses to start without its variables, naming each one', async () => {
  const proc = start({ GITHUB_APP_ID: 'abc', GITHUB_PRIVATE_KEY: 'not a key', WEBHOOK_URL: 'ftp://nowhere', SIM_INSTALL: 'no-slash' });
  assert.equal(await proc.exit, 1);
  const output = proc.output();
  for (const variable of ['GITHUB_APP_ID', 'GITHUB_WEBHOOK_SECRET', 'WEBHOOK_URL', 'SIM_INSTALL']) assert.match(output, new RegExp(variable));

  const badKey = start({ GITHUB_APP_ID: '1', GITHUB_PRIVATE_KEY: 'not a key', GITHUB_WEBHOOK_SECRET: 's' });
  assert.equal(await badKey.exit, 1);
  assert.match(badKey.output(), /GITHUB_PRIVATE_KEY: must be a PEM private key/);
});
