/**
 * Follows the repository mapping's audit stream (every change repo-api or a GitHub event makes
 * is written there in the same atomic step as the change) through a Redis consumer group: each
 * entry goes to one dispatcher replica, entries written while every dispatcher was down are
 * read when one starts, and an entry whose reader died is taken over by another after
 * `claimIdleMs`. Following a change is idempotent, so an entry handled twice does no harm.
 */
import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { storeKeys } from '@gha-slurm/core/stores/keys';
import type { DispatcherContext } from '../application/context.ts';
import { followOwnerChange } from '../application/follow-owner-change.ts';
import { ownerChangesOf } from '../domain/mapping-change.ts';

/** Renaming the group makes a deployment read the stream again from its end. */
export const OWNER_CHANGES_GROUP = 'dispatcher-owner-changes';

/** A reader silent this long, with nothing pending, belonged to a process that is gone. */
const GONE_AFTER_MS = 24 * 3600 * 1000;

export interface FollowerSettings {
  /** How long one read waits for a new entry (also how soon a close is noticed at worst). */
  blockMs: number;
  /** An entry read by a replica that has not acknowledged it this long is taken over. */
  claimIdleMs: number;
}

export const DEFAULT_FOLLOWER_SETTINGS: FollowerSettings = { blockMs: 5_000, claimIdleMs: 60_000 };

type StreamEntry = [id: string, fields: string[]];

export interface OwnerChangesFollower {
  /** Joins the group (so every change from now on is followed), then reads in the background. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** `connection` is the follower's own: a blocking read holds it. */
export function createOwnerChangesFollower(ctx: DispatcherContext, connection: Redis, prefix: string, settings = DEFAULT_FOLLOWER_SETTINGS): OwnerChangesFollower {
  const stream = storeKeys(prefix).mappingAudit;
  const consumer = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const log = ctx.logger.child({ component: 'owner-changes' });
  let closed = false;
  let running: Promise<void> | null = null;

  let groupReady = false;
  async function ensureGroup() {
    if (groupReady) return;
    try {
      // From the stream's end: changes made before the first dispatcher ran had no launches.
      await connection.xgroup('CREATE', stream, OWNER_CHANGES_GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    await forgetGoneReaders();
    groupReady = true;
  }

  /** Each process reads under its own name; names of processes long gone with nothing pending are dropped. */
  async function forgetGoneReaders() {
    const consumers = (await connection.xinfo('CONSUMERS', stream, OWNER_CHANGES_GROUP)) as Array<Array<string | number>>;
    for (const info of consumers) {
      const fields = new Map<string, string | number>();
      for (let i = 0; i + 1 < info.length; i += 2) fields.set(String(info[i]), info[i + 1]!);
      if (Number(fields.get('pending')) === 0 && Number(fields.get('idle')) > GONE_AFTER_MS) {
        await connection.xgroup('DELCONSUMER', stream, OWNER_CHANGES_GROUP, String(fields.get('name')));
      }
    }
  }

  async function handle([id, fields]: StreamEntry) {
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
    const list = (value: string | undefined) => (value ? value.split('\n') : []);
    const changes = ownerChangesOf({ user: record.user ?? '', before: list(record.before), after: list(record.after) });
    for (const { repository, formerUser } of changes) {
      await followOwnerChange(ctx, repository, formerUser ? [formerUser] : [], log.child({ repository, auditId: id }));
    }
    await connection.xack(stream, OWNER_CHANGES_GROUP, id);
  }

  async function loop() {
    while (!closed) {
      try {
        await ensureGroup();
        // Entries another replica read and never acknowledged (it died) first, then new ones.
        const [, orphans] = (await connection.xautoclaim(stream, OWNER_CHANGES_GROUP, consumer, settings.claimIdleMs, '0-0', 'COUNT', 50)) as [string, StreamEntry[]];
        for (const entry of orphans) await handle(entry);
        const read = (await connection.xreadgroup('GROUP', OWNER_CHANGES_GROUP, consumer, 'COUNT', 50, 'BLOCK', settings.blockMs, 'STREAMS', stream, '>')) as Array<[string, StreamEntry[]]> | null;
        for (const entry of read?.[0]?.[1] ?? []) await handle(entry);
      } catch (error) {
        if (closed) return;
        log.warn({ err: error }, 'following repository owner changes failed; trying again shortly');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  return {
    async start() {
      await ensureGroup().catch((error: unknown) => log.warn({ err: error }, 'could not join the owner-changes group yet; retrying in the background'));
      running ??= loop();
    },
    async close() {
      closed = true;
      // A blocked read ends when its connection does; what it read stays pending for the next reader.
      connection.disconnect();
      await running;
    },
  };
}
