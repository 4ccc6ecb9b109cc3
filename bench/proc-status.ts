/**
 * A memory figure of a process from /proc/<pid>/status, in bytes: `VmRSS` (resident now) or
 * `VmHWM` (the kernel's high-water mark of it, the peak so far). Null where the process has
 * gone or /proc cannot be read (not Linux). Reading it costs the measured process nothing.
 */
import { readFileSync } from 'node:fs';

export function procStatusBytes(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
