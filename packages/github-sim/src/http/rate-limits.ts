/**
 * GitHub's rate limits, enforced as GitHub documents them, when a test asks for them
 * (`startGitHubSim({ limits })`; off by default, so other tests are unaffected):
 *
 * - secondary, **points per minute per endpoint**: a GET (HEAD, OPTIONS) costs 1 point, any
 *   other method 5; over any 60 s no endpoint takes more than `pointsPerMinute` (GitHub.com:
 *   900, so about 180 runner registration or JIT POSTs a minute). Beyond it: 429 with
 *   `retry-after` (the seconds until enough points age out of the minute);
 * - secondary, **concurrent requests**: more than `concurrentRequests` (GitHub.com: 100) in
 *   flight at once is 403 with `retry-after: 60`;
 * - primary, **requests per hour** (`requestsPerHour`; GitHub.com: 5,000 per installation),
 *   counted per installation token, and apart for the App's own JWT: with none left, 403
 *   `API rate limit exceeded` with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`. Every
 *   answer then carries the caller's own `x-ratelimit-*` window.
 *
 * The sliding minute is the strictest reading of "per minute": a client that stays inside it
 * stays inside any other.
 */

export interface SimLimits {
  /** Secondary limit: points over any 60 s, per endpoint (route template). */
  pointsPerMinute?: number;
  /** Secondary limit: requests in flight at once. */
  concurrentRequests?: number;
  /** Primary limit: requests per hour per installation token (and for the App's JWT). */
  requestsPerHour?: number;
}

/** GitHub.com's documented limits for an App's installation. */
export const GITHUB_COM_LIMITS: Required<SimLimits> = { pointsPerMinute: 900, concurrentRequests: 100, requestsPerHour: 5000 };

export interface LimitRefusal {
  status: 403 | 429;
  message: string;
  headers: Record<string, string>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export function pointsOf(method: string): number {
  return /^(GET|HEAD|OPTIONS)$/i.test(method) ? 1 : 5;
}

/** The calls an endpoint received in the last minute, oldest first, and their points. */
class SlidingMinute {
  private readonly calls: Array<{ at: number; points: number }> = [];
  private head = 0;
  private total = 0;

  private prune(now: number): void {
    while (this.head < this.calls.length && this.calls[this.head]!.at <= now - MINUTE_MS) {
      this.total -= this.calls[this.head]!.points;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.calls.length) {
      this.calls.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Takes the points, or says in how many ms enough of them will have aged out. */
  take(points: number, limit: number, now: number): number {
    this.prune(now);
    if (this.total + points <= limit) {
      this.calls.push({ at: now, points });
      this.total += points;
      return 0;
    }
    let freed = 0;
    for (let index = this.head; index < this.calls.length; index++) {
      freed += this.calls[index]!.points;
      if (this.total - freed + points <= limit) return this.calls[index]!.at + MINUTE_MS - now;
    }
    return MINUTE_MS;
  }
}

export class SimRateLimits {
  private readonly minutes = new Map<string, SlidingMinute>();
  private readonly windows = new Map<string, { used: number; resetAt: number }>();
  private inFlight = 0;
  /** Every refusal so far, for tests: which limit, which endpoint. */
  readonly refusals: Array<{ limit: 'points' | 'concurrency' | 'primary'; route: string; at: number }> = [];

  constructor(readonly limits: SimLimits) {}

  /** The primary window of a caller (`app` or `installation:<id>`), counting this call. */
  private window(scope: string, now: number) {
    let window = this.windows.get(scope);
    if (!window || now >= window.resetAt) {
      window = { used: 0, resetAt: now + HOUR_MS };
      this.windows.set(scope, window);
    }
    return window;
  }

  private headers(limit: number, window: { used: number; resetAt: number }): Record<string, string> {
    return {
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - window.used)),
      'x-ratelimit-reset': String(Math.ceil(window.resetAt / 1000)),
      'x-ratelimit-used': String(Math.min(limit, window.used)),
      'x-ratelimit-resource': 'core',
    };
  }

  /**
   * Admits a call, or says how GitHub refuses it. An admitted call is in flight until `done`.
   * `primaryHeaders` are the caller's window after the call, when the primary limit is on.
   */
  admit(route: string, method: string, scope: string): { refusal: LimitRefusal | null; primaryHeaders: Record<string, string> } {
    const now = Date.now();
    const { pointsPerMinute, concurrentRequests, requestsPerHour } = this.limits;
    let primaryHeaders: Record<string, string> = {};
    if (requestsPerHour !== undefined) {
      const window = this.window(scope, now);
      if (window.used >= requestsPerHour) {
        this.refusals.push({ limit: 'primary', route, at: now });
        const message = scope === 'app' ? 'API rate limit exceeded for the app.' : `API rate limit exceeded for installation ID ${scope.split(':')[1]}.`;
        return { refusal: { status: 403, message, headers: this.headers(requestsPerHour, window) }, primaryHeaders };
      }
      window.used += 1;
      primaryHeaders = this.headers(requestsPerHour, window);
    }
    if (concurrentRequests !== undefined && this.inFlight >= concurrentRequests) {
      this.refusals.push({ limit: 'concurrency', route, at: now });
      return {
        refusal: { status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', headers: { ...primaryHeaders, 'retry-after': '60' } },
        primaryHeaders,
      };
    }
    if (pointsPerMinute !== undefined) {
      let minute = this.minutes.get(route);
      if (!minute) this.minutes.set(route, (minute = new SlidingMinute()));
      const waitMs = minute.take(pointsOf(method), pointsPerMinute, now);
      if (waitMs > 0) {
        this.refusals.push({ limit: 'points', route, at: now });
        return {
          refusal: {
            status: 429,
            message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            headers: { ...primaryHeaders, 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
          },
          primaryHeaders,
        };
      }
    }
    this.inFlight += 1;
    return { refusal: null, primaryHeaders };
  }

  done(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }
}
