/**
 * The workflow job's state machine. Deliveries arrive twice, late or out of order, so a
 * delivery moves a job only forward (`WORKFLOW_JOB_STATE_ORDER`): an `in_progress` processed
 * before its `queued` leaves the job running, and the late `queued` changes nothing, so it
 * cannot start a runner for a job that already has one.
 */
import {
  WORKFLOW_JOB_STATE_ORDER,
  type IgnoreReason,
  type WorkflowJobAction,
  type WorkflowJobEvent,
  type WorkflowJobRecord,
  type WorkflowJobState,
} from '@gha-slurm/core/domain/workflow-job';

const STATE_FOR_ACTION: Record<WorkflowJobAction, WorkflowJobState> = {
  waiting: 'waiting',
  queued: 'queued',
  in_progress: 'running',
  completed: 'completed',
};

export function canMove(from: WorkflowJobState, to: WorkflowJobState): boolean {
  return WORKFLOW_JOB_STATE_ORDER[to] > WORKFLOW_JOB_STATE_ORDER[from];
}

/** A new record for a job first heard of through `event`. */
export function newJobRecord(event: WorkflowJobEvent, deliveryId: string, at: string): WorkflowJobRecord {
  const state = STATE_FOR_ACTION[event.action];
  return withEventDetails(
    {
      workflowJobId: event.workflowJob.id,
      runId: event.workflowJob.runId,
      repository: event.repository.fullName,
      repositoryUrl: event.repository.htmlUrl,
      installationId: event.installationId,
      name: event.workflowJob.name,
      workflowName: event.workflowJob.workflowName,
      labels: event.workflowJob.labels,
      state,
      transitions: [{ state, at }],
      events: [],
      firstDeliveryId: deliveryId,
    },
    event,
  );
}

function withEventDetails(record: WorkflowJobRecord, event: WorkflowJobEvent): WorkflowJobRecord {
  const next = { ...record };
  if (event.action === 'in_progress' || event.action === 'completed') {
    next.runnerName = event.workflowJob.runnerName ?? next.runnerName ?? null;
  }
  if (event.action === 'completed') next.conclusion = event.workflowJob.conclusion;
  // The installation can be missing from an early delivery and present in a later one.
  next.installationId = record.installationId ?? event.installationId;
  return next;
}

/**
 * The record after `event`, or null when the event changes nothing (a duplicate, or a state
 * the job is already past).
 */
export function applyEvent(record: WorkflowJobRecord, event: WorkflowJobEvent, at: string): WorkflowJobRecord | null {
  const target = STATE_FOR_ACTION[event.action];
  if (!canMove(record.state, target)) return null;
  const next = withEventDetails(record, event);
  return { ...next, state: target, transitions: [...record.transitions, { state: target, at }] };
}

/** Moves the record to `state` with a note, or null when it is past that state already. */
export function moveTo(
  record: WorkflowJobRecord,
  state: WorkflowJobState,
  at: string,
  note?: string,
  changes: Partial<WorkflowJobRecord> = {},
): WorkflowJobRecord | null {
  if (!canMove(record.state, state)) return null;
  return { ...record, ...changes, state, transitions: [...record.transitions, { state, at, ...(note ? { note } : {}) }] };
}

export const IGNORE_REASON_TEXT: Record<IgnoreReason, string> = {
  'no-profile': 'no runner profile serves these labels',
  'repository-not-connected': 'repository not connected to a cluster account',
  'app-not-installed': 'the GitHub App is not installed on this repository',
  'completed-before-launch': 'the job ended before a runner was launched',
};
