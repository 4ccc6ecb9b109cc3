/** A job's timeline on screen: the milestones with durations, then every recorded step. */
import type { Launch, WorkflowJobRecord } from '@gha-slurm/core/api/types';
import { formatDateTime, formatDuration } from '../format/time.ts';
import { buildTimeline } from './timeline.ts';

export function TimelineView({ job, launch }: { job: WorkflowJobRecord; launch: Launch | null }) {
  const timeline = buildTimeline(job, launch);
  return (
    <section aria-labelledby="timeline-heading" className="timeline">
      <h2 id="timeline-heading">Timeline</h2>
      <ol className="milestones" aria-label="Milestones">
        {timeline.milestones.map((milestone) => (
          <li key={milestone.key} className={milestone.at ? 'reached' : 'pending'} data-milestone={milestone.key}>
            <span className="milestone-label">{milestone.label}</span>
            {milestone.at ? (
              <>
                <time dateTime={milestone.at}>{formatDateTime(milestone.at)}</time>
                {milestone.sincePreviousMs !== null && (
                  <span className="duration">
                    {' '}
                    (after {formatDuration(milestone.sincePreviousMs)})
                  </span>
                )}
              </>
            ) : (
              <span className="muted"> {milestone.missing ?? 'not yet'}</span>
            )}
            {milestone.detail && <span className="milestone-detail">{milestone.detail}</span>}
          </li>
        ))}
      </ol>
      {timeline.totalMs !== null && <p>From queued to the end: {formatDuration(timeline.totalMs)}.</p>}
      <h3>Every step</h3>
      <ol className="steps">
        {timeline.steps.map((step, index) => (
          <li key={`${step.at}-${index}`}>
            <time dateTime={step.at}>{formatDateTime(step.at)}</time> <strong>{step.title}</strong>
            {step.detail && <span className="step-detail"> — {step.detail}</span>}
          </li>
        ))}
      </ol>
    </section>
  );
}
