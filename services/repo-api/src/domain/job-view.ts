/**
 * What a workflow job's state means to the people looking at it. The dispatcher's record of a
 * job whose launch was dead-lettered still says `launching` (the state machine only moves
 * forward, and a retry may yet launch it), but nothing is launching: the launch failed, and
 * an admin can retry it. The API says so, so no page has to guess from a launch it may not
 * have loaded.
 */
import type { JobDisplayState, JobView, Launch, WorkflowJobRecord } from '@gha-slurm/core/api/types';

/** States in which a job still waits for the launch made for it. */
const WAITING_FOR_LAUNCH = new Set<WorkflowJobRecord['state']>(['queued', 'launching', 'launched']);

export function displayStateOf(job: WorkflowJobRecord, launch: Pick<Launch, 'id' | 'state'> | null | undefined): JobDisplayState {
  const itsLaunch = launch && launch.id === job.launchId ? launch : null;
  return itsLaunch?.state === 'dead-lettered' && WAITING_FOR_LAUNCH.has(job.state) ? 'launch-failed' : job.state;
}

/** Whether `displayStateOf` needs the job's launch to decide. */
export function mayHaveFailedLaunch(job: WorkflowJobRecord): boolean {
  return job.launchId !== undefined && WAITING_FOR_LAUNCH.has(job.state);
}

export function viewOfJob(job: WorkflowJobRecord, launch: Pick<Launch, 'id' | 'state'> | null | undefined): JobView {
  return { ...job, displayState: displayStateOf(job, launch) };
}
