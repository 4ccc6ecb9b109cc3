/**
 * How busy the whole machine was, from /proc/stat (Linux; elsewhere the figures are absent).
 * The benchmark's three processes (load generator, server, Redis) share the CPUs with whatever
 * else runs; CPU time that none of them used tells whether a measurement was disturbed.
 */
import { readFileSync } from 'node:fs';

/** Jiffies per second as Linux reports /proc/stat (USER_HZ, 100 on every mainstream build). */
const USER_HZ = 100;

export interface CpuTimes {
  busySeconds: number;
  stealSeconds: number;
}

export function machineCpuTimes(): CpuTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label !== 'cpu') return undefined;
    // user nice system idle iowait irq softirq steal ...
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
    return {
      busySeconds: (user + nice + system + irq + softirq) / USER_HZ,
      stealSeconds: steal / USER_HZ,
    };
  } catch {
    return undefined;
  }
}
