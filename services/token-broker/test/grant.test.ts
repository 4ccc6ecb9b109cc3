/**
 * The checks of issue 4, in order, each with its status, against real Redis and the simulated
 * GitHub; the demand cases the design names (swap, cancellation, completion, taken, replay,
 * concurrency); and what is recorded on the launch and its job.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { createLaunchSigner } from '@gha-slurm/core/launch-token';
import { APP_ROUTES, RUNNER_ROUTES } from '@gha-slurm/github-sim/github-sim';
import { parseRepositoryName } from '@gha-slurm/core/domain/repository-name';
import { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { DemandStore, type GrantDecision, type Pool } from '@gha-slurm/core/stores/demand.store';
import type { PlannedWrite } from '@gha-slurm/core/stores/versioned-record.store';
import { createLogger } from '@gha-slurm/core/logger';
import { RedisGrantLedger } from '../src/adapters/redis-grant-ledger.ts';
import { ed25519, startHarness, type Harness } from './support/broker-harness.ts';

const REPO = 'octo/hpc';
let h: Harness;

before(async () => {
  h = await startHarness({ installRepositories: [REPO, 'octo/other', 'octo/swap', 'octo/race', 'octo/replay', 'octo/gone', 'octo/limited'] });
});
after(() => h.close());

test('a launch with a queued job gets a registration token, recorded on the launch and the job without the token', async () => {
  const { token, claims, launch, jobId } = await h.launch();
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 200, response.body);
  const body = response.json();
  assert.match(body.token, /^[A-Z0-9]{29}$/);
  assert.ok(h.sim.state.validRegistrationToken(body.token), 'a token GitHub issued for the repository');
  assert.ok(Date.parse(body.expires_at) > Date.now());
  assert.equal(body.url, `https://github.com/${REPO}`);
  assert.equal(body.name, launch.runnerName);
  assert.deepEqual(body.labels, claims.labels);
  assert.equal(response.headers['cache-control'], 'no-store');

  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'granted');
  assert.equal(recorded?.events.at(-1)?.kind, 'token-granted');
  const job = await h.jobs.get(jobId);
  assert.deepEqual(job?.events.map((event) => [event.kind, event.launchId]), [['token-granted', launch.id]]);
  const records = JSON.stringify([recorded, job]);
  assert.ok(!records.includes(body.token) && !records.includes(token), 'records hold no credential');
});

test('with the registration token at hand, GitHub is not asked and the grant lands with its record; a job cancelled or taken meanwhile is refused as before', async () => {
  // Another launch of the repository leaves its registration token in the broker's cache.
  assert.equal((await h.post('/gha/runner', (await h.launch()).token)).statusCode, 200);
  const githubCalls = h.sim.calls.count();

  const { token, launch, jobId } = await h.launch();
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(h.sim.calls.count(), githubCalls, 'no GitHub call');
  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'granted');
  assert.deepEqual(recorded?.events.at(-1), { at: recorded?.events.at(-1)?.at, kind: 'token-granted', detail: `registration token for ${launch.runnerName}` });
  assert.deepEqual((await h.jobs.get(jobId))?.events.map((event) => [event.kind, event.launchId]), [['token-granted', launch.id]]);
  assert.equal((await h.post('/gha/runner', token)).statusCode, 409, 'one grant per launch');

  const cancelled = await h.launch();
  await h.jobCompleted(cancelled.jobId, 'cancelled');
  const refusal = await h.post('/gha/runner', cancelled.token);
  assert.equal(refusal.statusCode, 410, refusal.body);
  assert.equal(refusal.json().reason, 'cancelled');
  assert.equal((await h.launches.get(cancelled.launch.id))?.state, 'refused');
  assert.deepEqual((await h.jobs.get(cancelled.jobId))?.events.map((event) => event.kind), ['token-refused']);

  const taken = await h.launch();
  await h.jobTaken(taken.jobId, 'someone-elses-runner');
  assert.equal((await h.post('/gha/runner', taken.token)).json().reason, 'taken-by-another-runner');
  assert.equal(h.sim.calls.count(), githubCalls, 'still no GitHub call');
});

test('a job record written between the read and the grant: granted, recorded once the ordinary way, and the other write kept', async () => {
  const { claims, launch, jobId } = await h.launch();
  // The dispatcher writes the job just after the ledger read it.
  class WriterInBetween extends DemandStore {
    override async tryGrant(pool: Pool, launchId: string, jti: string, ttl: number, onGrant: PlannedWrite[] = []): Promise<GrantDecision> {
      await h.jobs.update(jobId, (job) => ({ ...job, runnerName: 'written-meanwhile' }));
      return super.tryGrant(pool, launchId, jti, ttl, onGrant);
    }
  }
  const ledger = new RedisGrantLedger({
    demand: new WriterInBetween(h.redis, h.prefix),
    launches: h.launches,
    jobs: h.jobs,
    logger: createLogger({ name: 'token-broker-test', level: 'silent' }),
  });
  const decision = await ledger.reserveAndRecord(claims, { outcome: 'granted', credential: 'registration-token', detail: 'registration token' });
  assert.deepEqual(decision, { kind: 'granted' });
  const job = await h.jobs.get(jobId);
  assert.equal(job?.runnerName, 'written-meanwhile');
  assert.deepEqual(job?.events.map((event) => event.kind), ['token-granted']);
  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'granted');
  assert.deepEqual(recorded?.events.map((event) => event.kind), ['created', 'gateway-accepted', 'token-granted']);
  assert.deepEqual(await ledger.reserveAndRecord(claims, { outcome: 'granted', credential: 'registration-token', detail: 'again' }), { kind: 'already-granted' });
});

test('the token is accepted raw (the gateway script) and as Bearer', async () => {
  const raw = await h.launch();
  assert.equal((await h.post('/gha/runner', raw.token)).statusCode, 200);
  const bearer = await h.launch();
  assert.equal((await h.post('/gha/runner', `Bearer ${bearer.token}`)).statusCode, 200);
  const lowercase = await h.launch();
  assert.equal((await h.post('/gha/runner', `bearer  ${lowercase.token} `)).statusCode, 200);
});

test('check 1: a missing or malformed token is 401 and nothing else is asked', async () => {
  const { token } = await h.launch({ repository: 'octo/other' });
  const githubCalls = h.sim.calls.count();
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'TOKEN_MISSING'],
    ['', 'TOKEN_MISSING'],
    ['Bearer', 'TOKEN_MALFORMED'],
    [`Basic ${Buffer.from('a:b').toString('base64')}`, 'TOKEN_MALFORMED'],
    ['not-a-jwt', 'TOKEN_MALFORMED'],
    [`Bearer ${token} extra`, 'TOKEN_MALFORMED'],
    [`${token.split('.').slice(0, 2).join('.')}`, 'TOKEN_MALFORMED'],
    [`${'a'.repeat(3000)}.${'b'.repeat(3000)}.c`, 'TOKEN_MALFORMED'],
    [`${Buffer.from('not json').toString('base64url')}.e30.c2ln`, 'TOKEN_MALFORMED'],
  ];
  for (const [authorization, code] of cases) {
    const response = await h.post('/gha/runner', authorization);
    assert.equal(response.statusCode, 401, `${authorization?.slice(0, 40)}: ${response.body}`);
    assert.equal(response.json().code, code, authorization?.slice(0, 40));
    assert.match(response.headers['www-authenticate'] as string, /^Bearer realm=/);
  }
  assert.equal(h.sim.calls.count(), githubCalls, 'GitHub was not asked');
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200, 'the pool demand was left untouched');
});

test('check 2: each verification failure is 401 naming the check', async () => {
  const { token, claims } = await h.launch({ repository: 'octo/other' });
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const key = createPrivateKey(h.launchKey.privatePem);
  const sign = (options: { issuer?: string; audience?: string; expiresIn?: number }) => {
    const { sub, jti: _jti, iat: _iat, exp: _exp, ...custom } = claims;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...custom })
      .setProtectedHeader({ alg: 'EdDSA', kid: h.signer.kid })
      .setIssuer(options.issuer ?? 'gha-slurm')
      .setAudience(options.audience ?? 'gha-slurm-token-broker')
      .setSubject(sub)
      .setJti(`forged-${Math.random()}`)
      .setIssuedAt(now - 100)
      .setExpirationTime(now + (options.expiresIn ?? 3600))
      .sign(key);
  };
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: h.signer.kid })).toString('base64url')}.${payload}.`;
  const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: h.signer.kid, typ: 'JWT' })).toString('base64url');
  const hs256 = `${hsHeader}.${payload}.${createHmac('sha256', h.launchKey.publicPem).update(`${hsHeader}.${payload}`).digest('base64url')}`;
  const tamperedPayload = Buffer.from(JSON.stringify({ ...claims, repository: 'octo/someone-else' })).toString('base64url');
  const stranger = await createLaunchSigner({ privateKeyPem: ed25519().privatePem });

  const cases: Array<[string, string]> = [
    [none, 'TOKEN_ALGORITHM'],
    [hs256, 'TOKEN_ALGORITHM'],
    [(await stranger.sign({ ...claims })).token, 'TOKEN_UNKNOWN_KEY'],
    [`${header}.${tamperedPayload}.${signature}`, 'TOKEN_SIGNATURE'],
    [await sign({ expiresIn: -10 }), 'TOKEN_EXPIRED'],
    [await sign({ issuer: 'someone' }), 'TOKEN_ISSUER'],
    [await sign({ audience: 'elsewhere' }), 'TOKEN_AUDIENCE'],
  ];
  for (const [bad, code] of cases) {
    const response = await h.post('/gha/runner', bad);
    assert.equal(response.statusCode, 401, `${code}: ${response.body}`);
    assert.equal(response.json().code, code);
    assert.match(response.headers['www-authenticate'] as string, /error="invalid_token"/);
  }
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200, 'refused forgeries reserved nothing');
});

test('check 3: the same token twice is 409, and the refusal is recorded', async () => {
  const { token, launch } = await h.launch({ repository: 'octo/replay' });
  await h.queueJob('octo/replay'); // demand is left: only the replay rule refuses
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200);
  const again = await h.post('/gha/runner', `Bearer ${token}`);
  assert.equal(again.statusCode, 409, again.body);
  assert.equal(again.json().code, 'TOKEN_ALREADY_GRANTED');
  assert.equal((await h.post('/gha/runner/jit', token)).statusCode, 409, 'nor in the other mode');
  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'granted');
  assert.deepEqual(recorded?.events.slice(-3).map((event) => event.kind), ['token-granted', 'token-refused', 'token-refused']);
});

test('check 3: a repository given to another user after the launch is 403 OWNER_CHANGED, and the launch is refused', async () => {
  const { token, launch, jobId } = await h.launch({ repository: 'octo/moved' });
  const mapping = new RepositoryMappingStore(h.redis, h.prefix);
  const alices = (await mapping.repositoriesOf('alice')).filter((url) => !url.endsWith('/octo/moved'));
  await mapping.replace('alice', alices.map((url) => parseRepositoryName(url)), { actor: 'ops', reason: 'admin override' });
  await mapping.replace('bob', [parseRepositoryName('octo/moved')], { actor: 'ops', reason: 'admin override' });

  const registrations = h.sim.calls.count(RUNNER_ROUTES.registrationToken);
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 403, response.body);
  assert.equal(response.json().code, 'OWNER_CHANGED');
  assert.equal(response.json().reason, 'owner-changed');
  assert.doesNotMatch(response.body, /bob/, 'the answer does not say whom the repository runs as now');
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.registrationToken), registrations, 'GitHub is not asked');
  assert.equal((await h.post('/gha/runner/jit', token)).json().code, 'OWNER_CHANGED', 'nor in the other mode');
  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'refused');
  assert.match(recorded!.events.at(-1)!.detail!, /no longer runs as alice/);
  assert.deepEqual(await h.demand.coveringLaunches({ repository: 'octo/moved', profile: 'default', clusterUser: 'alice' }), [], 'nothing reserved');
  assert.ok((await h.jobs.get(jobId))?.events.some((event) => event.kind === 'token-refused'));

  // A repository connected to nobody any more is refused the same way.
  const orphan = await h.launch({ repository: 'octo/orphaned' });
  await mapping.remove('octo/orphaned', { actor: 'github', reason: 'repository.deleted' });
  assert.equal((await h.post('/gha/runner', orphan.token)).json().code, 'OWNER_CHANGED');
});

test('check 4: a cancelled job is 410 "cancelled", and the launch is refused', async () => {
  const { token, launch, jobId } = await h.launch({ repository: 'octo/gone' });
  await h.jobCompleted(jobId, 'cancelled');
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 410, response.body);
  assert.equal(response.json().code, 'NO_DEMAND');
  assert.equal(response.json().reason, 'cancelled');
  assert.match(response.json().message, /was cancelled/);
  const recorded = await h.launches.get(launch.id);
  assert.equal(recorded?.state, 'refused');
  assert.equal(recorded?.events.at(-1)?.kind, 'token-refused');
  assert.match(recorded?.events.at(-1)?.detail ?? '', /^cancelled/);
  const job = await h.jobs.get(jobId);
  assert.equal(job?.events.at(-1)?.kind, 'token-refused');
  assert.equal(job?.events.at(-1)?.launchId, launch.id);
});

test('check 4: completed, taken by another runner, or covered by other runners: 410 with each reason', async () => {
  const completed = await h.launch({ repository: 'octo/gone' });
  await h.jobCompleted(completed.jobId, 'success');
  assert.equal((await h.post('/gha/runner', completed.token)).json().reason, 'completed');

  const taken = await h.launch({ repository: 'octo/gone' });
  await h.jobTaken(taken.jobId, 'someone-elses-runner');
  const takenResponse = await h.post('/gha/runner', taken.token);
  assert.equal(takenResponse.statusCode, 410);
  assert.equal(takenResponse.json().reason, 'taken-by-another-runner');
  assert.match(takenResponse.json().message, /someone-elses-runner/);

  // One queued job, two launches for it (say a manual retry): the first runner covers it.
  const first = await h.launch({ repository: 'octo/gone' });
  const second = await h.launch({ repository: 'octo/gone', workflowJobId: first.jobId });
  assert.equal((await h.post('/gha/runner', first.token)).statusCode, 200);
  const covered = await h.post('/gha/runner', second.token);
  assert.equal(covered.statusCode, 410);
  assert.equal(covered.json().reason, 'no-queued-job');
});

test('the swap: the runner launched for job A serves job B when A was taken by another runner', async () => {
  const a = await h.launch({ repository: 'octo/swap' });
  const b = await h.launch({ repository: 'octo/swap' });
  // B's runner gets its token first, and GitHub hands it the oldest queued job: A.
  assert.equal((await h.post('/gha/runner', b.token)).statusCode, 200);
  await h.jobTaken(a.jobId, b.launch.runnerName);
  // A's runner now asks: its own job is gone, but B still waits and nobody covers it.
  const response = await h.post('/gha/runner', a.token);
  assert.equal(response.statusCode, 200, response.body);
  assert.equal((await h.launches.get(a.launch.id))?.state, 'granted');
  // A third runner of the pool finds nothing left.
  const c = await h.launch({ repository: 'octo/swap', queued: false });
  assert.equal((await h.post('/gha/runner', c.token)).statusCode, 410);
  // Different profiles are different pools: a bigmem job does not make demand for default runners.
  await h.queueJob('octo/swap', { profile: 'bigmem' });
  assert.equal((await h.post('/gha/runner', (await h.launch({ repository: 'octo/swap', queued: false })).token)).statusCode, 410);
});

test('concurrent requests for one queued job: exactly one runner gets credentials', async () => {
  const first = await h.launch({ repository: 'octo/race' });
  const others = await Promise.all(Array.from({ length: 7 }, () => h.launch({ repository: 'octo/race', workflowJobId: first.jobId })));
  const responses = await Promise.all([first, ...others].map((launch) => h.post('/gha/runner', launch.token)));
  assert.deepEqual(responses.map((response) => response.statusCode).sort(), [200, 410, 410, 410, 410, 410, 410, 410]);

  // And one token sent eight times at once is granted once.
  const single = await h.launch({ repository: 'octo/race' });
  const same = await Promise.all(Array.from({ length: 8 }, () => h.post('/gha/runner', single.token)));
  assert.deepEqual(same.map((response) => response.statusCode).sort(), [200, 409, 409, 409, 409, 409, 409, 409]);
});

test('check 5: the App no longer installed is 403, GitHub is not asked for credentials, and the token stays usable', async () => {
  const owner = 'lapsed';
  const installation = h.sim.state.install({ account: owner, repositories: [`${owner}/repo`] });
  const { token, launch } = await h.launch({ repository: `${owner}/repo`, installationId: installation.id });
  h.sim.state.uninstall(installation.id);
  const registrations = h.sim.calls.count(RUNNER_ROUTES.registrationToken);
  const response = await h.post('/gha/runner', token);
  assert.equal(response.statusCode, 403, response.body);
  assert.equal(response.json().code, 'APP_NOT_INSTALLED');
  assert.equal(h.sim.calls.count(RUNNER_ROUTES.registrationToken), registrations);
  assert.equal((await h.launches.get(launch.id))?.events.at(-1)?.kind, 'token-refused');

  // Reinstalled (with a new installation id): the same token is granted.
  h.sim.state.install({ account: owner, repositories: [`${owner}/repo`] });
  assert.equal((await h.post('/gha/runner', token)).statusCode, 200);
});

test('check 5: a suspended installation and a missing permission are 403 with their own codes', async () => {
  const suspended = h.sim.state.install({ account: 'paused', repositories: ['paused/repo'] });
  h.sim.state.suspend(suspended.id);
  const a = await h.launch({ repository: 'paused/repo', installationId: suspended.id });
  const response = await h.post('/gha/runner', a.token);
  assert.equal(response.statusCode, 403);
  assert.equal(response.json().code, 'APP_SUSPENDED');

  const limited = h.sim.state.install({ account: 'readonly', repositories: ['readonly/repo'], permissions: { metadata: 'read' } });
  const b = await h.launch({ repository: 'readonly/repo', installationId: limited.id });
  const denied = await h.post('/gha/runner', b.token);
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().code, 'APP_NOT_PERMITTED');
  assert.match(denied.json().message, /Administration/);
  assert.ok(h.sim.calls.count(APP_ROUTES.repositoryInstallation) > 0);
});
