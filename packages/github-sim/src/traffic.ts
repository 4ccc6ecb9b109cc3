/**
 * What tests observe and steer on the wire: every call the simulator received (so a test can
 * prove a cache or a single in-flight call by counting), and faults it should inject (GitHub
 * failing, rate-limiting, or answering slowly).
 *
 * Routes are named by GitHub's own route templates, as Octokit writes them
 * (`POST /repos/{owner}/{repo}/actions/runners/registration-token`).
 */
import { CountedRules } from './counted-rules.ts';

export type RouteName = string;

export interface RecordedCall {
  route: RouteName;
  method: string;
  path: string;
  /** Route parameters (`owner`, `repo`, `installation_id`, ...). */
  params: Record<string, string>;
  at: number;
  /** The answer's status, once sent. */
  status?: number;
}

export class CallLog {
  private readonly entries: RecordedCall[] = [];

  record(call: RecordedCall): RecordedCall {
    this.entries.push(call);
    return call;
  }

  /** Calls to `route` (all routes without one), optionally only those for one repository. */
  count(route?: RouteName, filter: { repository?: string } = {}): number {
    return this.list(route, filter).length;
  }

  list(route?: RouteName, filter: { repository?: string } = {}): RecordedCall[] {
    const repository = filter.repository?.toLowerCase();
    return this.entries.filter(
      (call) =>
        (route === undefined || call.route === route) &&
        (repository === undefined || `${call.params.owner}/${call.params.repo}`.toLowerCase() === repository),
    );
  }

  clear(): void {
    this.entries.length = 0;
  }
}

export type Fault =
  /** Answer with a server error (GitHub's 500/502/503 pages). */
  | { kind: 'server-error'; status?: 500 | 502 | 503 | 504 }
  /**
   * GitHub's rate limit: 403 with `x-ratelimit-remaining: 0` and the reset time (primary),
   * or 403 with `retry-after` and the "secondary rate limit" message.
   */
  | { kind: 'rate-limit'; resetInSeconds?: number; secondary?: boolean }
  /** Answer normally, after a delay. */
  | { kind: 'slow'; delayMs: number };

export type FaultRule = Fault & {
  /** Only this route; every route when absent. */
  route?: RouteName;
  /** How many calls it affects; every call when absent. */
  times?: number;
};

export class FaultPlan {
  private readonly rules = new CountedRules<FaultRule>();

  /** Adds a fault; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    return this.rules.add(rule);
  }

  clear(): void {
    this.rules.clear();
  }

  /** The fault this call meets, if any; each rule counts down the calls it affected. */
  take(route: RouteName): Fault | undefined {
    return this.rules.take((rule) => rule.route === undefined || rule.route === route);
  }
}
