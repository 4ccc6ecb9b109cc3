/**
 * `GET /api/events`: a server-sent-events stream of job and launch changes, for the web app
 * to update live. One subscription to the stores' change channel per process is fanned out
 * to every open stream; a user receives only changes of the repositories on their own list
 * (looked up once per change, at that moment), an admin all. Comment lines keep idle
 * connections (and proxies) open; closing the service ends every stream cleanly.
 *
 * A stream lives no longer than the credential it was opened with: every `recheckMs` (30 s by
 * default), and at once when anyone signs out on any replica, each stream's bearer token or
 * session is checked again, and the stream ends (with an `end` event saying why) once it has
 * expired, was signed out, or now signs in as someone else or without the admin role it had.
 * A user may hold `maxStreamsPerUser` streams on an instance; more is a 429.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Gauge } from 'prom-client';
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';
import type { Logger } from '@gha-slurm/core/logger';
import type { RepositoryMappingStore } from '@gha-slurm/core/stores/repository-mapping.store';
import { HttpError } from '@gha-slurm/core/http/errors';
import type { Principal } from '../domain/access.ts';
import type { ChangeFeed, SignOutFeed } from '../domain/ports.ts';
import { authenticate, checkCredential, principalOf, type AuthSettings, type Credential } from './auth.ts';
import { bearerOrSessionSecurity, errorResponses } from './route-schemas.ts';

export interface EventRouteOptions {
  auth: AuthSettings;
  feed: ChangeFeed;
  signOuts: SignOutFeed;
  mapping: Pick<RepositoryMappingStore, 'ownerOf'>;
  logger: Logger;
  streams: Gauge;
  heartbeatMs?: number;
  /** How often each stream's credential is checked again; at most 30 s. */
  recheckMs?: number;
  maxStreams?: number;
  maxStreamsPerUser?: number;
}

interface Stream {
  principal: Principal;
  credential: Credential;
  /** When the credential expires (epoch ms), when known. */
  expiresAtMs: number | undefined;
  response: ServerResponse;
}

/** Why a stream ended, sent to the client as the data of its last event. */
type EndReason = 'expired' | 'signed-out' | 'access-changed';

/** A client this far behind (bytes not yet taken by the socket) is dropped: it reconnects. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export class ChangeFanOut {
  private readonly streams = new Set<Stream>();
  private delivery: Promise<void> = Promise.resolve();
  private readonly perUser = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribeSignOuts: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private recheck: { again: boolean } | undefined;

  constructor(private readonly options: EventRouteOptions) {}

  get size(): number {
    return this.streams.size;
  }

  streamsOf(username: string): number {
    return this.perUser.get(username) ?? 0;
  }

  add(stream: Stream): void {
    this.streams.add(stream);
    this.perUser.set(stream.principal.username, this.streamsOf(stream.principal.username) + 1);
    this.options.streams.set(this.streams.size);
    this.unsubscribe ??= this.options.feed.subscribe((notice) => {
      // Chained, so notices reach every client in the order they were published.
      this.delivery = this.delivery.then(() => this.deliver(notice)).catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'change notice not delivered');
      });
    });
    this.unsubscribeSignOuts ??= this.options.signOuts.subscribe(() => this.checkCredentials((each) => each.credential.kind === 'session'));
    this.heartbeat ??= setInterval(() => this.beat(), this.options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    this.recheckTimer ??= setInterval(() => this.checkCredentials(), Math.min(this.options.recheckMs ?? 30_000, 30_000));
    this.recheckTimer.unref();
  }

  remove(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    const left = this.streamsOf(stream.principal.username) - 1;
    if (left > 0) this.perUser.set(stream.principal.username, left);
    else this.perUser.delete(stream.principal.username);
    this.options.streams.set(this.streams.size);
    if (this.streams.size === 0) this.idle();
  }

  private idle() {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeSignOuts?.();
    this.unsubscribeSignOuts = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    clearInterval(this.recheckTimer);
    this.recheckTimer = undefined;
  }

  /**
   * Checks the credentials of the open streams (those `which` selects) and ends the streams
   * whose credential no longer holds. Checks do not overlap: one asked for while another runs
   * follows it, covering every stream, so a burst of sign-outs costs two rounds, not one each.
   */
  private checkCredentials(which?: (stream: Stream) => boolean): void {
    if (this.recheck) {
      this.recheck.again = true;
      return;
    }
    const state = { again: false };
    this.recheck = state;
    const chosen = [...this.streams].filter((stream) => !which || which(stream));
    void Promise.all(chosen.map((stream) => this.checkStream(stream))).finally(() => {
      this.recheck = undefined;
      if (state.again) this.checkCredentials();
    });
  }

  private async checkStream(stream: Stream): Promise<void> {
    let reason: EndReason | null = null;
    try {
      reason = await this.endReason(stream);
    } catch (error) {
      // Redis or the OIDC provider failed: the next round decides; the credential's expiry still holds.
      this.options.logger.warn({ err: error, username: stream.principal.username }, 'event stream credential not checked');
      reason = this.expired(stream) ? 'expired' : null;
    }
    if (reason) this.end(stream, reason);
  }

  private expired(stream: Stream): boolean {
    return stream.expiresAtMs !== undefined && stream.expiresAtMs <= Date.now();
  }

  private async endReason(stream: Stream): Promise<EndReason | null> {
    if (this.expired(stream)) return 'expired';
    const check = await checkCredential(this.options.auth, stream.credential);
    if (check.kind === 'unavailable') return null;
    if (check.kind === 'invalid') return stream.credential.kind === 'session' ? 'signed-out' : 'expired';
    if (check.principal.username !== stream.principal.username || check.principal.admin !== stream.principal.admin) return 'access-changed';
    stream.expiresAtMs = check.expiresAtMs;
    return this.expired(stream) ? 'expired' : null;
  }

  private end(stream: Stream, reason: EndReason): void {
    if (!this.streams.has(stream)) return;
    this.options.logger.info({ username: stream.principal.username, reason }, 'event stream ended: its credential no longer holds');
    stream.response.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.remove(stream);
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
    if (stream.response.destroyed) {
      // Gone without a 'close' we heard: nobody reads it any more.
      this.remove(stream);
      return;
    }
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
    this.perUser.clear();
    this.options.streams.set(0);
    this.idle();
  }
}

export async function eventRoutes(app: FastifyInstance, options: EventRouteOptions) {
  const fanOut = new ChangeFanOut(options);
  const maxStreams = options.maxStreams ?? 5000;
  const maxStreamsPerUser = options.maxStreamsPerUser ?? 10;
  app.addHook('preClose', async () => fanOut.closeAll());

  app.get('/api/events', {
    onRequest: authenticate(options.auth, { acceptCookie: true }),
    schema: {
      tags: ['jobs'],
      summary: 'Server-sent events: job and launch changes you may see',
      description:
        'Each change is `event: change` with a ChangeNotice ({kind, id, repository, state, at}) as data; lines starting ' +
        'with ":" are heartbeats. Authenticate with the bearer header, or the session cookie (POST /api/session) for EventSource. ' +
        'The credential is checked again at least every 30 s and on sign-out; once it no longer holds the stream ends with ' +
        '`event: end` and data {reason: expired | signed-out | access-changed}. At most 10 streams per user and instance (429).',
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
    if (fanOut.streamsOf(principal.username) >= maxStreamsPerUser) {
      throw new HttpError(
        429,
        'TOO_MANY_STREAMS_FOR_USER',
        `you have ${maxStreamsPerUser} event streams open already (one per open page); close a page and try again`,
        { 'retry-after': '30' },
      );
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
    const stream: Stream = { principal, credential: request.credential!, expiresAtMs: request.principalExpiresAtMs, response };
    fanOut.add(stream);
    request.log.debug({ username: principal.username }, 'event stream opened');
    request.raw.once('close', () => fanOut.remove(stream));
    // Signing in may take long enough for the page to be gone already: its 'close' came before
    // anyone listened, and the stream would count against the user's streams until it expired.
    if (request.raw.socket?.destroyed) fanOut.remove(stream);
  });
}
