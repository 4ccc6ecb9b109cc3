/**
 * A bounded cache whose entries carry their own expiry, and where concurrent misses for one
 * key share a single load (single-flight): a hundred runners of one repository asking at once
 * cause one GitHub call, not a hundred.
 *
 * A failed load is not cached; every caller waiting on it gets the failure. `delete` during a
 * load also discards that load's result, so an answer that was already known to be stale
 * (the App was uninstalled meanwhile) is never stored.
 */

export type CacheSource = 'hit' | 'miss' | 'shared';

export interface CacheSettings<V> {
  /** The time (ms since the epoch) from which an entry is no longer served. */
  servedUntil(value: V): number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  until: number;
}

export class SingleFlightCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, { generation: number; promise: Promise<V> }>();
  private readonly generations = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly settings: CacheSettings<V>) {
    this.maxEntries = settings.maxEntries ?? 10_000;
    this.now = settings.now ?? Date.now;
  }

  /** The fresh value, if there is one. */
  peek(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  async get(key: string, load: () => Promise<V>): Promise<{ value: V; source: CacheSource }> {
    const cached = this.peek(key);
    if (cached !== undefined) return { value: cached, source: 'hit' };
    const inFlight = this.loading.get(key);
    if (inFlight) return { value: await inFlight.promise, source: 'shared' };

    const generation = this.generations.get(key) ?? 0;
    const promise = load();
    this.loading.set(key, { generation, promise });
    try {
      const value = await promise;
      if ((this.generations.get(key) ?? 0) === generation) this.store(key, value);
      return { value, source: 'miss' };
    } finally {
      if (this.loading.get(key)?.promise === promise) this.loading.delete(key);
    }
  }

  /** Forgets the key, including a load in flight (its callers still get its answer). */
  delete(key: string): void {
    this.entries.delete(key);
    this.loading.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    if (this.generations.size > this.maxEntries) this.generations.delete(this.generations.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: V): void {
    const until = this.settings.servedUntil(value);
    if (until <= this.now()) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
