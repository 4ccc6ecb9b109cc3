/**
 * The App's GitHub budget, kept in Redis and shared by every replica of every service that
 * calls GitHub as the App, so that all of them together stay inside GitHub's limits instead of
 * each spacing its own calls:
 *
 * - **secondary limit, points per minute per endpoint** (GitHub: 900 points a minute for REST
 *   endpoints; a GET costs 1 point, a POST, PATCH, PUT or DELETE 5, so about 180 runner
 *   registration or JIT POSTs a minute per App): a token bucket per endpoint (route template),
 *   refilled at `REFILL_SHARE` of the limit with a burst of `BURST_SHARE` of it. Together they
 *   stay below the limit over any 60 s, however GitHub counts the minute, with room for calls
 *   that reach GitHub a little after their slot;
 * - **primary limit, requests per hour per installation** (5,000 by default; the App's own JWT
 *   calls have theirs): a window per scope, corrected from the `x-ratelimit-*` headers of every
 *   answer (GitHub's count wins for a new window; the lower count for the same one);
 * - **"blocked until"**: a 403/429 that says `retry-after` (secondary limit) stops every call
 *   of the App on every replica until then; one with `x-ratelimit-remaining: 0` empties the
 *   scope's window until `x-ratelimit-reset`.
 *
 * A call waits for its slot in one queue shared by all replicas, first come first served, up
 * to its own bound; beyond it nothing is reserved and the caller learns when a slot would
 * come. A call may carry a *flight* (what it is for, e.g. one repository's registration
 * token): beyond the bound, a slot is then kept for that flight (a ticket) and the caller is
 * told exactly when it comes; whoever asks for the same flight by then takes it. A ticket
 * nobody takes, and the slot of a caller that gave up while waiting, go back to the budget:
 * no call is ever made for a caller that gave up, and no budget is spent on it.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

const SCRIPT = readFileSync(new URL('./github-budget.lua', import.meta.url), 'utf8');

/** The share of the points limit a bucket refills per minute, and the share it may spend at once. */
export const REFILL_SHARE = 0.92;
export const BURST_SHARE = 0.02;
/** GitHub's documented defaults. */
export const DEFAULT_POINTS_PER_MINUTE = 900;
export const DEFAULT_REQUESTS_PER_HOUR = 5000;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    ghaslurmGitHubBudget(numKeys: number, ...args: Array<string | number>): import('ioredis').Result<[string, number], Context>;
  }
}

export interface GitHubBudgetSettings {
  redis: Redis;
  /** `REDIS_PREFIX`: the budget lives under it, one per App. */
  prefix: string;
  appId: string | number;
  /** GitHub's secondary limit per endpoint (900 on GitHub.com). */
  pointsPerMinute?: number;
  /** The primary limit per installation until GitHub's headers say otherwise (5,000). */
  requestsPerHour?: number;
  /** How long a call without its own bound may wait for its slot (60 s). */
  maxWaitMs?: number;
  /** How long a ticket is kept after its slot for its caller to come back (30 s). */
  ticketGraceMs?: number;
  /** How long a claimed flight counts as under way after its slot (a replica died): 90 s. */
  flightLeaseMs?: number;
}

/** What a service's configuration says of the budget (`githubBudgetVariables` in config.ts). */
export interface GitHubBudgetConfig {
  REDIS_PREFIX: string;
  GITHUB_APP_ID: string;
  GITHUB_POINTS_PER_MINUTE: number;
  GITHUB_REQUESTS_PER_HOUR: number;
  GITHUB_BUDGET_WAIT_SECONDS: number;
}

/**
 * The App's one budget as a service's configuration describes it. Every service builds it the
 * same way so that they all land on the same Redis keys and count against the same limits;
 * `maxWaitMs` shortens the wait for callers who cannot wait that long (a person at the page).
 */
export function githubBudgetFromConfig(redis: Redis, config: GitHubBudgetConfig, options: { maxWaitMs?: number } = {}): GitHubBudget {
  const configuredWaitMs = config.GITHUB_BUDGET_WAIT_SECONDS * 1000;
  return new GitHubBudget({
    redis,
    prefix: config.REDIS_PREFIX,
    appId: config.GITHUB_APP_ID,
    pointsPerMinute: config.GITHUB_POINTS_PER_MINUTE,
    requestsPerHour: config.GITHUB_REQUESTS_PER_HOUR,
    maxWaitMs: Math.min(configuredWaitMs, options.maxWaitMs ?? configuredWaitMs),
  });
}

/** One call to make: its endpoint (`POST /repos/{owner}/{repo}/...`) and whose limit it counts against. */
export interface BudgetRequest {
  method: string;
  /** Octokit's route template (`/repos/{owner}/{repo}/installation`), not the filled-in path. */
  url: string;
  /** `app` (App JWT calls) or `installation:<id>`. */
  scope: string;
  /** What the call is for, when callers asking again should keep their place (a ticket) or join it. */
  flight?: string;
  /** This call's bound on waiting for its slot. */
  maxWaitMs?: number;
}

/** No slot within the bound: when one would come (and, for a ticket, is kept for the flight). */
export class GitHubBudgetWait extends Error {
  override name = 'GitHubBudgetWait';
  constructor(
    readonly waitMs: number,
    /** `ticket`: the slot is kept for the flight; `later`: nothing was kept. */
    readonly kept: boolean,
  ) {
    super(`GitHub's budget has no slot for ${Math.ceil(waitMs / 1000)} s`);
  }

  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.waitMs / 1000));
  }
}

/** The caller gave up while its call waited for a slot; its slot went back to the budget. */
export class GitHubBudgetAborted extends Error {
  override name = 'GitHubBudgetAborted';
}

/**
 * A slot taken: the call may go now; `finish` once it answered (or failed). Or, `joined`:
 * another caller (another replica) was making this flight's call and has finished: look for
 * its result first, and `acquire` again only if it left none.
 */
export type BudgetPermit =
  | {
      joined: false;
      /** How long after it was asked for the slot came (what the call waited), by Redis's clock. */
      slotInMs: number;
      finish(): Promise<void>;
    }
  | { joined: true };

const JWT_ROUTES = /^\/(app(\/|$)|marketplace_listing\/|orgs\/[^/]+\/installation$|repos\/[^/]+\/[^/]+\/installation$|users\/[^/]+\/installation$)/;

/** The scope of a call made by an installation's client: the App's own routes use the App JWT. */
export function scopeOf(url: string, installationId?: number): string {
  return installationId === undefined || JWT_ROUTES.test(url) ? 'app' : `installation:${installationId}`;
}

/** GitHub's secondary-limit cost of a call. */
export function pointsOf(method: string): number {
  return /^(GET|HEAD|OPTIONS)$/i.test(method) ? 1 : 5;
}

type Headers = Record<string, string | number | undefined>;

export class GitHubBudget {
  readonly maxWaitMs: number;
  private readonly redis: Redis;
  private readonly base: string;
  private readonly pointsPerMinute: number;
  private readonly requestsPerHour: number;
  private readonly ticketGraceMs: number;
  private readonly flightLeaseMs: number;

  constructor(settings: GitHubBudgetSettings) {
    this.redis = settings.redis;
    this.base = `${settings.prefix}:github-budget:${settings.appId}`;
    this.pointsPerMinute = settings.pointsPerMinute ?? DEFAULT_POINTS_PER_MINUTE;
    this.requestsPerHour = settings.requestsPerHour ?? DEFAULT_REQUESTS_PER_HOUR;
    this.maxWaitMs = settings.maxWaitMs ?? 60_000;
    this.ticketGraceMs = settings.ticketGraceMs ?? 30_000;
    this.flightLeaseMs = settings.flightLeaseMs ?? 90_000;
    if (typeof (this.redis as unknown as Record<string, unknown>).ghaslurmGitHubBudget !== 'function') {
      this.redis.defineCommand('ghaslurmGitHubBudget', { lua: SCRIPT });
    }
  }

  /** Calls of `method` a minute that the budget lets through on one endpoint, at most. */
  callsPerMinute(method: string): number {
    return ((REFILL_SHARE + BURST_SHARE) * this.pointsPerMinute) / pointsOf(method);
  }

  /**
   * Waits for the call's slot; resolves when it may go. Throws `GitHubBudgetWait` when no
   * slot comes within the bound and `GitHubBudgetAborted` when `signal` aborts first (the slot
   * is given back).
   */
  async acquire(request: BudgetRequest, signal?: AbortSignal): Promise<BudgetPermit> {
    const bound = request.maxWaitMs ?? this.maxWaitMs;
    const started = Date.now();
    if (signal?.aborted) throw new GitHubBudgetAborted('the caller gave up');
    const [kind, ms] = await this.run('admit', request, { maxWaitMs: bound });
    if (kind === 'go') {
      if (ms > 0) {
        try {
          await sleep(ms, undefined, signal ? { signal } : undefined);
        } catch {
          await this.run('cancel', request).catch(() => undefined);
          throw new GitHubBudgetAborted('the caller gave up while waiting for its slot');
        }
      }
      return { joined: false, slotInMs: ms, finish: () => (request.flight ? this.run('finish', request).then(() => undefined) : Promise.resolve()) };
    }
    if (kind !== 'join') throw new GitHubBudgetWait(ms, kind === 'ticket');
    // Another caller (another replica) is making this very call: wait for it to end.
    for (let [state, slotIn] = [kind, ms]; state === 'join'; [state, slotIn] = await this.run('peek', request)) {
      const left = bound - (Date.now() - started);
      if (left <= 0) throw new GitHubBudgetWait(Math.max(slotIn, 1000), false);
      try {
        await sleep(Math.min(100, left), undefined, signal ? { signal } : undefined);
      } catch {
        throw new GitHubBudgetAborted('the caller gave up');
      }
    }
    return { joined: true };
  }

  /**
   * Learns from an answer: the primary window from `x-ratelimit-*`, and a rate-limit refusal
   * (403/429 with `retry-after`, or none left until `x-ratelimit-reset`) blocks every replica.
   */
  async observe(request: Pick<BudgetRequest, 'method' | 'url' | 'scope'>, status: number, headers: Headers = {}): Promise<void> {
    const number = (name: string) => {
      const value = Number(headers[name]);
      return headers[name] === undefined || !Number.isFinite(value) ? undefined : value;
    };
    const remaining = number('x-ratelimit-remaining');
    const reset = number('x-ratelimit-reset');
    const limit = number('x-ratelimit-limit');
    let blockMs = 0;
    if (status === 403 || status === 429) {
      const retryAfter = number('retry-after');
      if (retryAfter !== undefined && retryAfter > 0) blockMs = retryAfter * 1000;
      else if (remaining === undefined || remaining > 0) {
        // A secondary limit without retry-after: GitHub asks for at least a minute.
        if (status === 429) blockMs = 60_000;
      }
    }
    const window = remaining !== undefined && reset !== undefined && limit !== undefined ? [remaining, reset * 1000, limit] : ['', '', ''];
    if (window[0] === '' && blockMs === 0) return;
    await this.run('observe', request, {}, [...window, blockMs]);
  }

  private async run(
    op: 'admit' | 'peek' | 'cancel' | 'finish' | 'observe',
    request: Pick<BudgetRequest, 'method' | 'url' | 'scope' | 'flight'>,
    options: { maxWaitMs?: number } = {},
    extra: Array<string | number> = [],
  ): Promise<[string, number]> {
    const cost = pointsOf(request.method);
    const endpoint = `${this.base}:points:${request.method.toUpperCase()} ${request.url}`;
    const [kind, ms] = await this.redis.ghaslurmGitHubBudget(
      5,
      endpoint,
      `${endpoint}:flights`,
      `${endpoint}:lapses`,
      `${this.base}:primary:${request.scope}`,
      `${this.base}:blocked`,
      op,
      cost,
      Math.max(cost, Math.floor(BURST_SHARE * this.pointsPerMinute)),
      (REFILL_SHARE * this.pointsPerMinute) / 60_000,
      options.maxWaitMs ?? 0,
      request.flight ?? '',
      this.ticketGraceMs,
      this.flightLeaseMs,
      this.requestsPerHour,
      3_600_000,
      ...extra,
    );
    return [kind, Number(ms)];
  }
}
