/**
 * A stand-in for gha-slurm-munge's `POST /runner/start`, on loopback: records every request
 * and answers as told (accept, fail with a status, hang, or refuse the auth-token).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type GatewayMode = { kind: 'accept' } | { kind: 'status'; status: number } | { kind: 'hang' };

export interface RecordedStart {
  headers: IncomingMessage['headers'];
  body: Record<string, string>;
  answeredWith: number | 'hung';
}

export class FakeGateway {
  readonly requests: RecordedStart[] = [];
  /** Modes applied to the next requests in order; `fallback` after they run out. */
  script: GatewayMode[] = [];
  fallback: GatewayMode = { kind: 'accept' };
  private server: Server;
  private hanging = new Set<IncomingMessage>();

  constructor(readonly secret: string) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
        const mode = this.script.shift() ?? this.fallback;
        const record: RecordedStart = { headers: request.headers, body, answeredWith: 'hung' };
        this.requests.push(record);
        if (request.url !== '/runner/start' || request.method !== 'POST') return this.answer(response, record, 404);
        if (request.headers['auth-token'] !== this.secret) return this.answer(response, record, 401, { error: 'Unauthorized' });
        if (mode.kind === 'hang') {
          this.hanging.add(request);
          return;
        }
        if (mode.kind === 'status') return this.answer(response, record, mode.status, { error: 'Slurm said no' });
        this.answer(response, record, 200, { status: 'OK!' });
      });
    });
  }

  private answer(response: import('node:http').ServerResponse, record: RecordedStart, status: number, body: unknown = {}) {
    record.answeredWith = status;
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Accepted starts, by runner name. */
  accepted(): RecordedStart[] {
    return this.requests.filter((request) => request.answeredWith === 200);
  }

  async stop(): Promise<void> {
    for (const request of this.hanging) request.socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
