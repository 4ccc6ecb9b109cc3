/**
 * The jobs table: one row per workflow job with its repository, name, labels, state, how
 * long it waited, the launch and runner serving it, and, for a job that got no runner, why.
 * On a phone each row becomes a card (see `styles.css`); the cells keep their labels.
 */
import { Link } from 'react-router';
import type { JobView, Launch } from '@gha-slurm/core/api/types';
import { formatDuration, formatWhen } from '../format/time.ts';
import { StateBadge } from './badge.tsx';
import { describeJobReason, jobBadge, launchBadge, runnerOf, stillWaiting, waitedMs } from './job-words.ts';

export interface JobsTableProps {
  jobs: JobView[];
  launches: ReadonlyMap<string, Launch>;
  now: number;
  caption: string;
  /** Admins are offered the retry of a failed launch. */
  admin?: boolean;
}

export function Labels({ labels }: { labels: string[] }) {
  if (labels.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="labels" aria-label="Labels">
      {labels.map((label) => (
        <li key={label} className="label">
          {label}
        </li>
      ))}
    </ul>
  );
}

export function JobsTable({ jobs, launches, now, caption, admin = false }: JobsTableProps) {
  return (
    <div className="table-scroll">
      <table className="jobs cards-on-phone">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Repository</th>
            <th scope="col">Labels</th>
            <th scope="col">State</th>
            <th scope="col">Waited</th>
            <th scope="col">Launch and runner</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => {
            const launch = job.launchId ? launches.get(job.launchId) : undefined;
            const reason = describeJobReason(job, launch);
            const waited = waitedMs(job, now);
            const runner = runnerOf(job);
            return (
              <tr key={job.workflowJobId} data-job-id={job.workflowJobId}>
                <td data-label="Job">
                  <Link to={`/jobs/${job.workflowJobId}`} className="job-name">
                    {job.name}
                  </Link>
                  {job.workflowName && <div className="muted small">{job.workflowName}</div>}
                  <div className="muted small">queued {formatWhen(job.transitions[0]?.at, now)}</div>
                </td>
                <td data-label="Repository">{job.repository}</td>
                <td data-label="Labels">
                  <Labels labels={job.labels} />
                </td>
                <td data-label="State">
                  <StateBadge badge={jobBadge(job, launch)} />
                  {reason && <p className="reason">{reason}</p>}
                </td>
                <td data-label="Waited">
                  {formatDuration(waited)}
                  {stillWaiting(job) && waited !== null && <span className="muted small"> so far</span>}
                </td>
                <td data-label="Launch and runner">
                  {runner ? (
                    // A runner took the job: the row shows that runner and the launch it came from.
                    <>
                      <div className="small">runner {runner.runnerName}</div>
                      {runner.launchId && (
                        <div className="small">
                          <Link to={`/launches/${runner.launchId}`}>launch {runner.launchId}</Link>
                          {runner.swapped && <span className="muted"> (made for another job)</span>}
                        </div>
                      )}
                      {runner.launchId && launches.has(runner.launchId) && (
                        <div className="small">
                          <StateBadge badge={launchBadge(launches.get(runner.launchId)!)} />
                        </div>
                      )}
                    </>
                  ) : job.launchId ? (
                    <>
                      <Link to={`/launches/${job.launchId}`}>launch {job.launchId}</Link>
                      {launch && (
                        <div className="small">
                          <StateBadge badge={launchBadge(launch)} />
                        </div>
                      )}
                      {admin && job.displayState === 'launch-failed' && (
                        <div className="small">
                          <Link to={`/launches/${job.launchId}`} aria-label={`Retry launch ${job.launchId} of ${job.repository}`}>
                            Retry…
                          </Link>
                        </div>
                      )}
                    </>
                  ) : (
                    <span className="muted">no launch</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
