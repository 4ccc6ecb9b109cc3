import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewaySim } from './gateway-sim.ts';
import type { RunnerHost } from './runner-host.ts';

/** A broker on loopback that answers as a test says, and records the Authorization it got. */
let broker: Server;
let brokerUrl: string;
const brokerCalls: Array<{ url: string; authorization: string | undefined }> = [];
let brokerAnswer: { status: number; body: unknown } = { status: 200, body: { token: 'REG-TOKEN', name: 'slurm-x', labels: ['self-hosted', 'slurm'], url: 'u', expires_at: 'e' } };

/** GitHub's side in memory: which runners registered, and jobs to hand out. */
class MemoryRunnerHost implements RunnerHost {
  registered: Array<{ token?: string; jitconfig?: string; name?: string }> = [];
  jobsToGive: number[] = [];
  completed: number[] = [];
  disconnected: number[] = [];
  async registerWithToken(input: { token: string; name: string; labels: string[] }) {
    this.registered.push({ token: input.token, name: input.name });
    return { id: this.registered.length, name: input.name, labels: input.labels };
  }
  async registerWithJitConfig(jitconfig: string) {
    this.registered.push({ jitconfig });
    return { id: this.registered.length, name: 'jit', labels: [] };
  }
  async acquireJob() {
    const id = this.jobsToGive.shift();
    return id === undefined ? null : { id, name: 'build', repository: 'o/r' };
  }
  async completeJob(_runnerId: number, jobId: number) {
    this.completed.push(jobId);
  }
  async disconnect(runnerId: number) {
    this.disconnected.push(runnerId);
  }
}
const host = new MemoryRunnerHost();

let sim: GatewaySim;
let url: string;

before(async () => {
  broker = createServer((request, response) => {
    brokerCalls.push({ url: request.url ?? '', authorization: request.headers.authorization });
    response.writeHead(brokerAnswer.status, { 'content-type': 'application/json' }).end(JSON.stringify(brokerAnswer.body));
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}`;
  sim = new GatewaySim({ secret: 'gw-secret', defaultTokenUrl: brokerUrl, mode: 'token', queueDelayMs: [5, 20], jobWaitMs: 50, runMs: [5, 10] }, host);
  url = await sim.listen();
});
after(async () => {
  await sim.close();
  broker.close();
});

function start(body: Record<string, string>, secret = 'gw-secret') {
  return fetch(`${url}/runner/start`, { method: 'POST', headers: { 'content-type': 'application/json', 'auth-token': secret }, body: JSON.stringify(body) });
}
const request = (token: string) => ({ gitHubURL: 'https://github.com/o/r', launcherToken: token, runnerName: 'slurm-x', runnerLabels: 'self-hosted,slurm', cpus: '4', memory: '8192', duration: '120', tokenURL: brokerUrl });

test('the contract: auth-token checked, required fields, 200 {"status":"OK!"}', async () => {
  assert.equal((await start(request('t'), 'wrong')).status, 401);
  assert.equal((await start({ gitHubURL: 'x' })).status, 400);
  sim.faults.failNext = 1;
  assert.equal((await start(request('t'))).status, 500);
  const accepted = await start(request('t0'));
  assert.equal(accepted.status, 200);
  assert.deepEqual(await accepted.json(), { status: 'OK!' });
  await sim.idle();
});

test('a submitted job asks the broker with the raw launch token, registers, runs a job and ends', async () => {
  host.jobsToGive.push(77);
  brokerCalls.length = 0;
  await start(request('LAUNCH-JWT-1'));
  await sim.idle();
  assert.deepEqual(brokerCalls, [{ url: '/gha/runner', authorization: 'LAUNCH-JWT-1' }]);
  assert.equal(host.registered.at(-1)?.token, 'REG-TOKEN');
  assert.deepEqual(host.completed, [77]);
  const job = sim.jobs.at(-1)!;
  assert.equal(job.state, 'COMPLETED');
  assert.deepEqual(job.outcome, { kind: 'ran', runnerId: host.registered.length, jobId: 77 });
  assert.equal(job.memory, '8192');
});

test('no token: the job ends at once; no job within the wait: the runner goes away', async () => {
  const registeredBefore = host.registered.length;
  brokerAnswer = { status: 410, body: { message: 'no queued job left: completed' } };
  await start(request('LAUNCH-JWT-2'));
  await sim.idle();
  assert.deepEqual(sim.jobs.at(-1)!.outcome, { kind: 'no-token', status: 410, reason: 'no queued job left: completed' });
  assert.equal(host.registered.length, registeredBefore);

  brokerAnswer = { status: 200, body: { token: 'REG-TOKEN-2' } };
  await start(request('LAUNCH-JWT-3'));
  await sim.idle();
  assert.equal(sim.jobs.at(-1)!.outcome?.kind, 'no-job');
  assert.equal(host.disconnected.at(-1), host.registered.length);
});

test('a dropped submission answers 200 and never runs', async () => {
  brokerCalls.length = 0;
  sim.faults.dropNext = 1;
  assert.equal((await start(request('LAUNCH-JWT-4'))).status, 200);
  await sim.idle();
  assert.equal(sim.jobs.at(-1)!.state, 'NEVER_SUBMITTED');
  assert.equal(brokerCalls.length, 0);
});
