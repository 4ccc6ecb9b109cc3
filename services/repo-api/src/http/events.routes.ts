/**
 * `GET /api/events`: a server-sent-events stream of job and launch changes, for the web app
 * to update live. One subscription to the stores' change channel per process is fanned out
 * to every open stream; a user receives only changes of the repositories on their own list
 * (looked up once per change, at that moment), an admin all. Comment lines keep idle
 * connections (and proxies) open; closing the service ends every stream cleanly.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Gauge } from 'prom-client';
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';
import type { Logger } from '@gha-slurm/core/logger';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { Principal } from '../domain/access.ts';
import type { ChangeFeed } from '../domain/ports.ts';
import { authenticate, principalOf, type AuthSettings } from './auth.ts';
import { bearerOrSessionSecurity, errorResponses } from './route-schemas.ts';

export interface EventRouteOptions {
  auth: AuthSettings;
  feed: ChangeFeed;
  mapping: Pick<RepositoryMappingStore, 'ownerOf'>;
  logger: Logger;
  streams: Gauge;
  heartbeatMs?: number;
  maxStreams?: number;
}

interface Stream {
  principal: Principal;
  response: ServerResponse;
}

/** A client this far behind (bytes not yet taken by the socket) is dropped: it reconnects. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export class ChangeFanOut {
  private readonly streams = new Set<Stream>();
  private delivery: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: EventRouteOptions) {}

  get size(): number {
    return this.streams.size;
  }

  add(stream: Stream): void {
    this.streams.add(stream);
    this.options.streams.set(this.streams.size);
    this.unsubscribe ??= this.options.feed.subscribe((notice) => {
      // Chained, so notices reach every client in the order they were published.
      this.delivery = this.delivery.then(() => this.deliver(notice)).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'change notice not delivered');
      });
    });
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  remove(stream: Stream): void {
    this.streams.delete(stream);
    this.options.streams.set(this.streams.size);
    if (this.streams.size === 0) this.idle();
  }

  private idle() {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async deliver(notice: ChangeNotice): Promise<void> {
    if (this.streams.size === 0) return;
    const needsOwner = [...this.streams].some((stream) => !stream.principal.admin);
    const owner = needsOwner ? (await this.options.mapping.ownerOf(notice.repository))?.clusterUser : undefined;
    const frame = `event: change\ndata: ${JSON.stringify(notice)}\n\n`;
    for (const stream of this.streams) {
      if (stream.principal.admin || stream.principal.username === owner) this.write(stream, frame);
    }
  }

  private beat() {
    for (const stream of this.streams) this.write(stream, `: heartbeat ${new Date().toISOString()}\n\n`);
  }

  private write(stream: Stream, frame: string) {
    if (stream.response.writableLength > MAX_BUFFERED_BYTES) {
      this.options.logger.info({ username: stream.principal.username }, 'event stream dropped: client too slow');
      stream.response.end();
      this.remove(stream);
      return;
    }
    stream.response.write(frame);
  }

  /** Ends every stream: the service is stopping. */
  closeAll(): void {
    for (const stream of this.streams) stream.response.end(': closing\n\n');
    this.streams.clear();
    this.options.streams.set(0);
    this.idle();
  }
}

export async function eventRoutes(app: FastifyInstance, options: EventRouteOptions) {
  const fanOut = new ChangeFanOut(options);
  const maxStreams = options.maxStreams ?? 5000;
  app.addHook('preClose', async () => fanOut.closeAll());

  app.get('/api/events', {
    onRequest: authenticate(options.auth, { acceptCookie: true }),
    schema: {
      tags: ['jobs'],
      summary: 'Server-sent events: job and launch changes you may see',
      description:
        'Each change is `event: change` with a ChangeNotice ({kind, id, repository, state, at}) as data; lines starting ' +
        'with ":" are heartbeats. Authenticate with the bearer header, or the session cookie (POST /api/session) for EventSource.',
      security: bearerOrSessionSecurity,
      response: {
        200: { description: 'A text/event-stream that stays open', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errorResponses(401, 429, 503),
      },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    if (fanOut.size >= maxStreams) {
      throw new HttpError(503, 'TOO_MANY_STREAMS', 'too many open event streams on this instance; retry shortly', { 'retry-after': '5' });
    }
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      // Headers set by earlier hooks (security headers, CORS) still apply to a hijacked reply.
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 5000\n: connected\n\n');
    const stream: Stream = { principal, response };
    fanOut.add(stream);
    request.log.debug({ username: principal.username }, 'event stream opened');
    request.raw.once('close', () => fanOut.remove(stream));
  });
}
