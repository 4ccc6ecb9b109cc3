/**
 * Peak resident memory of named child processes, read from /proc/<pid>/status (VmRSS) every
 * few tens of milliseconds while the load runs. Reading /proc costs the measured processes
 * nothing, unlike asking them over IPC. Linux only; elsewhere the peaks stay null.
 */
import { procStatusBytes } from '../proc-status.ts';

export interface RssPeaks {
  /** Peak VmRSS seen per name, in bytes; null when the process could never be read. */
  peak: Record<string, number | null>;
  /** VmRSS per name when sampling began (before the load), to tell growth from footprint. */
  atStart: Record<string, number | null>;
}

export interface RssSampler {
  stop(): RssPeaks;
}

export function sampleRss(pids: Record<string, number>, everyMs = 50): RssSampler {
  const peaks: Record<string, number | null> = Object.fromEntries(Object.keys(pids).map((name) => [name, null]));
  const sample = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = procStatusBytes(pid, 'VmRSS');
      if (rss !== null) peaks[name] = Math.max(peaks[name] ?? 0, rss);
    }
  };
  sample();
  const atStart = { ...peaks };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peak: { ...peaks }, atStart };
    },
  };
}
