/**
 * The gateway against a real single-node Slurm (munge, slurmctld, slurmd, slurmrestd with JWT
 * auth), started for this file in a scratch folder on free ports and stopped after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { startLocalSlurm, type LocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { launchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import { runServiceToExit, startService } from '@gha-slurm/core/testing/service-process';
import { startGatewayHarness, type GatewayHarness } from './support/gateway-harness.ts';

let slurm: LocalSlurm;
let gateway: GatewayHarness;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(method: string, path: string, body?: unknown, secret = gateway.secret): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'auth-token': secret, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null), headers: response.headers };
}

const start = (body: unknown, secret?: string) => call('POST', '/runner/start', body, secret);

/** Jobs Slurm holds with this name, in any state (squeue shows ended ones for MinJobAge). */
async function slurmJobsNamed(name: string): Promise<string[]> {
  const out = await slurm.command('squeue', ['-h', '-t', 'all', '-n', name, '-o', '%i']);
  return out.split('\n').map((line) => line.trim()).filter(Boolean);
}

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value) return value;
    last = value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const queue = await slurm.command('squeue', ['-t', 'all', '-o', '%i %j %u %T %r %C']).catch((error: Error) => error.message);
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})\nSlurm's queue:\n${queue}\ngateway log:\n${gateway.logs().slice(-2000)}`);
}

const stateOf = async (runnerName: string, wanted: string[]) => {
  const answer = await call('GET', `/runner/${runnerName}`);
  return answer.status === 200 && wanted.includes(answer.body.state) ? answer.body : null;
};

async function signedStart(overrides = {}, extra: Record<string, string> = {}) {
  const claims = gateway.claims(overrides);
  const { token } = await gateway.signer.sign(claims);
  return { claims, token, body: gateway.body(claims, token, extra) };
}

before(async () => {
  slurm = await startLocalSlurm();
  gateway = await startGatewayHarness(slurm);
});

after(async () => {
  await gateway?.close();
  await slurm?.stop();
});

describe('a valid launch', () => {
  it('becomes one Slurm job that runs as the token\'s user with the resources asked for, and its script asks the broker', async () => {
    const { claims, token, body } = await signedStart({}, { partition: 'batch', cpus: '2', memory: '150', duration: '7', exclusive: 'true' });
    const answer = await start(body);
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    assert.equal(answer.body.runnerName, claims.runnerName);
    assert.ok(Number.isInteger(answer.body.jobId) && answer.body.jobId > 0);

    const report = await waitFor('the runner to report', async () => gateway.runnerReport(claims.runnerName));
    assert.equal(report.user, 'gha-alice');
    assert.equal(report.slurmJobId, String(answer.body.jobId));
    assert.match(report.jitConfig, /^jit-/, 'the runner got the JIT config the broker answered');
    assert.equal(report.launchTokenSet, false, 'the launch token is not left in the runner\'s environment');

    const brokerCall = gateway.broker.calls.find((entry) => entry.headers.authorization === `Bearer ${token}`);
    assert.ok(brokerCall, 'the job script called the broker with the launch token');
    assert.equal(brokerCall.path, '/gha/runner/jit');

    const ended = await waitFor('the job to complete', () => stateOf(claims.runnerName, ['COMPLETED']));
    assert.equal(ended.jobId, answer.body.jobId);
    assert.equal(ended.partition, 'batch');
    assert.equal(ended.cpus, 2);
    assert.equal(ended.memoryMb, 150);
    assert.equal(ended.timeLimitMinutes, 7);
    assert.equal(ended.exitCode, 0);
    assert.equal(ended.user, 'gha-alice');
    assert.ok(ended.nodes, 'the node it ran on');
    assert.ok(ended.submittedAt && ended.startedAt && ended.endedAt);

    // Slurm's own view agrees: user, name, comment (the launch id), time limit.
    const shown = await slurm.command('scontrol', ['show', 'job', String(answer.body.jobId)]);
    assert.match(shown, /UserId=gha-alice\(/);
    assert.match(shown, new RegExp(`JobName=${claims.runnerName}\\b`));
    assert.match(shown, new RegExp(`Comment=${claims.sub}\\b`));
    assert.match(shown, /TimeLimit=00:07:00/);
    assert.match(shown, /Requeue=0/);
    assert.match(shown, /OverSubscribe=NO/, 'exclusive: the node is not shared');
  });

  it('asked again for the same runner answers 200 with the same job and submits nothing', async () => {
    const { claims, body } = await signedStart();
    const first = await start(body);
    assert.equal(first.status, 201);
    // A retry carries a newly signed token for the same launch, as the dispatcher's does.
    const { token: again } = await gateway.signer.sign(claims);
    const second = await start({ ...body, launcherToken: again });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.jobId, first.body.jobId);
    // Two at once for another runner: one job between them.
    const { body: racing } = await signedStart();
    const [a, b] = await Promise.all([start(racing), start(racing)]);
    assert.deepEqual([a.status, b.status].sort(), [200, 201]);
    assert.equal(a.body.jobId, b.body.jobId);
    assert.deepEqual(await slurmJobsNamed(claims.runnerName), [String(first.body.jobId)]);
    assert.deepEqual(await slurmJobsNamed(racing.runnerName!), [String(a.body.jobId)]);
  });

  it('a gateway started afresh (a crash between Slurm\'s answer and ours) still finds the job and submits nothing', async () => {
    const { claims, body } = await signedStart();
    const first = await start(body);
    assert.equal(first.status, 201);
    const publicPem = createPublicKey(gateway.signingKeyPem).export({ type: 'spki', format: 'pem' }).toString();
    const restarted = await startGatewayHarness(slurm, { LAUNCH_VERIFY_KEYS: publicPem });
    try {
      const retry = await fetch(`${restarted.url}/runner/start`, {
        method: 'POST',
        headers: { 'auth-token': restarted.secret, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(retry.status, 200);
      assert.equal(((await retry.json()) as { jobId: number }).jobId, first.body.jobId);
      const status = await fetch(`${restarted.url}/runner/${claims.runnerName}`, { headers: { 'auth-token': restarted.secret } });
      assert.equal(((await status.json()) as { jobId: number }).jobId, first.body.jobId, 'GET knows it too');
      assert.deepEqual(await slurmJobsNamed(claims.runnerName), [String(first.body.jobId)]);
    } finally {
      await restarted.close();
    }
  });
});

describe('the shipped job script', () => {
  const outputOf = async (jobId: number) => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const dir = `${gateway.scratch}/output`;
    const file = readdirSync(dir).find((name) => name.endsWith(`-${jobId}.log`));
    return file ? readFileSync(`${dir}/${file}`, 'utf8') : '';
  };

  it('waits as the broker\'s 503 Retry-After says, then runs the runner', async () => {
    const { claims, body } = await signedStart();
    gateway.broker.answer(claims.runnerName, [503, 503]);
    const answer = await start(body);
    assert.equal(answer.status, 201);
    await waitFor('the runner to report', async () => gateway.runnerReport(claims.runnerName));
    const ended = await waitFor('the job to end', () => stateOf(claims.runnerName, ['COMPLETED', 'FAILED']));
    assert.equal(ended.state, 'COMPLETED');
    const output = await outputOf(answer.body.jobId);
    assert.equal(output.match(/the broker answered 503; retrying in 1s as it asked/g)?.length, 2, output);
  });

  it('ends at once, saying why, when no job is left (410: exit 0) or the broker refuses the launch (403: exit 2)', async () => {
    for (const [status, exitCode, words] of [[410, 0, /no job is left for this runner \(broker answered 410/], [403, 2, /the broker refused this launch \(403/]] as const) {
      const { claims, body } = await signedStart();
      gateway.broker.answer(claims.runnerName, [status]);
      const answer = await start(body);
      const ended = await waitFor(`the job to end after ${status}`, () => stateOf(claims.runnerName, ['COMPLETED', 'FAILED']));
      assert.equal(ended.exitCode, exitCode);
      assert.match(await outputOf(answer.body.jobId), words);
      assert.equal(gateway.runnerReport(claims.runnerName), null, 'no runner started');
    }
  });
});

describe('refusals submit nothing', () => {
  async function refused(body: Record<string, string>, status: number, code: string, secret?: string) {
    const answer = await start(body, secret);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.code, code);
    assert.deepEqual(await slurmJobsNamed(body.runnerName!), [], 'no Slurm job was created');
    return answer;
  }

  it('a wrong auth-token: 401', async () => {
    const { body } = await signedStart();
    await refused(body, 401, 'BAD_AUTH_TOKEN', 'not-the-secret');
  });

  it('a launch token signed by another key, expired, or from another issuer: 401', async () => {
    const claims = gateway.claims();
    const { privateKey } = generateKeyPairSync('ed25519');
    const sign = (issuer: string, expiresAt: number) =>
      new SignJWT({ ...claims, sub: undefined })
        .setProtectedHeader({ alg: 'EdDSA', kid: gateway.signer.kid })
        .setSubject(claims.sub)
        .setJti('j')
        .setIssuer(issuer)
        .setAudience('gha-slurm-token-broker')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(expiresAt)
        .sign(privateKey);
    const later = Math.floor(Date.now() / 1000) + 3600;
    const otherKey = await refused(gateway.body(claims, await sign('gha-slurm', later)), 401, 'BAD_LAUNCH_TOKEN');
    assert.match(otherKey.body.message, /signature/);

    // Expired and wrong-issuer tokens signed with the real key: only the claim is wrong.
    const expiredSigner = await createLaunchSigner({ privateKeyPem: gateway.signingKeyPem, ttlSeconds: -60 });
    const expired = await refused(gateway.body(claims, (await expiredSigner.sign(claims)).token), 401, 'BAD_LAUNCH_TOKEN');
    assert.match(expired.body.message, /expired/);
    const otherIssuer = await createLaunchSigner({ privateKeyPem: gateway.signingKeyPem, issuer: 'someone-else' });
    const issuer = await refused(gateway.body(claims, (await otherIssuer.sign(claims)).token), 401, 'BAD_LAUNCH_TOKEN');
    assert.match(issuer.body.message, /issuer/);
  });

  it('a body whose clusterUser, gitHubURL or runnerName is not the token\'s: 403', async () => {
    const { body } = await signedStart();
    const user = await refused({ ...body, clusterUser: 'gha-bob' }, 403, 'TOKEN_MISMATCH');
    assert.match(user.body.message, /clusterUser/);
    const url = await refused({ ...body, gitHubURL: 'https://github.com/someone/else' }, 403, 'TOKEN_MISMATCH');
    assert.match(url.body.message, /gitHubURL/);
    const name = await start({ ...body, runnerName: 'slurm-someone-elses' });
    assert.equal(name.status, 403);
    assert.match(name.body.message, /runnerName/);
    assert.deepEqual(await slurmJobsNamed('slurm-someone-elses'), []);
    assert.deepEqual(await slurmJobsNamed(body.runnerName!), []);
  });

  it('root, a system account and an unknown user: 403', async () => {
    for (const [clusterUser, code] of [['root', 'ROOT_REFUSED'], ['daemon', 'SYSTEM_USER'], ['gha-nobody-here', 'UNKNOWN_USER']] as const) {
      const { body } = await signedStart({ clusterUser });
      const answer = await refused(body, 403, code);
      assert.match(answer.body.message, new RegExp(clusterUser));
    }
  });

  it('a user outside SLURM_ALLOWED_USERS: 403, while an allowed one still gets a job', async () => {
    const strict = await startGatewayHarness(slurm, { SLURM_ALLOWED_USERS: 'gha-alice' });
    try {
      const bob = strict.claims({ clusterUser: 'gha-bob' });
      const { token } = await strict.signer.sign(bob);
      const answer = await fetch(`${strict.url}/runner/start`, {
        method: 'POST',
        headers: { 'auth-token': strict.secret, 'content-type': 'application/json' },
        body: JSON.stringify(strict.body(bob, token)),
      });
      assert.equal(answer.status, 403);
      assert.equal(((await answer.json()) as { code: string }).code, 'USER_NOT_ALLOWED');
      assert.deepEqual(await slurmJobsNamed(bob.runnerName), []);
      const alice = strict.claims({ clusterUser: 'gha-alice' });
      const allowed = await fetch(`${strict.url}/runner/start`, {
        method: 'POST',
        headers: { 'auth-token': strict.secret, 'content-type': 'application/json' },
        body: JSON.stringify(strict.body(alice, (await strict.signer.sign(alice)).token)),
      });
      assert.equal(allowed.status, 201);
    } finally {
      await strict.close();
    }
  });

  it('a partition Slurm does not have: 422 with Slurm\'s words', async () => {
    const { body } = await signedStart({}, { partition: 'no-such-partition' });
    const answer = await refused(body, 422, 'SLURM_REFUSED');
    assert.match(answer.body.message, /Invalid partition name specified/);
  });

  it('a constraint no node has, or generic resources Slurm does not know: 422 (the fields reach Slurm)', async () => {
    const constraint = await signedStart({}, { constraint: 'no-such-feature' });
    const noFeature = await refused(constraint.body, 422, 'SLURM_REFUSED');
    assert.match(noFeature.body.message, /feature/i);
    const gres = await signedStart({}, { gres: 'gpu:1' });
    const noGres = await refused(gres.body, 422, 'SLURM_REFUSED');
    // slurmrestd 22.05 says only "Failure during parsing" when no GresTypes are configured.
    assert.match(noGres.body.message, /gres|generic resource|Failure during parsing/i);
  });

  it('malformed resources: 400 naming the field', async () => {
    const malformed = [['cpus', 'four'], ['memory', '8G'], ['duration', '-5'], ['exclusive', 'maybe'], ['partition', 'gha; rm -rf /'], ['tokenURL', 'ftp://broker']] as const;
    for (const [field, value] of malformed) {
      const { body } = await signedStart({}, { [field]: value });
      const answer = await refused(body, 400, 'INVALID_REQUEST');
      assert.match(answer.body.message, new RegExp(field));
    }
  });
});

describe('while slurmrestd is down', () => {
  it('answers 503 with Retry-After, and submits again once it is back', async () => {
    await slurm.stopRestd();
    let restarted = false;
    try {
      const { body } = await signedStart();
      const down = await start(body);
      assert.equal(down.status, 503, JSON.stringify(down.body));
      assert.equal(down.body.code, 'SLURM_UNAVAILABLE');
      assert.ok(Number(down.headers.get('retry-after')) > 0);
      const ready = await fetch(`${gateway.url}/readyz`);
      assert.equal(ready.status, 503);
      await slurm.startRestd();
      restarted = true;
      const back = await start(body);
      assert.equal(back.status, 201, JSON.stringify(back.body));
      assert.equal((await fetch(`${gateway.url}/readyz`)).status, 200);
    } finally {
      if (!restarted) await slurm.startRestd();
    }
  });
});

describe('a job that must wait', () => {
  it('is PENDING with Slurm\'s reason; DELETE cancels it, GET then says CANCELLED, DELETE again is fine', async () => {
    // Fill the node's two CPUs with a job of gha-bob's, so the runner's job has to wait.
    const blocker = await signedStart({ clusterUser: 'gha-bob' }, { cpus: '2' });
    gateway.hold(blocker.claims.runnerName, 120);
    const filled = await start(blocker.body);
    assert.equal(filled.status, 201);
    try {
      await waitFor('the node to fill', () => stateOf(blocker.claims.runnerName, ['RUNNING']));
      const { claims, body } = await signedStart();
      assert.equal((await start(body)).status, 201);
      const pending = await waitFor('a pending reason', async () => {
        const job = await stateOf(claims.runnerName, ['PENDING']);
        return job?.reason ? job : null;
      });
      assert.match(pending.reason, /Resources|Priority/);
      assert.equal(pending.startedAt, null);
      assert.equal(pending.nodes, null);

      const cancelled = await call('DELETE', `/runner/${claims.runnerName}`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.cancelled, true);
      const after = await waitFor('CANCELLED', () => stateOf(claims.runnerName, ['CANCELLED']));
      assert.equal(after.jobId, pending.jobId);
      const again = await call('DELETE', `/runner/${claims.runnerName}`);
      assert.equal(again.status, 200);
      assert.equal(again.body.cancelled, false);
      assert.equal(gateway.runnerReport(claims.runnerName), null, 'the cancelled job never ran');
    } finally {
      await call('DELETE', `/runner/${blocker.claims.runnerName}`);
    }
  });

  it('GET and DELETE of a runner Slurm never had: 404', async () => {
    assert.equal((await call('GET', '/runner/slurm-never-launched')).status, 404);
    assert.equal((await call('DELETE', '/runner/slurm-never-launched')).status, 404);
    assert.equal((await call('GET', '/runner/slurm-never-launched', undefined, 'wrong')).status, 401);
  });
});

describe('secrets', () => {
  it('neither a launch token nor the JWT key reaches the gateway\'s log', async () => {
    const { token, body } = await signedStart();
    await start(body);
    await start({ ...body, clusterUser: 'gha-bob' });
    const logs = gateway.logs();
    assert.ok(logs.includes(body.runnerName!), 'the log does name the runner');
    assert.equal(logs.includes(token), false);
    assert.equal(logs.includes(token.split('.')[2]!), false);
    for (const encoding of ['base64', 'hex', 'latin1'] as const) assert.equal(logs.includes(slurm.jwtKey.toString(encoding)), false);
  });
});

describe('as operators run it', () => {
  it('starts with the design\'s variables (user tokens from scontrol token), submits, and stops on SIGTERM', async () => {
    const keys = launchKeyPair();
    const secret = 'operator-secret-0123456789abcdef';
    const service = await startService('slurm-gateway', {
      env: {
        SLURM_GATEWAY_SECRET: secret,
        LAUNCH_VERIFY_KEYS: keys.publicPem,
        SLURMRESTD_URL: slurm.slurmrestdUrl,
        // No SLURM_JWT_KEY: the gateway asks `scontrol token`, which reads this cluster's config.
        SLURM_CONF: slurm.env.SLURM_CONF!,
        RUNNER_OUTPUT: `${gateway.scratch}/output/%u-%x-%j.log`,
        RUNNER_INSTALL_DIR: `${gateway.scratch}/runner`,
      },
    });
    try {
      const signer = await createLaunchSigner({ privateKeyPem: keys.privatePem });
      const claims = gateway.claims();
      const { token } = await signer.sign(claims);
      const answer = await fetch(`${service.url}/runner/start`, {
        method: 'POST',
        headers: { 'auth-token': secret, 'content-type': 'application/json' },
        body: JSON.stringify(gateway.body(claims, token)),
      });
      assert.equal(answer.status, 201, await answer.clone().text());
      const report = await waitFor('the runner to report', async () => gateway.runnerReport(claims.runnerName));
      assert.equal(report.user, 'gha-alice');
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /slurm_gateway_submissions_total\{[^}]*outcome="submitted"[^}]*\} 1/);
      assert.match(metrics, /slurm_gateway_slurmrestd_request_duration_seconds_count\{[^}]*operation="submit"/);
      assert.equal(await service.stop(), 0);
      const output = service.output();
      assert.match(output, /"slurmrestdApiVersion":"v0.0.38"/);
      assert.match(output, /from scontrol token/);
      for (const secretValue of [secret, token]) assert.equal(output.includes(secretValue), false);
    } finally {
      await service.stop();
    }
  });

  it('refuses to start on a bad configuration, naming each variable', async () => {
    const { code, output } = await runServiceToExit('slurm-gateway', {
      SLURM_GATEWAY_SECRET: 'short',
      LAUNCH_VERIFY_KEYS: launchKeyPair().publicPem,
      SLURM_MIN_UID: '0',
      RUNNER_JOB_TEMPLATE: `${gateway.scratch}/no-such-template.sh`,
    });
    assert.equal(code, 1);
    assert.match(output, /SLURM_GATEWAY_SECRET: must be at least 16 characters/);
    assert.match(output, /SLURM_MIN_UID: must be at least 1/);
    const template = await runServiceToExit('slurm-gateway', {
      SLURM_GATEWAY_SECRET: 'a-long-enough-secret-0123',
      LAUNCH_VERIFY_KEYS: launchKeyPair().publicPem,
      RUNNER_JOB_TEMPLATE: `${gateway.scratch}/no-such-template.sh`,
    });
    assert.equal(template.code, 1);
    assert.match(template.output, /RUNNER_JOB_TEMPLATE: cannot read .*no-such-template.sh \(ENOENT\)/);
  });
});
