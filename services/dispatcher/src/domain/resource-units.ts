/**
 * The profile file speaks as people do (`memory: 8G`, `duration: "02:00:00"`); the gateway
 * passes values straight to slurmrestd, which wants megabytes and minutes.
 */

const MEMORY = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i;
const FACTOR_TO_MB: Record<string, number> = { K: 1 / 1024, '': 1, M: 1, G: 1024, T: 1024 * 1024 };

/** `8G` → 8192; a bare number is megabytes, as in Slurm. */
export function memoryToMegabytes(value: string | number): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : null;
  const match = MEMORY.exec(value.trim());
  if (!match) return null;
  const megabytes = Math.ceil(Number(match[1]) * FACTOR_TO_MB[(match[2] ?? '').toUpperCase()]!);
  return megabytes > 0 ? megabytes : null;
}

/** Slurm time formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS` → minutes (rounded up). */
export function durationToMinutes(value: string | number): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : null;
  const text = value.trim();
  const dayMatch = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(text);
  let seconds: number;
  if (dayMatch) {
    const [, days, hours, minutes = '0', secs = '0'] = dayMatch;
    seconds = Number(days) * 86400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(secs);
  } else if (/^\d+(?::\d+){0,2}$/.test(text)) {
    const parts = text.split(':').map(Number);
    if (parts.length === 1) seconds = parts[0]! * 60;
    else if (parts.length === 2) seconds = parts[0]! * 60 + parts[1]!;
    else seconds = parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
  } else {
    return null;
  }
  const minutes = Math.ceil(seconds / 60);
  return minutes > 0 ? minutes : null;
}
