/**
 * CPU seconds a process has used so far (user + system, /proc/<pid>/stat), so the benchmark can
 * report the dispatcher's CPU per launch: on a shared machine that figure moves much less
 * with other people's load than launches per second does. Null where /proc cannot be read.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ, the unit of utime and stime; 100 on every common build. */
const CLOCK_TICKS_PER_SECOND = 100;

export function processCpuSeconds(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds Redis has used so far (`INFO cpu`: user + system, its main thread and the rest). */
export async function redisCpuSeconds(redis: { info(section: string): Promise<string> }): Promise<number | null> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  const seconds = field('used_cpu_user') + field('used_cpu_sys');
  return Number.isFinite(seconds) ? seconds : null;
}

/** CPU seconds this process (the load generator) has used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}
