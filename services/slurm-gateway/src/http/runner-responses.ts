/**
 * The one place where the gateway's outcomes become HTTP answers (design.md: 201 new job, 200
 * repeat, 401 bad credentials, 403 refused, 422 Slurm said no, 503 + Retry-After Slurm away).
 */
import { errorBody, type ErrorBody } from '@gha-slurm/core/http/errors';
import { describeRunnerJob } from '../domain/slurm-job.ts';
import type { CancelOutcome, StartOutcome, StatusOutcome } from '../domain/runner-gateway.ts';

export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const USER_REFUSAL_CODES = {
  root: 'ROOT_REFUSED',
  'unknown-user': 'UNKNOWN_USER',
  'system-user': 'SYSTEM_USER',
  'not-allowed': 'USER_NOT_ALLOWED',
} as const;

const error = (status: number, code: string, message: string, headers?: Record<string, string>): HttpAnswer => ({
  status,
  body: errorBody(status, code, message) satisfies ErrorBody,
  ...(headers ? { headers } : {}),
});

function troubleAnswer(outcome: { kind: 'slurm-unavailable'; message: string; retryAfterSeconds: number } | { kind: 'slurm-setup'; message: string }): HttpAnswer {
  return outcome.kind === 'slurm-unavailable'
    ? error(503, 'SLURM_UNAVAILABLE', `${outcome.message}; try again later`, { 'retry-after': String(outcome.retryAfterSeconds) })
    : error(502, 'SLURM_SETUP', outcome.message);
}

export function startAnswer(outcome: StartOutcome): HttpAnswer {
  switch (outcome.kind) {
    case 'submitted':
      return { status: 201, body: { jobId: outcome.jobId, runnerName: outcome.runnerName, state: outcome.state, ...(outcome.warnings.length ? { warnings: outcome.warnings } : {}) } };
    case 'existing':
      return { status: 200, body: { jobId: outcome.jobId, runnerName: outcome.runnerName, state: outcome.state } };
    case 'bad-token':
      return error(401, 'BAD_LAUNCH_TOKEN', outcome.message);
    case 'invalid':
      return error(400, 'INVALID_REQUEST', outcome.message);
    case 'mismatch':
      return error(403, 'TOKEN_MISMATCH', outcome.message);
    case 'user-refused':
      return error(403, USER_REFUSAL_CODES[outcome.reason], outcome.message);
    case 'slurm-refused':
      return error(422, 'SLURM_REFUSED', `Slurm refused the job: ${outcome.message}`);
    case 'slurm-unavailable':
    case 'slurm-setup':
      return troubleAnswer(outcome);
  }
}

const unknownRunner = (runnerName: string) => error(404, 'UNKNOWN_RUNNER', `Slurm has no job for runner ${runnerName}`);

export function statusAnswer(outcome: StatusOutcome, runnerName: string): HttpAnswer {
  if (outcome.kind === 'found') return { status: 200, body: describeRunnerJob(outcome.job) };
  if (outcome.kind === 'unknown') return unknownRunner(runnerName);
  return troubleAnswer(outcome);
}

export function cancelAnswer(outcome: CancelOutcome, runnerName: string): HttpAnswer {
  if (outcome.kind === 'cancelled' || outcome.kind === 'already-ended') {
    return { status: 200, body: { ...describeRunnerJob(outcome.job), cancelled: outcome.kind === 'cancelled' } };
  }
  if (outcome.kind === 'unknown') return unknownRunner(runnerName);
  return troubleAnswer(outcome);
}
