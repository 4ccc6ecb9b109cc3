/**
 * Takes one launch to the gateway: waits for a free slot, signs the launch token, calls
 * `POST /runner/start`, and records what happened. Retryable gateway failures are thrown back
 * to the queue, which retries with exponential backoff and jitter; after the last attempt, or
 * on a failure that retrying cannot fix, the launch is dead-lettered for an operator.
 */
import type { Logger } from '@gha-slurm/core/logger';
import { advanceLaunch, appendBounded, launchIdFromRunnerName, type Launch, type LaunchEvent } from '@gha-slurm/core/domain/launch';
import { slurmJobOptionsOf } from '@gha-slurm/core/domain/runner-profile';
import type { WorkflowJobRecord } from '@gha-slurm/core/domain/workflow-job';
import { moveTo } from '../domain/job-lifecycle.ts';
import { cancelFormerOwnersLaunch, moveJobToOwner } from './follow-owner-change.ts';
import type { DispatcherContext } from './context.ts';
import { replaceLaunch } from './replace-launch.ts';

export type LaunchRunOutcome =
  | { kind: 'done'; outcome: 'accepted' | 'not-needed' | 'dead-lettered' | 'already-handled' }
  | { kind: 'wait-for-slot'; delayMs: number }
  /** `retryAfterMs`: the gateway asked for at least this long before the next attempt. */
  | { kind: 'retry'; reason: string; retryAfterMs?: number };

export interface LaunchAttempt {
  /** 1 for the first try. */
  attempt: number;
  maxAttempts: number;
}

function withEvent(launch: Launch, event: LaunchEvent, changes: Partial<Launch> = {}): Launch {
  return { ...launch, ...changes, events: appendBounded(launch.events, event) };
}

async function noteOnJob(ctx: DispatcherContext, workflowJobId: number, kind: string, detail: string, launchId: string) {
  const at = ctx.now().toISOString();
  await ctx.jobs.update(workflowJobId, (job) => {
    const last = job.events.at(-1);
    if (last?.kind === kind && last.launchId === launchId) return null;
    return { ...job, events: appendBounded(job.events, { at, kind, detail, launchId }) };
  });
}

export async function runLaunch(ctx: DispatcherContext, launchId: string, attempt: LaunchAttempt, log: Logger): Promise<LaunchRunOutcome> {
  const launch = await ctx.launches.get(launchId);
  if (!launch || launch.state !== 'pending') return { kind: 'done', outcome: 'already-handled' };
  // Both reads only need the launch: one round trip's wait instead of two, on every launch.
  const [job, ownerNow] = await Promise.all([ctx.jobs.get(launch.forWorkflowJobId), ctx.mapping.ownerOf(launch.repository)]);
  const holder = { launchId, repository: launch.repository, clusterUser: launch.clusterUser };
  const at = ctx.now().toISOString();

  // The job ended or a runner that is not ours took it while this launch waited: nobody needs
  // this runner. But when one of OUR runners, launched for another job, took it, that other
  // job now waits for this launch's runner: the swap GitHub's assignment makes.
  // (A relaunch by the reconciler finds its job already `launched`, with this launch's id.)
  const takenBy = launchIdFromRunnerName(job?.runnerName);
  const swapped = takenBy !== null && takenBy !== launchId;
  if (!job || job.launchId !== launchId || (job.state !== 'launching' && job.state !== 'launched' && !swapped)) {
    const why = job ? `job ${job.workflowJobId} is ${job.state} before its runner was started` : 'the job record expired';
    await ctx.launches.update(launchId, (current) => advanceLaunch(current, 'completed', { at, kind: 'lost-job', detail: `${why}; not launched` }));
    await ctx.slots.release(holder);
    ctx.metrics.launches.inc({ outcome: 'not-needed' });
    log.info({ reason: why }, 'launch not needed');
    return { kind: 'done', outcome: 'not-needed' };
  }

  // The repository may have changed hands since the launch was made: never start a runner as
  // its former user (the broker would refuse it a token anyway); the job moves to the new one.
  const owner = ownerNow?.clusterUser ?? null;
  if (owner !== launch.clusterUser) {
    await cancelFormerOwnersLaunch(ctx, launch, owner, log);
    await moveJobToOwner(ctx, job, owner, log);
    ctx.metrics.launches.inc({ outcome: 'not-needed' });
    log.info({ clusterUser: launch.clusterUser }, 'launch not sent: the repository no longer runs as its user');
    return { kind: 'done', outcome: 'not-needed' };
  }

  const profile = ctx.profiles.profiles.find((candidate) => candidate.name === launch.profile);
  if (!profile) {
    await deadLetter(ctx, launch, `runner profile ${launch.profile} is no longer configured`, log);
    return { kind: 'done', outcome: 'dead-lettered' };
  }

  const slot = await ctx.slots.acquire(
    holder,
    { perRepository: ctx.profiles.limits.maxRunnersPerRepository, perUser: ctx.profiles.limits.maxRunnersPerClusterUser },
    profile.durationMinutes * 60 + ctx.settings.slotGraceSeconds,
  );
  if (slot !== 'acquired') {
    const limit = slot === 'repository-full' ? 'maxRunnersPerRepository' : 'maxRunnersPerClusterUser';
    await noteOnJob(ctx, job.workflowJobId, 'waiting-for-slot', `${limit} reached; launches when a runner finishes`, launchId);
    ctx.metrics.launches.inc({ outcome: 'waiting-for-slot' });
    return { kind: 'wait-for-slot', delayMs: ctx.settings.slotPollMs };
  }

  const { token } = await ctx.signer.sign({
    sub: launch.id,
    repository: launch.repository,
    repositoryUrl: launch.repositoryUrl,
    workflowJobId: launch.forWorkflowJobId,
    labels: launch.labels,
    runnerName: launch.runnerName,
    clusterUser: launch.clusterUser,
    installationId: launch.installationId,
    profile: launch.profile,
  });
  const started = process.hrtime.bigint();
  const result = await ctx.gateway.startRunner({
    gitHubURL: launch.repositoryUrl,
    launcherToken: token,
    runnerName: launch.runnerName,
    runnerLabels: launch.labels.join(','),
    cpus: String(profile.cpus),
    memory: String(profile.memoryMb),
    ...(profile.partition ? { partition: profile.partition } : {}),
    duration: String(profile.durationMinutes),
    ...(profile.exclusive !== undefined ? { exclusive: String(profile.exclusive) } : {}),
    ...slurmJobOptionsOf(profile),
    clusterUser: launch.clusterUser,
    tokenURL: ctx.settings.tokenBrokerUrl,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ctx.metrics.gatewayDuration.observe({ outcome: result.kind }, seconds);

  const answeredAt = ctx.now().toISOString();
  if (result.kind === 'accepted') {
    const slurmJob = result.jobId !== undefined ? `, Slurm job ${result.jobId}` : '';
    await ctx.launches.update(launchId, (current) => {
      const next = advanceLaunch(current, 'submitted', { at: answeredAt, kind: 'gateway-accepted', detail: `gateway answered ${result.status}${slurmJob}` });
      if (!next) return null;
      return { ...next, attempts: current.attempts + 1, lastError: undefined, ...(result.jobId !== undefined ? { slurmJobId: result.jobId } : {}) };
    });
    await ctx.launches.markInFlight(launch, Date.parse(answeredAt));
    // Our gateway says which Slurm job it made: from now on the observer asks how it does.
    if (result.jobId !== undefined) await ctx.slurmWatch.watch(launchId, Date.parse(answeredAt));
    const launched = await ctx.jobs.update(job.workflowJobId, (current) =>
      current.launchId === launchId ? moveTo(current, 'launched', answeredAt, `gateway accepted launch ${launchId}`) : null,
    );
    observeQueuedToLaunched(ctx, launched, answeredAt);
    ctx.metrics.launches.inc({ outcome: 'accepted' });
    log.info({ attempt: attempt.attempt }, 'gateway accepted the launch');
    return { kind: 'done', outcome: 'accepted' };
  }

  const lastAttempt = attempt.attempt >= attempt.maxAttempts;
  if (result.retryable && !lastAttempt) {
    await ctx.launches.update(launchId, (current) =>
      withEvent(current, { at: answeredAt, kind: 'gateway-failed', detail: `attempt ${attempt.attempt}: ${result.reason}` }, {
        attempts: current.attempts + 1,
        lastError: result.reason,
      }),
    );
    // Give the slot back while waiting: another launch may use it meanwhile.
    await ctx.slots.release(holder);
    ctx.metrics.launches.inc({ outcome: 'gateway-failed' });
    log.warn({ attempt: attempt.attempt, reason: result.reason }, 'gateway failed; will retry');
    return { kind: 'retry', reason: result.reason, ...(result.retryAfterMs !== undefined ? { retryAfterMs: result.retryAfterMs } : {}) };
  }
  const why = result.retryable ? `gave up after ${attempt.attempt} attempts: ${result.reason}` : result.reason;
  await deadLetter(ctx, launch, why, log, attempt.attempt);
  return { kind: 'done', outcome: 'dead-lettered' };
}

async function deadLetter(ctx: DispatcherContext, launch: Launch, reason: string, log: Logger, attempts?: number) {
  const at = ctx.now().toISOString();
  await ctx.launches.update(launch.id, (current) => {
    const next = advanceLaunch(current, 'dead-lettered', { at, kind: 'dead-lettered', detail: reason });
    return next ? { ...next, attempts: attempts ?? current.attempts, lastError: reason } : null;
  });
  await ctx.slots.release({ launchId: launch.id, repository: launch.repository, clusterUser: launch.clusterUser });
  await noteOnJob(ctx, launch.forWorkflowJobId, 'launch-dead-lettered', reason, launch.id);
  ctx.metrics.launches.inc({ outcome: 'dead-lettered' });
  log.error({ reason }, 'launch dead-lettered');
}

function observeQueuedToLaunched(ctx: DispatcherContext, job: WorkflowJobRecord | null, launchedAt: string) {
  const queuedAt = job?.transitions.find((transition) => transition.state === 'queued')?.at;
  if (!queuedAt) return;
  const seconds = (Date.parse(launchedAt) - Date.parse(queuedAt)) / 1000;
  if (seconds >= 0) ctx.metrics.queuedToLaunched.observe(seconds);
}

/**
 * An operator asked to send a dead-lettered launch again: back to pending, then queued.
 * Returns false when the launch is not dead-lettered (nothing to retry).
 */
export async function retryDeadLetteredLaunch(ctx: DispatcherContext, launchId: string, requestedBy: string): Promise<boolean> {
  const launch = await ctx.launches.get(launchId);
  if (launch?.state === 'dead-lettered' && launch.slurmJobId !== undefined) {
    // Our gateway made a Slurm job for this runner name already and never submits that name
    // again (one runner per launch): a retry needs a new launch and name.
    return (await replaceLaunch(ctx, launch, `retried by ${requestedBy}: its Slurm job ${launch.slurmJobId} had ended`, true)) !== null;
  }
  const at = ctx.now().toISOString();
  let retried = false;
  await ctx.launches.update(launchId, (current) => {
    retried = current.state === 'dead-lettered';
    if (!retried) return null;
    const alreadyNoted = current.events.at(-1)?.kind === 'retried';
    const events = alreadyNoted ? current.events : appendBounded(current.events, { at, kind: 'retried', detail: `by ${requestedBy}` });
    return { ...current, state: 'pending', attempts: 0, lastError: undefined, events };
  });
  if (retried) await ctx.launchQueue.enqueue(launchId, Date.now());
  return retried;
}
