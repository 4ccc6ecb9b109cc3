/**
 * Slurm through slurmrestd: each call made as the user it concerns (a submission as the job's
 * owner, a cancel as the job's owner, queue reads as the query user), in the API version the
 * server and the gateway share. Failures are sorted into what the caller can act on: Slurm
 * refused the job (its words), slurmrestd or slurmctld is not answering (try again), or the
 * setup is wrong (an operator must look).
 */
import { Agent, errors as undiciErrors, request } from 'undici';
import {
  SlurmSetupError,
  SlurmUnavailableError,
  type CancelResult,
  type SlurmCluster,
  type SubmitResult,
} from '../../domain/ports.ts';
import type { RunnerJobSpec, SlurmJob } from '../../domain/slurm-job.ts';
import type { SlurmUserTokens } from '../slurm-user-tokens.ts';
import {
  ALREADY_DONE,
  chooseApiVersion,
  INVALID_JOB_ID,
  meansControllerDown,
  readErrors,
  readJobs,
  readSubmitAnswer,
  submitBody,
  SUPPORTED_API_VERSIONS,
  versionsInOpenApi,
  type ApiVersion,
  type SlurmError,
} from './api-versions.ts';

export interface SlurmrestdSettings {
  baseUrl: string;
  /** Fixed by SLURMRESTD_API_VERSION; otherwise the newest both sides speak. */
  version?: ApiVersion;
  tokens: SlurmUserTokens;
  /** The account whose token reads the queue and asks which versions the server offers. */
  queryUser: string;
  timeoutMs: number;
  /** Called once per slurmrestd request, for the latency histogram. */
  observe?: (operation: string, outcome: string, seconds: number) => void;
}

interface Answer {
  status: number;
  body: unknown;
}

/** How long a caller should wait when slurmrestd is away: a restart takes seconds. */
const RETRY_AFTER_SECONDS = 10;

function describeNetworkError(error: unknown): string {
  if (error instanceof undiciErrors.ConnectTimeoutError) return 'connecting to slurmrestd timed out';
  if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) return 'slurmrestd did not answer in time';
  const code = (error as { code?: string }).code;
  return `slurmrestd could not be reached${code ? ` (${code})` : ''}`;
}

const joined = (errors: SlurmError[]) => errors.map((error) => error.message).join('; ');

export class SlurmrestdClient implements SlurmCluster {
  private readonly agent: Agent;
  private version: ApiVersion | undefined;
  private discovering: Promise<ApiVersion> | undefined;
  /** One queue listing in flight at a time; concurrent lookups share it. */
  private listing: Promise<SlurmJob[]> | undefined;

  constructor(private readonly settings: SlurmrestdSettings) {
    this.version = settings.version;
    this.agent = new Agent({
      connect: { timeout: settings.timeoutMs },
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  /** The API version in use, once known. */
  get apiVersion(): ApiVersion | undefined {
    return this.version;
  }

  async resolveVersion(): Promise<ApiVersion> {
    if (this.version) return this.version;
    this.discovering ??= this.discover().finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async discover(): Promise<ApiVersion> {
    const answer = await this.call('discover', 'GET', '/openapi/v3', this.settings.queryUser);
    const offered = versionsInOpenApi(answer.body);
    const version = chooseApiVersion(offered);
    if (!version) {
      throw new SlurmSetupError(
        `slurmrestd offers ${offered.join(', ') || 'no /slurm/ API'}; the gateway speaks ${SUPPORTED_API_VERSIONS.join(', ')} (load one with slurmrestd -s openapi/<version>)`,
      );
    }
    this.version = version;
    return version;
  }

  private async call(operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, user: string, body?: unknown): Promise<Answer> {
    const token = await this.settings.tokens.tokenFor(user);
    const started = process.hrtime.bigint();
    let outcome = 'unavailable';
    try {
      const response = await request(`${this.settings.baseUrl}${path}`, {
        method,
        dispatcher: this.agent,
        headers: {
          'x-slurm-user-name': user,
          'x-slurm-user-token': token,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.body.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      if ((response.statusCode === 401 || response.statusCode === 403) && parsed === null) {
        outcome = 'auth-refused';
        throw new SlurmSetupError(
          `slurmrestd refused the gateway's token for ${user} (${response.statusCode}): check that SLURM_JWT_KEY_FILE is the cluster's jwt key and that slurmrestd runs with -a rest_auth/jwt`,
        );
      }
      if (parsed === null && response.statusCode >= 500) {
        throw new SlurmUnavailableError(`slurmrestd answered ${response.statusCode} without a Slurm answer`, RETRY_AFTER_SECONDS);
      }
      if (parsed === null) {
        outcome = 'unreadable';
        throw new SlurmSetupError(`slurmrestd answered ${method} ${path} with ${response.statusCode} and no JSON: is SLURMRESTD_URL slurmrestd?`);
      }
      const down = readErrors(parsed).find((error) => meansControllerDown(error.code));
      if (down) throw new SlurmUnavailableError(`slurmctld is not answering (${down.message})`, RETRY_AFTER_SECONDS);
      outcome = String(response.statusCode);
      return { status: response.statusCode, body: parsed };
    } catch (error) {
      if (error instanceof SlurmSetupError || error instanceof SlurmUnavailableError) throw error;
      throw new SlurmUnavailableError(describeNetworkError(error), RETRY_AFTER_SECONDS);
    } finally {
      this.settings.observe?.(operation, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async path(rest: string): Promise<string> {
    return `/slurm/${await this.resolveVersion()}${rest}`;
  }

  async submit(spec: RunnerJobSpec): Promise<SubmitResult> {
    const version = await this.resolveVersion();
    const answer = await this.call('submit', 'POST', `/slurm/${version}/job/submit`, spec.user, submitBody(version, spec));
    const { jobId, errors, warnings } = readSubmitAnswer(answer.body);
    // Slurm may take a job and still say something about it (a partition that cannot run it
    // now): the job exists, so it is accepted, and its words are passed on.
    if (jobId !== null) return { kind: 'accepted', jobId, warnings: [...warnings, ...errors.map((error) => error.message)] };
    if (errors.length > 0) return { kind: 'refused', message: joined(errors) };
    throw new SlurmSetupError(`slurmrestd answered the submission with ${answer.status} but no job id and no error`);
  }

  findJobs(): Promise<SlurmJob[]> {
    this.listing ??= (async () => {
      const answer = await this.call('list', 'GET', await this.path('/jobs'), this.settings.queryUser);
      const errors = readErrors(answer.body);
      if (errors.length > 0 && answer.status >= 400) throw new SlurmSetupError(`slurmrestd could not list jobs: ${joined(errors)}`);
      return readJobs(answer.body);
    })().finally(() => (this.listing = undefined));
    return this.listing;
  }

  async getJob(jobId: number, asUser = this.settings.queryUser): Promise<SlurmJob | null> {
    const answer = await this.call('get', 'GET', await this.path(`/job/${jobId}`), asUser);
    const errors = readErrors(answer.body);
    if (errors.some((error) => error.code === INVALID_JOB_ID)) return null;
    if (errors.length > 0 && answer.status >= 400) throw new SlurmSetupError(`slurmrestd could not read job ${jobId}: ${joined(errors)}`);
    return readJobs(answer.body).find((job) => job.jobId === jobId) ?? null;
  }

  async cancel(jobId: number, asUser: string): Promise<CancelResult> {
    const answer = await this.call('cancel', 'DELETE', await this.path(`/job/${jobId}`), asUser);
    const errors = readErrors(answer.body);
    if (errors.length === 0) return 'cancelled';
    if (errors.some((error) => error.code === ALREADY_DONE)) return 'already-ended';
    if (errors.some((error) => error.code === INVALID_JOB_ID)) return 'unknown';
    throw new SlurmSetupError(`Slurm did not cancel job ${jobId}: ${joined(errors)}`);
  }

  async ping(): Promise<void> {
    const answer = await this.call('ping', 'GET', await this.path('/ping'), this.settings.queryUser);
    const errors = readErrors(answer.body);
    if (errors.length > 0) throw new SlurmUnavailableError(`slurmrestd answered: ${joined(errors)}`, RETRY_AFTER_SECONDS);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
