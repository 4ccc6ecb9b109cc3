/**
 * The stores' change notices (Redis pub/sub on `storeKeys(prefix).changes`), read through one
 * subscriber connection per process and fanned out to every listener (each open
 * `/api/events` stream), so a thousand open pages cost one Redis connection.
 */
import type { Redis } from 'ioredis';
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';
import type { Logger } from '@gha-slurm/core/logger';
import { storeKeys } from '@gha-slurm/core/stores/keys';
import type { ChangeFeed } from '../domain/ports.ts';

function isChangeNotice(value: unknown): value is ChangeNotice {
  const notice = value as Partial<ChangeNotice> | null;
  return (
    typeof notice === 'object' && notice !== null &&
    (notice.kind === 'job' || notice.kind === 'launch') &&
    typeof notice.id === 'string' && typeof notice.repository === 'string' &&
    typeof notice.state === 'string' && typeof notice.at === 'string'
  );
}

export class RedisChangeFeed implements ChangeFeed {
  private readonly listeners = new Set<(notice: ChangeNotice) => void>();
  private readonly channel: string;

  /** `subscriber` is a connection of its own: once subscribed, Redis allows it nothing else. */
  constructor(private readonly subscriber: Redis, prefix: string, private readonly logger: Logger) {
    this.channel = storeKeys(prefix).changes;
    subscriber.on('message', (channel: string, message: string) => {
      // The dispatcher publishes several notices per launch; with no page open, none is read.
      if (channel !== this.channel || this.listeners.size === 0) return;
      let notice: unknown;
      try {
        notice = JSON.parse(message);
      } catch {
        notice = null;
      }
      if (!isChangeNotice(notice)) {
        this.logger.warn({ channel }, 'ignored a malformed change notice');
        return;
      }
      for (const listener of this.listeners) listener(notice);
    });
  }

  /** Subscribes; ioredis resubscribes by itself after a reconnection. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  subscribe(listener: (notice: ChangeNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
