/**
 * Reads a `POST /runner/start` body (gha-slurm-munge's wire format: every value a string)
 * against the launch token's verified claims. Who, which repository, which runner name and
 * labels come from the claims; the body may only repeat them, and a body that says otherwise
 * is refused rather than trusted. The resources come from the body (the dispatcher's runner
 * profile) and are checked so that Slurm never sees a malformed value.
 */
import type { LaunchClaims } from '@gha-slurm/core/launch-token';
import type { RunnerResources } from './slurm-job.ts';

export interface RunnerStart {
  claims: LaunchClaims;
  resources: RunnerResources;
  /** The broker as the compute nodes reach it. */
  brokerUrl: string;
}

export type LaunchRequestProblem =
  /** The body is malformed: 400. */
  | { kind: 'invalid'; message: string }
  /** The body disagrees with the signed token: 403. */
  | { kind: 'mismatch'; field: string; message: string };

export type LaunchRequestReading = { ok: true; start: RunnerStart } | { ok: false; problem: LaunchRequestProblem };

type Body = Record<string, unknown>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const PARTITIONS = /^[A-Za-z0-9_.-]{1,64}(,[A-Za-z0-9_.-]{1,64})*$/;
/** Slurm's feature expressions: names joined by & | , with brackets, counts and parentheses. */
const CONSTRAINT = /^[A-Za-z0-9_.,&|[\]()*:!-]{1,256}$/;
const GRES = /^[A-Za-z0-9_.:\/-]{1,64}(,[A-Za-z0-9_.:\/-]{1,64})*$/;

class BadField extends Error {}

/** A field's text, or undefined when absent; numbers are taken as their text (lenient senders). */
function text(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new BadField(`${field} must be a string`);
}

function wholeNumber(body: Body, field: string, unit: string, max: number): number | undefined {
  const value = text(body, field);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new BadField(`${field} must be a whole number of ${unit} between 1 and ${max} (got ${JSON.stringify(value.slice(0, 40))})`);
  }
  return Number(value);
}

function matching(body: Body, field: string, pattern: RegExp, what: string): string | undefined {
  const value = text(body, field);
  if (value === undefined) return undefined;
  if (!pattern.test(value)) throw new BadField(`${field} must be ${what} (got ${JSON.stringify(value.slice(0, 40))})`);
  return value;
}

function flag(body: Body, field: string): boolean | undefined {
  const value = text(body, field)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new BadField(`${field} must be "true" or "false"`);
}

function readResources(body: Body): RunnerResources {
  const resources: RunnerResources = {
    partition: matching(body, 'partition', PARTITIONS, 'a Slurm partition name (or several, comma-separated)'),
    cpus: wholeNumber(body, 'cpus', 'CPUs', 100_000),
    memoryMb: wholeNumber(body, 'memory', 'megabytes', 1 << 30),
    timeLimitMinutes: wholeNumber(body, 'duration', 'minutes', 366 * 24 * 60),
    exclusive: flag(body, 'exclusive'),
    account: matching(body, 'account', NAME, 'a Slurm account name'),
    qos: matching(body, 'qos', NAME, 'a Slurm QOS name'),
    constraint: matching(body, 'constraint', CONSTRAINT, 'a Slurm feature expression'),
    gres: matching(body, 'gres', GRES, 'Slurm generic resources such as gpu:1'),
  };
  return Object.fromEntries(Object.entries(resources).filter(([, value]) => value !== undefined)) as RunnerResources;
}

function httpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** GitHub's repository addresses are case-insensitive; a trailing `/` or `.git` names the same one. */
function sameRepositoryUrl(a: string, b: string): boolean {
  const normal = (url: string) => url.trim().replace(/\/+$/, '').replace(/\.git$/, '').toLowerCase();
  return normal(a) === normal(b);
}

function sameLabels(given: string, claimed: string[]): boolean {
  const set = (labels: string[]) => [...new Set(labels.map((label) => label.trim().toLowerCase()).filter(Boolean))].sort().join(',');
  return set(given.split(',')) === set(claimed);
}

/** Compares what the body repeats of the token; the first disagreement is the answer. */
function mismatch(body: Body, claims: LaunchClaims): LaunchRequestProblem | null {
  const gitHubURL = text(body, 'gitHubURL');
  if (gitHubURL !== undefined && !sameRepositoryUrl(gitHubURL, claims.repositoryUrl)) {
    return { kind: 'mismatch', field: 'gitHubURL', message: 'gitHubURL is not the repository the launch token was issued for' };
  }
  const runnerName = text(body, 'runnerName');
  if (runnerName !== undefined && runnerName !== claims.runnerName) {
    return { kind: 'mismatch', field: 'runnerName', message: 'runnerName is not the runner name in the launch token' };
  }
  const clusterUser = text(body, 'clusterUser');
  if (clusterUser !== undefined && clusterUser !== claims.clusterUser) {
    return { kind: 'mismatch', field: 'clusterUser', message: 'clusterUser is not the cluster user in the launch token' };
  }
  const runnerLabels = text(body, 'runnerLabels');
  if (runnerLabels !== undefined && !sameLabels(runnerLabels, claims.labels)) {
    return { kind: 'mismatch', field: 'runnerLabels', message: 'runnerLabels are not the labels in the launch token' };
  }
  return null;
}

/**
 * `claims` are the verified token's. `configuredBrokerUrl` (the gateway's TOKEN_BROKER_URL)
 * wins over the body's `tokenURL`: a site that names its broker does not let a caller move it.
 */
export function readLaunchRequest(body: Body, claims: LaunchClaims, configuredBrokerUrl?: string): LaunchRequestReading {
  try {
    // A runner name becomes a Slurm job name and a URL path segment: keep it plain.
    if (!NAME.test(claims.runnerName)) {
      return { ok: false, problem: { kind: 'invalid', message: 'the launch token names a runner with characters other than letters, digits, _ . -' } };
    }
    const problem = mismatch(body, claims);
    if (problem) return { ok: false, problem };
    const resources = readResources(body);
    const tokenURL = text(body, 'tokenURL');
    const brokerUrl = configuredBrokerUrl ?? tokenURL;
    if (!brokerUrl) {
      return { ok: false, problem: { kind: 'invalid', message: 'tokenURL is required (the broker address), unless the gateway sets TOKEN_BROKER_URL' } };
    }
    if (!configuredBrokerUrl && !httpUrl(brokerUrl)) {
      return { ok: false, problem: { kind: 'invalid', message: 'tokenURL must be an http(s) URL' } };
    }
    return { ok: true, start: { claims, resources, brokerUrl: brokerUrl.replace(/\/+$/, '') } };
  } catch (error) {
    if (error instanceof BadField) return { ok: false, problem: { kind: 'invalid', message: error.message } };
    throw error;
  }
}

export { NAME as RUNNER_NAME_PATTERN };
