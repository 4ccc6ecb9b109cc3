import { z } from 'zod';
import { commonVariables, port, positiveInt, requiredString } from '@gha-slurm/core/config';

export const ingestConfigSchema = z.object({
  ...commonVariables,
  PORT: port(3001),
  GITHUB_WEBHOOK_SECRET: requiredString("the GitHub App's webhook secret"),
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt(1024 * 1024, 'largest accepted delivery in bytes'),
});

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
