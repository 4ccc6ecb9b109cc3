/**
 * The one place where a grant's outcome becomes an HTTP answer. Statuses follow issue 4:
 * 401 token missing, malformed or not verifying (the code names the failed check), 403 the
 * repository no longer runs as the token's cluster user (`OWNER_CHANGED`), 409 the launch was
 * already granted, 410 no demand (with the reason), 403 the App is not installed
 * (or may not register runners), 503 with Retry-After when GitHub or the store failed (the
 * token stays usable), 502 when GitHub rejected the request itself.
 */
import { HttpError } from '@gha-slurm/core/http/errors';
import type { GrantOutcome, Refusal } from '../domain/runner-grant.ts';

/** The common error body, plus the machine-readable reason of a refusal. */
export class GrantRefusal extends HttpError {
  constructor(
    statusCode: number,
    code: string,
    message: string,
    readonly reason: string,
    headers: Record<string, string> = {},
  ) {
    super(statusCode, code, message, headers);
    this.name = 'GrantRefusal';
  }

  override toBody() {
    return { ...super.toBody(), reason: this.reason };
  }
}

const REALM = 'Bearer realm="gha-slurm-token-broker"';

function refusalError(refusal: Refusal): GrantRefusal {
  switch (refusal.check) {
    case 'token': {
      const code = `TOKEN_${refusal.failure.toUpperCase().replace(/-/g, '_')}`;
      const challenge = refusal.failure === 'missing' ? REALM : `${REALM}, error="invalid_token"`;
      return new GrantRefusal(401, code, refusal.message, refusal.failure, { 'www-authenticate': challenge });
    }
    case 'owner':
      return new GrantRefusal(403, 'OWNER_CHANGED', refusal.message, 'owner-changed');
    case 'replay':
      return new GrantRefusal(409, 'TOKEN_ALREADY_GRANTED', refusal.message, 'already-granted');
    case 'demand':
      return new GrantRefusal(410, 'NO_DEMAND', refusal.message, refusal.reason);
    case 'installation': {
      const code = refusal.reason === 'not-permitted' ? 'APP_NOT_PERMITTED' : refusal.reason === 'suspended' ? 'APP_SUSPENDED' : 'APP_NOT_INSTALLED';
      return new GrantRefusal(403, code, refusal.message, refusal.reason);
    }
  }
}

/** The error to throw for an outcome that is not a grant. */
export function errorForOutcome(outcome: Exclude<GrantOutcome, { kind: 'granted' }>): GrantRefusal {
  if (outcome.kind === 'refused') return refusalError(outcome.refusal);
  const { failure } = outcome;
  if (failure.cause === 'github-rejected') return new GrantRefusal(502, 'GITHUB_REJECTED', failure.message, failure.cause);
  const code = failure.cause === 'github-unavailable' ? 'GITHUB_UNAVAILABLE' : 'STORE_UNAVAILABLE';
  return new GrantRefusal(503, code, `${failure.message}; the launch token is still good, retry after ${failure.retryAfterSeconds} s`, failure.cause, {
    'retry-after': String(failure.retryAfterSeconds),
  });
}

/** `POST /gha/runner`: what the gateway's job script reads (`jq -r '.token'`). */
export function registrationBody(outcome: Extract<GrantOutcome, { credential: 'registration-token' }>) {
  return {
    token: outcome.registration.token,
    expires_at: outcome.registration.expiresAt,
    url: outcome.claims.repositoryUrl,
    name: outcome.claims.runnerName,
    labels: outcome.claims.labels,
  };
}

/** `POST /gha/runner/jit`: the runner starts with `./run.sh --jitconfig <jitconfig>`. */
export function jitBody(outcome: Extract<GrantOutcome, { credential: 'jit-config' }>) {
  return { jitconfig: outcome.jit.jitconfig, runner: outcome.jit.runner };
}
