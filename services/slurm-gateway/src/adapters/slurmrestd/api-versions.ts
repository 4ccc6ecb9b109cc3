/**
 * slurmrestd's OpenAPI versions, each a translation between the gateway's terms and one
 * version's shapes. Requests are written exactly as each version documents them; answers are
 * read leniently, because the same field changed shape between versions (a number became
 * `{set, infinite, number}`, a state became a list of flags, an exit code an object).
 *
 * - v0.0.38 (Slurm 22.05, 23.02): each job key is an sbatch option (so `no_requeue: true`,
 *   not `requeue: false`, and `exclusive: "exclusive"`), environment an object, plain
 *   numbers, `gres` a string, exit codes as the raw wait status.
 * - v0.0.39 (23.02, 23.11): environment a list of `NAME=value`, `{set, number}` for
 *   memory and time limit, `shared: ["none"]` for exclusive, `tres_per_node` for gres.
 * - v0.0.40 (23.11, 24.05), v0.0.41 (24.05, 24.11): as v0.0.39 for requests; answers give
 *   timestamps as `{set, infinite, number}`, `job_state` as a list, `exit_code` as
 *   `{status, return_code, signal}`, and the submit answer adds `result`.
 */
import { hasEnded, type RunnerJobSpec, type SlurmJob } from '../../domain/slurm-job.ts';

export const SUPPORTED_API_VERSIONS = ['v0.0.38', 'v0.0.39', 'v0.0.40', 'v0.0.41'] as const;
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

export interface SlurmError {
  code: number | null;
  message: string;
}

export interface SubmitAnswer {
  jobId: number | null;
  errors: SlurmError[];
  warnings: string[];
}

/** The newest version the server offers that the gateway supports, or null. */
export function chooseApiVersion(offered: Iterable<string>): ApiVersion | null {
  const known = new Set(offered);
  return [...SUPPORTED_API_VERSIONS].reverse().find((version) => known.has(version)) ?? null;
}

/** The `/slurm/vX/...` versions that an OpenAPI document's paths name. */
export function versionsInOpenApi(document: unknown): string[] {
  const paths = (document as { paths?: Record<string, unknown> } | null)?.paths ?? {};
  const versions = new Set<string>();
  for (const path of Object.keys(paths)) {
    const match = /^\/slurm\/(v\d+\.\d+\.\d+)\//.exec(path);
    if (match) versions.add(match[1]!);
  }
  return [...versions];
}

const setNumber = (number: number) => ({ set: true, infinite: false, number });

/** `gpu:1,nic:2` → `gres/gpu:1,gres/nic:2`: v0.0.39+ take gres as TRES per node. */
function gresAsTres(gres: string): string {
  return gres
    .split(',')
    .map((entry) => (entry.startsWith('gres/') ? entry : `gres/${entry}`))
    .join(',');
}

/** The submit body for `POST /slurm/{version}/job/submit`. */
export function submitBody(version: ApiVersion, spec: RunnerJobSpec): Record<string, unknown> {
  const { resources } = spec;
  const modern = version !== 'v0.0.38';
  const job: Record<string, unknown> = {
    name: spec.name,
    comment: spec.comment,
    current_working_directory: spec.workingDirectory,
    standard_output: spec.standardOutput,
    environment: modern
      ? Object.entries(spec.environment).map(([name, value]) => `${name}=${value}`)
      : spec.environment,
  };
  // A runner must never run twice: Slurm would requeue a batch job after a node failure.
  // v0.0.38 maps each key to an sbatch option, so `requeue: false` would mean --requeue.
  if (modern) job.requeue = false;
  else job.no_requeue = true;
  if (resources.partition) job.partition = resources.partition;
  if (resources.account) job.account = resources.account;
  if (resources.qos) job.qos = resources.qos;
  if (resources.constraint) job.constraints = resources.constraint;
  if (resources.cpus !== undefined) job.cpus_per_task = resources.cpus;
  if (resources.memoryMb !== undefined) job.memory_per_node = modern ? setNumber(resources.memoryMb) : resources.memoryMb;
  if (resources.timeLimitMinutes !== undefined) job.time_limit = modern ? setNumber(resources.timeLimitMinutes) : resources.timeLimitMinutes;
  if (resources.exclusive !== undefined) {
    if (modern) job.shared = resources.exclusive ? ['none'] : ['oversubscribe'];
    // v0.0.38's own document says "true"/"false", but the key is sbatch's --exclusive, which
    // takes exclusive|oversubscribe|user|mcs and refuses "true" (seen on slurmrestd 22.05).
    else job.exclusive = resources.exclusive ? 'exclusive' : 'oversubscribe';
  }
  if (resources.gres) {
    if (modern) job.tres_per_node = gresAsTres(resources.gres);
    else job.gres = resources.gres;
  }
  return { script: spec.script, job };
}

/** A number, or `{set, infinite, number}` (v0.0.39+); null when unset, infinite or absent. */
export function readNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value && typeof value === 'object') {
    const { set, infinite, number } = value as { set?: boolean; infinite?: boolean; number?: unknown };
    if (set === false || infinite === true) return null;
    return typeof number === 'number' ? number : null;
  }
  return null;
}

function readText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Unix seconds → ISO time; Slurm says 0 for "not yet". */
function readTime(value: unknown): string | null {
  const seconds = readNumber(value);
  return seconds && seconds > 0 ? new Date(seconds * 1000).toISOString() : null;
}

/** `"RUNNING"` (≤ v0.0.39) or `["RUNNING", "COMPLETING"]` (v0.0.40+): the base state comes first. */
function readState(value: unknown): string {
  if (typeof value === 'string' && value) return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return 'UNKNOWN';
}

/**
 * The batch script's exit status: v0.0.38 and v0.0.39 give the raw wait status (exit code in
 * the high byte, a signal in the low bits); v0.0.40+ `{status, return_code, signal}`.
 */
function readExitCode(value: unknown): number | null {
  if (value && typeof value === 'object' && !('number' in value)) {
    const { status, return_code: returnCode } = value as { status?: unknown; return_code?: unknown };
    if (Array.isArray(status) && status.includes('SIGNALED')) return null;
    return readNumber(returnCode);
  }
  const raw = readNumber(value);
  if (raw === null) return null;
  return (raw & 0x7f) === 0 ? raw >> 8 : null;
}

/** One entry of `jobs` from `GET /jobs` or `GET /job/{id}`, in any supported version. */
export function readJob(entry: Record<string, unknown>): SlurmJob {
  const state = readState(entry.job_state);
  const pending = state === 'PENDING';
  const ended = hasEnded({ state });
  const reason = readText(entry.state_reason);
  const memory = readNumber(entry.memory_per_node);
  return {
    jobId: readNumber(entry.job_id) ?? 0,
    name: readText(entry.name) ?? '',
    user: readText(entry.user_name) ?? '',
    comment: readText(entry.comment) ?? '',
    state,
    reason: reason === 'None' ? null : reason,
    partition: readText(entry.partition),
    cpus: readNumber(entry.cpus),
    memoryMb: memory,
    timeLimitMinutes: readNumber(entry.time_limit),
    submittedAt: readTime(entry.submit_time),
    // While pending, Slurm's start and end times are estimates, not facts.
    startedAt: pending ? null : readTime(entry.start_time),
    endedAt: ended ? readTime(entry.end_time) : null,
    exitCode: ended ? readExitCode(entry.exit_code) : null,
    nodes: pending ? null : readText(entry.nodes),
  };
}

export function readJobs(answer: unknown): SlurmJob[] {
  const jobs = (answer as { jobs?: unknown } | null)?.jobs;
  return Array.isArray(jobs) ? jobs.filter((job) => job && typeof job === 'object').map((job) => readJob(job as Record<string, unknown>)) : [];
}

/**
 * `errors` entries: v0.0.38's submit says `{error, error_code}`, everything else
 * `{description, error_number, error, source}`; the description is the more specific words.
 */
export function readErrors(answer: unknown, field: 'errors' | 'warnings' = 'errors'): SlurmError[] {
  const list = (answer as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) return [];
  return list
    .filter((entry) => entry && typeof entry === 'object')
    .map((entry: Record<string, unknown>) => {
      const code = readNumber(entry.error_number ?? entry.error_code);
      const words = [readText(entry.error), readText(entry.description)].filter((part): part is string => part !== null);
      const unique = words.filter((word, index) => words.findIndex((other) => other.includes(word) || word.includes(other)) === index);
      return { code: code === 0 ? null : code, message: unique.join(': ') || 'no message' };
    });
}

export function readSubmitAnswer(answer: unknown): SubmitAnswer {
  const body = (answer ?? {}) as Record<string, unknown>;
  const result = (body.result ?? {}) as Record<string, unknown>;
  const jobId = readNumber(body.job_id) ?? readNumber(result.job_id);
  return { jobId: jobId && jobId > 0 ? jobId : null, errors: readErrors(body), warnings: readErrors(body, 'warnings').map((warning) => warning.message) };
}

/**
 * Slurm error numbers that mean "slurmctld could not be reached", not "your job is wrong":
 * communication errors (1001-1004, 1800-1802) and socket timeouts (5003-5005).
 */
export function meansControllerDown(code: number | null): boolean {
  if (code === null) return false;
  return (code >= 1001 && code <= 1004) || (code >= 1800 && code <= 1802) || (code >= 5003 && code <= 5005);
}

export const INVALID_JOB_ID = 2017;
export const ALREADY_DONE = 2021;
