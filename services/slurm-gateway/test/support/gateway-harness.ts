/**
 * The gateway in-process against a real Slurm, with what a runner job meets on the node: a
 * token broker (a real HTTP server on loopback that records what the job script sent) and a
 * runner installation whose `run.sh` writes down who ran it and with what.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLaunchSigner, type LaunchClaimsInput, type LaunchSigner } from '@gha-slurm/core/launch-token';
import { launchKeyPair } from '@gha-slurm/core/testing/launch-keys';
import type { LocalSlurm } from '@gha-slurm/core/testing/local-slurm';
import { createLogger } from '@gha-slurm/core/logger';
import { createMetricsRegistry } from '@gha-slurm/core/metrics';
import { loadGatewayConfig } from '../../src/config.ts';
import { createGateway } from '../../src/gateway.ts';

export interface BrokerCall {
  path: string;
  headers: IncomingHttpHeaders;
}

/** The runner name in a launch token (its payload, unverified: this is the test's own broker). */
function runnerNameIn(authorization: string | undefined): string {
  const token = (authorization ?? '').replace(/^Bearer /, '');
  try {
    return String((JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { runnerName?: string }).runnerName ?? '');
  } catch {
    return '';
  }
}

/** A token broker that grants a JIT configuration to every caller, and remembers the calls. */
export class RecordingBroker {
  readonly calls: BrokerCall[] = [];
  /** Status codes for a runner's next calls, in order; 200 with a JIT config after they run out. */
  private readonly scripts = new Map<string, number[]>();
  private server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      this.calls.push({ path: request.url ?? '', headers: request.headers });
      request.resume();
      const status = this.scripts.get(runnerNameIn(request.headers.authorization))?.shift() ?? 200;
      const body = status === 200 ? { jitconfig: `jit-${randomUUID()}`, runner: { id: 1, name: 'x' } } : { message: `answered ${status}` };
      response.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '1' } : {}) }).end(JSON.stringify(body));
    });
  }

  /** How the broker answers this runner's job script (other runners' jobs may call meanwhile). */
  answer(runnerName: string, statuses: number[]): void {
    this.scripts.set(runnerName, [...statuses]);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What the fake runner wrote: the account it ran as, its Slurm job, the JIT config it got. */
export interface RunnerReport {
  user: string;
  slurmJobId: string;
  runnerName: string;
  jitConfig: string;
  launchTokenSet: boolean;
}

export interface GatewayHarness {
  url: string;
  secret: string;
  signer: LaunchSigner;
  /** The launch signing key (PKCS#8 PEM), for tokens the signer would not make. */
  signingKeyPem: string;
  broker: RecordingBroker;
  brokerUrl: string;
  /** Where runner jobs write their reports and output. */
  scratch: string;
  logs(): string;
  /** A launch's claims; a fresh runner name unless given. */
  claims(overrides?: Partial<LaunchClaimsInput>): LaunchClaimsInput;
  /** The wire body the dispatcher sends for these claims. */
  body(claims: LaunchClaimsInput, token: string, extra?: Record<string, string>): Record<string, string>;
  runnerReport(runnerName: string): RunnerReport | null;
  /** Makes this runner's job run for `seconds` once it starts (0: ends at once). */
  hold(runnerName: string, seconds: number): void;
  close(): Promise<void>;
}

export async function startGatewayHarness(slurm: LocalSlurm, env: Record<string, string> = {}): Promise<GatewayHarness> {
  const keys = launchKeyPair();
  const secret = `gw-${randomUUID()}`;
  const scratch = mkdtempSync(join(tmpdir(), 'gha-gateway-test-'));
  chmodSync(scratch, 0o755);
  const reports = join(scratch, 'reports');
  const output = join(scratch, 'output');
  const runnerDir = join(scratch, 'runner');
  for (const dir of [reports, output]) {
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
  }
  mkdirSync(runnerDir);
  // The runner installation: `run.sh` reports, then holds its job as long as `hold()` said.
  writeFileSync(
    join(runnerDir, 'run.sh'),
    [
      '#!/bin/bash',
      `report="${reports}/$GHA_RUNNER_NAME"`,
      'printf "user=%s\\njob=%s\\nrunner=%s\\njit=%s\\ntoken=%s\\n" "$(id -un)" "$SLURM_JOB_ID" "$GHA_RUNNER_NAME" "$ACTIONS_RUNNER_INPUT_JITCONFIG" "${GHA_LAUNCH_TOKEN:+set}" > "$report.tmp"',
      'mv "$report.tmp" "$report"',
      'echo "Running job: build"',
      `sleep "$(cat "${scratch}/hold-$GHA_RUNNER_NAME" 2>/dev/null || echo 0)"`,
    ].join('\n') + '\n',
    { mode: 0o755 },
  );
  writeFileSync(join(runnerDir, 'config.sh'), '#!/bin/bash\nexit 0\n', { mode: 0o755 });

  const broker = new RecordingBroker();
  const brokerUrl = await broker.start();
  let logText = '';
  const logger = createLogger({
    name: 'slurm-gateway',
    level: 'debug',
    destination: new Writable({ write: (chunk, _encoding, done) => ((logText += chunk.toString()), done()) }),
  });
  const config = loadGatewayConfig({
    SLURM_GATEWAY_SECRET: secret,
    LAUNCH_VERIFY_KEYS: keys.publicPem,
    SLURMRESTD_URL: slurm.slurmrestdUrl,
    SLURM_JWT_KEY_FILE: slurm.jwtKeyFile,
    SLURMRESTD_TIMEOUT_SECONDS: '5',
    RUNNER_OUTPUT: `${output}/%u-%x-%j.log`,
    RUNNER_INSTALL_DIR: runnerDir,
    RUNNER_IDLE_SECONDS: '30',
    ...env,
  });
  const { app } = await createGateway(config, { logger, registry: createMetricsRegistry('slurm-gateway', false) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const signer = await createLaunchSigner({ privateKeyPem: keys.privatePem });

  return {
    url,
    secret,
    signer,
    signingKeyPem: keys.privatePem,
    broker,
    brokerUrl,
    scratch,
    logs: () => logText,
    claims(overrides = {}) {
      const launchId = randomUUID();
      return {
        sub: launchId,
        repository: 'example-lab/simulation',
        repositoryUrl: 'https://github.com/example-lab/simulation',
        workflowJobId: Math.floor(Math.random() * 1e9),
        labels: ['self-hosted', 'slurm', 'linux', 'x64'],
        runnerName: `slurm-${launchId.slice(0, 18)}`,
        clusterUser: 'gha-alice',
        installationId: 42,
        profile: 'default',
        ...overrides,
      };
    },
    body(claims, token, extra = {}) {
      return {
        gitHubURL: claims.repositoryUrl,
        launcherToken: token,
        runnerName: claims.runnerName,
        runnerLabels: claims.labels.join(','),
        cpus: '1',
        memory: '100',
        duration: '10',
        clusterUser: claims.clusterUser,
        tokenURL: brokerUrl,
        ...extra,
      };
    },
    runnerReport(runnerName) {
      const file = join(reports, runnerName);
      if (!existsSync(file)) return null;
      const fields = Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      return { user: fields.user!, slurmJobId: fields.job!, runnerName: fields.runner!, jitConfig: fields.jit!, launchTokenSet: fields.token === 'set' };
    },
    hold(runnerName, seconds) {
      writeFileSync(join(scratch, `hold-${runnerName}`), String(seconds));
    },
    async close() {
      await app.close();
      await broker.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
