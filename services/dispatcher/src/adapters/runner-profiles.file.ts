/**
 * Reads and validates the `RUNNER_PROFILES` file at start. Every problem names its line, so an
 * operator can fix the file without guessing: `line 7 (profiles.1.memory): ...`.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { slurmJobOptionsOf, type RunnerProfiles } from '@gha-slurm/core/domain/runner-profile';
import { durationToMinutes, memoryToMegabytes } from '../domain/resource-units.ts';

export class RunnerProfilesError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`RUNNER_PROFILES ${file} is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'RunnerProfilesError';
  }
}

const label = z.string().trim().min(1, 'a label must not be empty').max(256);

/** A value passed to Slurm as it is (account, qos, constraint, gres): one line, no control characters. */
const slurmOption = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(256)
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must be one line without control characters')
  .optional();

const profileSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -'),
    labels: z.array(label).min(1, 'a profile needs at least one label').max(100, 'GitHub allows at most 100 labels'),
    partition: z.string().min(1).optional(),
    cpus: z.number().int('must be a whole number').positive('must be positive'),
    memory: z.union([z.string(), z.number()]).transform((value, context) => {
      const megabytes = memoryToMegabytes(value);
      if (megabytes === null) context.addIssue({ code: 'custom', message: 'must be a size such as 8G, 512M or a number of megabytes' });
      return megabytes ?? 0;
    }),
    duration: z.union([z.string(), z.number()]).transform((value, context) => {
      const minutes = durationToMinutes(value);
      if (minutes === null) context.addIssue({ code: 'custom', message: 'must be a Slurm time such as "02:00:00", "1-00:00" or minutes' });
      return minutes ?? 0;
    }),
    exclusive: z.boolean().optional(),
    account: slurmOption,
    qos: slurmOption,
    constraint: slurmOption,
    gres: slurmOption,
    staleAfter: z
      .union([z.string(), z.number()])
      .optional()
      .transform((value, context) => {
        if (value === undefined) return undefined;
        const minutes = durationToMinutes(value);
        if (minutes === null) context.addIssue({ code: 'custom', message: 'must be a Slurm time such as "01:00:00" or minutes' });
        return minutes ?? undefined;
      }),
  })
  .strict();

const fileSchema = z
  .object({
    profiles: z.array(profileSchema).min(1, 'at least one profile is needed'),
    limits: z
      .object({
        maxRunnersPerRepository: z.number().int().positive().default(20),
        maxRunnersPerClusterUser: z.number().int().positive().default(50),
      })
      .strict()
      .default({ maxRunnersPerRepository: 20, maxRunnersPerClusterUser: 50 }),
  })
  .strict()
  .superRefine((file, context) => {
    const seen = new Map<string, number>();
    file.profiles.forEach((profile, index) => {
      const key = profile.name.toLowerCase();
      if (seen.has(key)) {
        context.addIssue({ code: 'custom', path: ['profiles', index, 'name'], message: `duplicates the name of profile ${seen.get(key)! + 1}` });
      }
      seen.set(key, index);
    });
  });

export function parseRunnerProfiles(text: string, file: string): RunnerProfiles {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new RunnerProfilesError(
      file,
      document.errors.map((error) => `line ${lineCounter.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`),
    );
  }
  const parsed = fileSchema.safeParse(document.toJS() ?? {});
  if (parsed.success) {
    return {
      profiles: parsed.data.profiles.map((profile) => ({
        name: profile.name,
        labels: profile.labels,
        partition: profile.partition,
        cpus: profile.cpus,
        memoryMb: profile.memory,
        durationMinutes: profile.duration,
        exclusive: profile.exclusive,
        ...slurmJobOptionsOf(profile),
        ...(profile.staleAfter !== undefined ? { staleAfterMinutes: profile.staleAfter } : {}),
      })),
      limits: parsed.data.limits,
    };
  }
  const problems = parsed.error.issues.map((issue) => {
    // The nearest node that exists tells the line (a missing key is reported at its parent).
    let path = issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part));
    let node: unknown = undefined;
    while (path.length > 0 && !isNode(node)) {
      node = document.getIn(path, true);
      if (!isNode(node)) path = path.slice(0, -1);
    }
    if (!isNode(node)) node = document.contents;
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    const where = issue.path.length > 0 ? ` (${issue.path.map(String).join('.')})` : '';
    return `line ${lineCounter.linePos(offset).line}${where}: ${issue.message}`;
  });
  throw new RunnerProfilesError(file, problems);
}

export function loadRunnerProfiles(file: string): RunnerProfiles {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RunnerProfilesError(file, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  return parseRunnerProfiles(text, file);
}
