/**
 * Puts deliveries on the `github-events` queue in batches. Requests that arrive within one
 * turn of the event loop share one Redis round trip (`addBulk`, one MULTI), which is what lets
 * the intake keep up with bursts; each request still waits until its own delivery is stored,
 * so nothing is acknowledged to GitHub before Redis has it.
 */
import type { Queue } from 'bullmq';
import { deliveryJobId, GITHUB_EVENT_JOB_OPTIONS, type GithubEventJob } from '@gha-slurm/core/queues';

export interface BatchingOptions {
  /**
   * Whether the Redis connection is up. BullMQ waits for a connection to come back rather than
   * failing, while GitHub waits 10 s at most: a delivery that cannot be stored now is refused
   * now, so GitHub sees the failure and it can be redelivered.
   */
  isConnected: () => boolean;
  maxBatch?: number;
  /** A write slower than this is answered as failed (it may still land; redelivery is deduplicated). */
  writeTimeoutMs?: number;
  onBatch?: (size: number) => void;
  /**
   * Wraps each batch's write, to hold the answer until enough replicas have the batch too
   * (`writeAcknowledged` with `REDIS_MIN_REPLICAS_ACK`); the batch's requests fail if it throws.
   */
  acknowledge?: <T>(write: () => Promise<T>) => Promise<T>;
}

interface Pending {
  job: GithubEventJob;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface EventQueue {
  enqueue(job: GithubEventJob): Promise<void>;
  /** Waits for batches in flight; new deliveries are refused afterwards. */
  close(): Promise<void>;
}

export class BatchingEnqueuer implements EventQueue {
  private pending: Pending[] = [];
  private flushScheduled = false;
  private inFlight = new Set<Promise<void>>();
  private closed = false;

  private readonly maxBatch: number;
  private readonly writeTimeoutMs: number;

  constructor(
    private readonly queue: Queue,
    private readonly options: BatchingOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5000;
  }

  enqueue(job: GithubEventJob): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the intake is shutting down'));
    if (!this.options.isConnected()) return Promise.reject(new Error('Redis is not connected'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ job, resolve, reject });
      if (this.pending.length >= this.maxBatch) {
        this.flush();
      } else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.options.onBatch?.(batch.length);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not store the batch within ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
    });
    const addBulk = () =>
      this.queue.addBulk(
        batch.map(({ job }) => ({
          name: job.event,
          data: job,
          opts: { ...GITHUB_EVENT_JOB_OPTIONS, jobId: deliveryJobId(job.deliveryId) },
        })),
      );
    const add = this.options.acknowledge ? this.options.acknowledge(addBulk) : addBulk();
    const write = Promise.race([add, timeout])
      .then(
        () => batch.forEach((entry) => entry.resolve()),
        (error: Error) => batch.forEach((entry) => entry.reject(error)),
      )
      .finally(() => clearTimeout(timer));
    // The write may still settle after a timeout; its late failure is already answered.
    add.catch(() => {});
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.all(this.inFlight);
  }
}
