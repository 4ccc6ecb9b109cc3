import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createLaunchSigner, createLaunchVerifier, parseVerificationKeys, type LaunchClaims } from '@gha-slurm/core/launch-token';
import {
  AppNotPermitted,
  GitHubRejected,
  GitHubUnavailable,
  StoreUnavailable,
  type DemandDecision,
  type GrantLedger,
  type GrantRecord,
  type InstallationStatus,
  type JitRequest,
  type LaunchJobView,
  type RunnerCredentialSource,
} from './ports.ts';
import { RunnerGrant } from './runner-grant.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const signer = await createLaunchSigner({ privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
const verifier = createLaunchVerifier(await parseVerificationKeys(publicKey.export({ type: 'spki', format: 'pem' }).toString()));

const token = async () =>
  (
    await signer.sign({
      sub: 'launch-1', repository: 'octo/repo', repositoryUrl: 'https://github.com/octo/repo', workflowJobId: 5,
      labels: ['self-hosted', 'slurm'], runnerName: 'slurm-launch-1', clusterUser: 'alice', installationId: 9, profile: 'default',
    })
  ).token;

/** Demand as a count of free jobs, and what was recorded. */
class MemoryLedger implements GrantLedger {
  readonly granted = new Set<string>();
  readonly records: GrantRecord[] = [];
  released = 0;
  reserveError: Error | null = null;
  constructor(public freeJobs: number, public job: LaunchJobView | null = null) {}

  async reserve(claims: LaunchClaims): Promise<DemandDecision> {
    if (this.reserveError) throw this.reserveError;
    if (this.granted.has(claims.jti)) return { kind: 'already-granted' };
    if (this.freeJobs <= 0) return { kind: 'no-demand', queued: 0, covered: 0 };
    this.freeJobs -= 1;
    this.granted.add(claims.jti);
    return { kind: 'granted' };
  }
  async reserveAndRecord(claims: LaunchClaims, record: GrantRecord) {
    const decision = await this.reserve(claims);
    if (decision.kind === 'granted') this.records.push(record);
    return decision;
  }
  async release(claims: LaunchClaims) {
    this.released += 1;
    this.freeJobs += 1;
    this.granted.delete(claims.jti);
  }
  async launchJob() {
    return this.job;
  }
  async record(_claims: LaunchClaims, record: GrantRecord) {
    this.records.push(record);
  }
}

class FakeGitHub implements RunnerCredentialSource {
  readonly calls: string[] = [];
  installed: InstallationStatus = { installed: true, installationId: 42 };
  failure: Error | null = null;
  /** A registration token this replica already holds, and how often one was handed out. */
  cached: string | null = null;
  cachedUses = 0;

  cachedRegistrationToken(repository: string) {
    if (!this.cached || repository !== 'octo/repo') return undefined;
    return { registration: { token: this.cached, expiresAt: '2030-01-01T00:00:00Z' }, used: () => void (this.cachedUses += 1) };
  }
  async installation(repository: string) {
    this.calls.push(`installation ${repository}`);
    return this.installed;
  }
  async registrationToken(repository: string, installationId: number) {
    this.calls.push(`registration ${repository} ${installationId}`);
    if (this.failure) throw this.failure;
    return { token: 'REGTOKEN', expiresAt: '2030-01-01T00:00:00Z' };
  }
  async jitConfig(repository: string, installationId: number, request: JitRequest) {
    this.calls.push(`jit ${repository} ${installationId} ${request.name} ${request.labels.join(',')}`);
    if (this.failure) throw this.failure;
    return { jitconfig: 'JIT', runner: { id: 3, name: request.name } };
  }
}

function setup(freeJobs = 1, job: LaunchJobView | null = null) {
  const ledger = new MemoryLedger(freeJobs, job);
  const github = new FakeGitHub();
  return { ledger, github, grant: new RunnerGrant({ verifier, ledger, github }) };
}

test('a verified token with demand gets credentials from the installation GitHub names, recorded as granted', async () => {
  const { ledger, github, grant } = setup();
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.equal(outcome.kind, 'granted');
  assert.deepEqual(github.calls, ['installation octo/repo', 'registration octo/repo 42']);
  assert.deepEqual(ledger.records.map((record) => record.outcome), ['granted']);

  const jit = setup();
  const jitOutcome = await jit.grant.grant(`Bearer ${await token()}`, 'jit-config');
  assert.ok(jitOutcome.kind === 'granted' && jitOutcome.credential === 'jit-config');
  assert.deepEqual(jit.github.calls, ['installation octo/repo', 'jit octo/repo 42 slurm-launch-1 self-hosted,slurm']);
});

test('a token that does not verify reaches neither the ledger nor GitHub', async () => {
  const { ledger, github, grant } = setup();
  const bad = `${(await token()).slice(0, -4)}AAAA`;
  const outcome = await grant.grant(bad, 'registration-token');
  assert.ok(outcome.kind === 'refused' && outcome.refusal.check === 'token' && outcome.refusal.failure === 'signature');
  assert.equal(ledger.freeJobs, 1);
  assert.deepEqual(ledger.records, []);
  assert.deepEqual(github.calls, []);
});

test('no demand refuses before GitHub is asked, with the reason, as a terminal refusal', async () => {
  const { ledger, github, grant } = setup(0, { state: 'completed', conclusion: 'cancelled' });
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.ok(outcome.kind === 'refused' && outcome.refusal.check === 'demand' && outcome.refusal.reason === 'cancelled');
  assert.deepEqual(github.calls, []);
  assert.deepEqual(ledger.records.map((record) => [record.outcome, 'terminal' in record && record.terminal]), [['refused', true]]);
});

test('a token used twice is a replay, not a demand refusal', async () => {
  const { ledger, grant } = setup(5);
  const once = await token();
  assert.equal((await grant.grant(once, 'registration-token')).kind, 'granted');
  const again = await grant.grant(once, 'jit-config');
  assert.ok(again.kind === 'refused' && again.refusal.check === 'replay');
  assert.equal(ledger.freeJobs, 4);
});

test('the App not installed (or suspended, or not permitted) releases the reservation', async () => {
  const { ledger, github, grant } = setup();
  github.installed = { installed: false, reason: 'suspended' };
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.ok(outcome.kind === 'refused' && outcome.refusal.check === 'installation' && outcome.refusal.reason === 'suspended');
  assert.deepEqual(github.calls, ['installation octo/repo']);
  assert.equal(ledger.released, 1);
  assert.equal(ledger.freeJobs, 1);
  assert.deepEqual(ledger.records.map((record) => [record.outcome, 'terminal' in record && record.terminal]), [['refused', false]]);

  const denied = setup();
  denied.github.failure = new AppNotPermitted('no Administration permission');
  const refused = await denied.grant.grant(await token(), 'registration-token');
  assert.ok(refused.kind === 'refused' && refused.refusal.check === 'installation' && refused.refusal.reason === 'not-permitted');
  assert.equal(denied.ledger.freeJobs, 1);
});

test('GitHub failing releases the reservation, so the same token works afterwards', async () => {
  const { ledger, github, grant } = setup();
  github.failure = new GitHubUnavailable('GitHub failed (502)', 10);
  const once = await token();
  const failed = await grant.grant(once, 'registration-token');
  assert.ok(failed.kind === 'failed' && failed.failure.cause === 'github-unavailable' && failed.failure.retryAfterSeconds === 10);
  assert.deepEqual(ledger.records.map((record) => record.outcome), ['failed']);
  github.failure = null;
  assert.equal((await grant.grant(once, 'registration-token')).kind, 'granted');

  const rejected = setup();
  rejected.github.failure = new GitHubRejected('GitHub refused the request (422)', 422);
  const outcome = await rejected.grant.grant(await token(), 'jit-config');
  assert.ok(outcome.kind === 'failed' && outcome.failure.cause === 'github-rejected');
  assert.equal(rejected.ledger.released, 1);
});

test('the store unavailable is a retryable failure; an unexpected error still releases and propagates', async () => {
  const { ledger, github, grant } = setup();
  ledger.reserveError = new StoreUnavailable('connection refused');
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.ok(outcome.kind === 'failed' && outcome.failure.cause === 'store-unavailable');
  assert.deepEqual(github.calls, []);

  const broken = setup();
  broken.github.failure = new TypeError('a bug');
  await assert.rejects(broken.grant.grant(await token(), 'registration-token'), TypeError);
  assert.equal(broken.ledger.released, 1);
});

test('a registration token at hand is granted with no GitHub call, reserved and recorded in one step', async () => {
  const { ledger, github, grant } = setup();
  github.cached = 'CACHED';
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.ok(outcome.kind === 'granted' && outcome.credential === 'registration-token');
  assert.equal(outcome.registration.token, 'CACHED');
  assert.deepEqual(github.calls, []);
  assert.equal(github.cachedUses, 1);
  assert.equal(ledger.freeJobs, 0);
  assert.deepEqual(ledger.records, [{ outcome: 'granted', credential: 'registration-token', detail: 'registration token for slurm-launch-1' }]);
});

test('a registration token at hand is not handed out without demand, and the refusal says why as before', async () => {
  const { ledger, github, grant } = setup(0, { state: 'completed', conclusion: 'cancelled' });
  github.cached = 'CACHED';
  const outcome = await grant.grant(await token(), 'registration-token');
  assert.ok(outcome.kind === 'refused' && outcome.refusal.check === 'demand' && outcome.refusal.reason === 'cancelled');
  assert.equal(github.cachedUses, 0);
  assert.deepEqual(ledger.records.map((record) => [record.outcome, 'terminal' in record && record.terminal]), [['refused', true]]);
});

test('a JIT configuration is never taken from a cache: it is minted after the reservation', async () => {
  const { github, grant } = setup();
  github.cached = 'CACHED';
  const outcome = await grant.grant(await token(), 'jit-config');
  assert.ok(outcome.kind === 'granted' && outcome.credential === 'jit-config');
  assert.deepEqual(github.calls, ['installation octo/repo', 'jit octo/repo 42 slurm-launch-1 self-hosted,slurm']);
});
