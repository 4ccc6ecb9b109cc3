/**
 * The admins' landing page: what waits and runs now, the queues' health, and charts of the
 * last day and week (launches and completions per hour, time from queued to running per
 * profile, CPU-hours by repository and by user). Figures from `/api/overview` and
 * `/api/usage`, refreshed as jobs and launches change.
 */
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import type { Overview, QueueHealth, UsageList } from '@gha-slurm/core/api/types';
import { queryKeys } from '../api/endpoints.ts';
import { useSession } from '../auth/session.tsx';
import { formatDuration, formatWhen } from '../format/time.ts';
import { StateBadge } from '../jobs/badge.tsx';
import type { Tone } from '../jobs/job-words.ts';
import { Loading, LoadError, PageHeading } from '../layout/page.tsx';
import { BarList, ColumnChart } from './charts.tsx';

const hourLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

const QUEUE_HEALTH_WORDS: Record<QueueHealth, { text: string; tone: Tone }> = {
  ok: { text: 'Healthy', tone: 'ok' },
  backlog: { text: 'Backlog', tone: 'warn' },
  failed: { text: 'Has failed jobs', tone: 'bad' },
};

function Figure({ label, value, to, tone = 'neutral' }: { label: string; value: number; to?: string; tone?: Tone }) {
  const body = (
    <>
      <span className="figure-value">{value}</span>
      <span className="figure-label">{label}</span>
    </>
  );
  return (
    <li className={`figure figure-${tone}`} data-figure={label}>
      {to ? <Link to={to}>{body}</Link> : body}
    </li>
  );
}

function NowFigures({ overview }: { overview: Overview }) {
  const { now } = overview;
  return (
    <section aria-labelledby="now-heading">
      <h2 id="now-heading">Now</h2>
      <ul className="figures">
        <Figure label="Jobs waiting" value={now.jobsWaiting} to="/jobs?state=waiting,queued,launching,launched" />
        <Figure label="Launches in flight" value={now.launchesInFlight} />
        <Figure label="Runners running" value={now.runnersRunning} to="/jobs?state=running" tone={now.runnersRunning > 0 ? 'active' : 'neutral'} />
        <Figure label="Dead letters" value={now.deadLetters} to="/ops/dead-letters" tone={now.deadLetters > 0 ? 'bad' : 'ok'} />
      </ul>
    </section>
  );
}

function QueueHealthList({ overview }: { overview: Overview }) {
  return (
    <section aria-labelledby="queues-heading">
      <h2 id="queues-heading">Queues</h2>
      <ul className="queue-health" aria-label="Queue health">
        {overview.queues.map((queue) => (
          <li key={queue.name} data-queue={queue.name}>
            <strong>{queue.name}</strong> <StateBadge badge={QUEUE_HEALTH_WORDS[queue.health]} />{' '}
            <span className="muted small">
              {queue.counts.waiting} waiting · {queue.counts.active} active · {queue.counts.delayed} delayed · {queue.counts.failed} failed
            </span>
          </li>
        ))}
      </ul>
      <p className="small">
        <Link to="/ops/queues">All queue counts</Link>
      </p>
    </section>
  );
}

function HourlyChart({ overview }: { overview: Overview }) {
  const launches = overview.hourly.reduce((sum, hour) => sum + hour.launches, 0);
  const completions = overview.hourly.reduce((sum, hour) => sum + hour.completions, 0);
  return (
    <ColumnChart
      title="Launches and completions per hour, last 24 hours"
      summary={`${launches} launches and ${completions} completed jobs`}
      series={[{ name: 'launches' }, { name: 'completions' }]}
      points={overview.hourly.map((hour) => ({ label: hourLabel.format(Date.parse(hour.hour)), values: [hour.launches, hour.completions] }))}
      labelEvery={3}
    />
  );
}

/** A wait as people read it; under a second (a quiet test cluster) in milliseconds rather than "0s". */
function formatWait(ms: number | null): string {
  return ms !== null && ms < 1000 ? `${ms} ms` : formatDuration(ms);
}

function WaitCharts({ overview }: { overview: Overview }) {
  const chart = (window: 'day' | 'week', title: string) => {
    const profiles = overview.waitTimes.filter((profile) => profile[window].jobs > 0);
    return (
      <BarList
        title={title}
        summary={profiles.map((profile) => `${profile.profile}: median ${formatWait(profile[window].p50Ms)}, 95th percentile ${formatWait(profile[window].p95Ms)}`).join('; ') || 'no jobs'}
        series={[{ name: 'p50' }, { name: 'p95' }]}
        groups={profiles.map((profile) => ({
          label: `${profile.profile} (${profile[window].jobs} ${profile[window].jobs === 1 ? 'job' : 'jobs'})`,
          values: [profile[window].p50Ms ?? 0, profile[window].p95Ms ?? 0],
          texts: [formatWait(profile[window].p50Ms), formatWait(profile[window].p95Ms)],
        }))}
        empty="No job started running in this time."
      />
    );
  };
  return (
    <section aria-labelledby="waits-heading">
      <h2 id="waits-heading">Time from queued to running, per profile</h2>
      <div className="chart-pair">
        {chart('day', 'Last day')}
        {chart('week', 'Last week')}
      </div>
    </section>
  );
}

/**
 * How a chart's CPU time reads: in CPU-hours, or, when its largest figure is under an hour,
 * in CPU-minutes or CPU-seconds (short test jobs), one unit for the whole chart.
 */
export function cpuTimeFormat(largestHours: number): (hours: number) => string {
  const [unit, perHour]: [string, number] = largestHours >= 1 ? ['CPU-h', 1] : largestHours * 60 >= 1 ? ['CPU-min', 60] : ['CPU-s', 3600];
  return (hours) => {
    const value = hours * perHour;
    return `${value >= 10 ? Math.round(value) : Number(value.toFixed(1))} ${unit}`;
  };
}

function UsageChart({ usage, what }: { usage: UsageList; what: string }) {
  const total = usage.items.reduce((sum, item) => sum + item.cpuHours, 0);
  const formatCpuHours = cpuTimeFormat(Math.max(0, ...usage.items.map((item) => item.cpuHours)));
  return (
    <BarList
      title={`CPU-hours by ${what}, last 7 days`}
      summary={`${formatCpuHours(total)} in all; ${usage.items.slice(0, 5).map((item) => `${item.key} ${formatCpuHours(item.cpuHours)}`).join(', ')}`}
      series={[{ name: 'CPU-hours' }]}
      groups={usage.items.slice(0, 10).map((item) => ({
        label: item.key,
        values: [item.cpuHours],
        texts: [`${formatCpuHours(item.cpuHours)} · ${item.jobs} ${item.jobs === 1 ? 'job' : 'jobs'}`],
      }))}
      empty="No Slurm job ended in the last 7 days (or the gateway reports none: gha-slurm-munge gives no job ids)."
    />
  );
}

export function OverviewPage() {
  const { endpoints } = useSession();
  // Aggregates: refreshed on a steady beat rather than on every change notice.
  const overview = useQuery({ queryKey: queryKeys.overview, queryFn: endpoints.overview, refetchInterval: 15_000 });
  const byRepository = useQuery({ queryKey: queryKeys.usage({ by: 'repository' }), queryFn: () => endpoints.usage({ by: 'repository' }), refetchInterval: 60_000 });
  const byUser = useQuery({ queryKey: queryKeys.usage({ by: 'user' }), queryFn: () => endpoints.usage({ by: 'user' }), refetchInterval: 60_000 });
  const data = overview.data;
  return (
    <>
      <PageHeading title="Overview">
        {data && (
          <p className="muted small">
            Figures of <time dateTime={data.generatedAt}>{formatWhen(data.generatedAt)}</time>, refreshed every 15 s
          </p>
        )}
      </PageHeading>
      {overview.isPending && <Loading what="the overview" />}
      {overview.isError && <LoadError error={overview.error} what="the overview" retry={() => void overview.refetch()} />}
      {data && (
        <>
          <div className="overview-top">
            <NowFigures overview={data} />
            <QueueHealthList overview={data} />
          </div>
          <section aria-labelledby="activity-heading">
            <h2 id="activity-heading">Activity</h2>
            <HourlyChart overview={data} />
          </section>
          <WaitCharts overview={data} />
          {data.sample.truncated && (
            <p className="muted small">
              Figures from the newest {data.sample.jobs} jobs and {data.sample.launches} launches; older ones are left out.
            </p>
          )}
        </>
      )}
      <section aria-labelledby="usage-heading">
        <h2 id="usage-heading">Cluster use</h2>
        {(byRepository.isPending || byUser.isPending) && <Loading what="the usage" />}
        {byRepository.isError && <LoadError error={byRepository.error} what="the usage" retry={() => void byRepository.refetch()} />}
        <div className="chart-pair">
          {byRepository.data && <UsageChart usage={byRepository.data} what="repository" />}
          {byUser.data && <UsageChart usage={byUser.data} what="user" />}
        </div>
      </section>
    </>
  );
}
