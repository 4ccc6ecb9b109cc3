/**
 * What the simulator's tests share: an App key made at test time, a webhook receiver on
 * loopback that records exactly what arrived, the simulator wired to it, and the real App
 * client (`@octokit/auth-app` through core's `createGitHubApp`).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGitHubApp, type GitHubApp } from '@gha-slurm/core/github/app-client';
import { createLogger } from '@gha-slurm/core/logger';
import { generateAppKeyPair, type AppKeyPair } from '../../src/app-keys.ts';
import { startGitHubSim, type GitHubSim, type GitHubSimOptions } from '../../src/github-sim.ts';

export const APP_ID = 5150;
export const WEBHOOK_SECRET = 'test-webhook-secret-made-up-for-tests';

let keys: Promise<AppKeyPair> | undefined;
/** One key pair per test file (RSA generation takes a moment). */
export function appKeys(): Promise<AppKeyPair> {
  keys ??= generateAppKeyPair();
  return keys;
}

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: string;
  payload: any;
  event: string;
  action: string | undefined;
  guid: string;
  arrivedAt: number;
  /** When the receiver answered (after `delayMs`). */
  answeredAt?: number;
}

/** An intake stand-in: records every delivery, answers `status()` (202 unless told otherwise). */
export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  status = () => 202;
  /** How long to take before answering a delivery (a slow intake). */
  delayMs: (payload: any) => number = () => 0;
  private server!: Server;
  private listeners: Array<() => void> = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const arrivedAt = performance.now();
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.status();
        let payload: any = null;
        try {
          payload = JSON.parse(body);
        } catch {
          // recorded as is
        }
        const entry: ReceivedDelivery = {
          headers: request.headers,
          body,
          payload,
          event: String(request.headers['x-github-event']),
          action: payload?.action,
          guid: String(request.headers['x-github-delivery']),
          arrivedAt,
        };
        if (status >= 200 && status < 300) {
          this.received.push(entry);
          for (const listener of [...this.listeners]) listener();
        }
        setTimeout(() => {
          entry.answeredAt = performance.now();
          response.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
        }, this.delayMs(payload));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhook`;
    return this;
  }

  /** Deliveries of one workflow job, in arrival order. */
  forJob(jobId: number): ReceivedDelivery[] {
    return this.received.filter((delivery) => delivery.event === 'workflow_job' && delivery.payload?.workflow_job?.id === jobId);
  }

  /** Resolves once `predicate` holds (checked on each arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((entry) => entry !== listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((entry) => entry !== listener);
        reject(new Error(`timed out waiting for deliveries; received ${this.received.map((d) => `${d.event}.${d.action}`).join(', ')}`));
      }, timeoutMs);
      this.listeners.push(listener);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface Harness {
  sim: GitHubSim;
  receiver: WebhookReceiver;
  keys: AppKeyPair;
  github: GitHubApp;
  close(): Promise<void>;
}

/** The simulator with its webhook pointed at a fresh receiver, and the real App client. */
export async function startHarness(options: Partial<GitHubSimOptions> = {}): Promise<Harness> {
  const keys = await appKeys();
  const receiver = await new WebhookReceiver().start();
  const sim = await startGitHubSim({
    app: { id: APP_ID, publicKeyPem: keys.publicKeyPem },
    webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
    webUrl: 'https://github.example.test',
    ...options,
  });
  const github = createGitHubApp({
    appId: APP_ID,
    privateKey: keys.privateKeyPem,
    baseUrl: sim.url,
    logger: createLogger({ name: 'github-sim-test', level: 'silent' }),
    errorRetries: 0,
    rateLimitRetries: 0,
  });
  return {
    sim,
    receiver,
    keys,
    github,
    async close() {
      await sim.close();
      await receiver.close();
    },
  };
}

/** A POST to the simulator's control API or runner protocol. */
export async function simPost(sim: GitHubSim, path: string, body: unknown = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function simGet(sim: GitHubSim, path: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sim.url}${path}`);
  return { status: response.status, body: await response.json() };
}
