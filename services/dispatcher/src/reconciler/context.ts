/**
 * What the reconciler's passes work with: the dispatcher's context, GitHub (absent when no App
 * is configured: then only the passes that need no GitHub run), its own small state in Redis,
 * its bounds, and its metrics.
 */
import type { Redis } from 'ioredis';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DispatcherContext } from '../application/context.ts';
import type { ReconcileGitHub } from './github-port.ts';

export interface ReconcilerSettings {
  /** How long after the gateway accepted it a launch may go without a token request. */
  tokenRequestBoundSeconds: number;
  /** How long a runner that got credentials may go without taking a job. */
  grantedBoundSeconds: number;
  /** Launches again for one job at most this many times, each after twice the last wait. */
  maxRelaunches: number;
  /** A runner of ours with no launch record is deleted once offline this long. */
  orphanRunnerBoundSeconds: number;
  /** Passes stop early when GitHub's remaining request budget falls below this. */
  minRateLimitRemaining: number;
  /** How far back the first missed-deliveries pass looks. */
  deliveriesLookbackSeconds: number;
}

export const DEFAULT_RECONCILER_SETTINGS: ReconcilerSettings = {
  tokenRequestBoundSeconds: 30 * 60,
  grantedBoundSeconds: 15 * 60,
  maxRelaunches: 3,
  orphanRunnerBoundSeconds: 60 * 60,
  minRateLimitRemaining: 200,
  deliveriesLookbackSeconds: 6 * 3600,
};

export function createReconcilerMetrics(registry: Registry) {
  return {
    actions: new Counter({
      name: 'gha_reconciler_actions_total',
      help: 'Repairs made by the reconciler, by pass and action',
      labelNames: ['pass', 'action'] as const,
      registers: [registry],
    }),
    passes: new Counter({
      name: 'gha_reconciler_passes_total',
      help: 'Reconciler passes, by pass and outcome (done, stopped-early, failed)',
      labelNames: ['pass', 'outcome'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'gha_reconciler_pass_duration_seconds',
      help: 'Duration of reconciler passes',
      labelNames: ['pass'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
  };
}

export interface ReconcilerContext {
  dispatcher: DispatcherContext;
  github: ReconcileGitHub | null;
  redis: Redis;
  prefix: string;
  settings: ReconcilerSettings;
  metrics: ReturnType<typeof createReconcilerMetrics>;
}

/** Whether GitHub's budget allows another call; a pass that gets false stops early. */
export function budgetLeft(ctx: ReconcilerContext): boolean {
  const remaining = ctx.github?.rateLimitRemaining();
  return remaining === null || remaining === undefined || remaining >= ctx.settings.minRateLimitRemaining;
}

export type PassOutcome = 'done' | 'stopped-early' | 'skipped';
