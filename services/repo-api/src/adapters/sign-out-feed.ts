/**
 * Sign-outs as Redis pub/sub on `<prefix>:repo-api:sign-outs`, so that every replica hears of
 * one (see `SignOutFeed`). It listens on the change feed's subscriber connection (a connection
 * in subscriber mode may subscribe to any number of channels) and publishes with the client.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@gha-slurm/core/logger';
import { redisKey } from '@gha-slurm/core/queues';
import type { SignOutFeed } from '../domain/ports.ts';

export class RedisSignOutFeed implements SignOutFeed {
  private readonly listeners = new Set<() => void>();
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.channel = redisKey(prefix, 'repo-api', 'sign-outs');
    subscriber.on('message', (channel: string) => {
      if (channel === this.channel) for (const listener of this.listeners) listener();
    });
  }

  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel);
  }

  async publish(): Promise<void> {
    try {
      await this.publisher.publish(this.channel, 'signed-out');
    } catch (error) {
      // The periodic re-check still ends the streams; the sign-out itself must not fail.
      this.logger.warn({ err: error }, 'sign-out not announced to the other replicas');
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
