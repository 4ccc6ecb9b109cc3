/**
 * A bounded cache whose entries carry their own expiry, and where concurrent misses for one
 * key share a single load (single-flight): a hundred runners of one repository asking at once
 * cause one GitHub call, not a hundred.
 *
 * A failed load is not cached; every caller waiting on it gets the failure. `delete` during a
 * load also discards that load's result, so an answer that was already known to be stale
 * (the App was uninstalled meanwhile) is never stored.
 *
 * A caller may give up (its `signal` aborts): it alone is answered at once with
 * `CallerGaveUp`. A load keeps going while anyone still waits for it; once every caller of a
 * load gave up, the load's own signal aborts (so it leaves nothing queued behind it, e.g. its
 * slot in GitHub's budget) and the next caller starts afresh. A load that already reached
 * GitHub finishes anyway and its answer is kept for the next caller: that call is paid for.
 */

/** The caller's signal aborted before the value came. */
export class CallerGaveUp extends Error {
  override name = 'CallerGaveUp';
}

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

interface Flight<V> {
  generation: number;
  promise: Promise<V>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new CallerGaveUp('the caller gave up'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallerGaveUp('the caller gave up'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

export class SingleFlightCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Flight<V>>();
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

  async get(
    key: string,
    load: (signal: AbortSignal) => Promise<V>,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ value: V; source: CacheSource }> {
    const cached = this.peek(key);
    if (cached !== undefined) return { value: cached, source: 'hit' };
    if (options.signal?.aborted) throw new CallerGaveUp('the caller gave up');
    let flight = this.loading.get(key);
    const source: CacheSource = flight ? 'shared' : 'miss';
    if (!flight) flight = this.start(key, load);
    flight.waiters += 1;
    try {
      return { value: await untilAborted(flight.promise, options.signal), source };
    } finally {
      flight.waiters -= 1;
      if (flight.waiters === 0 && !flight.settled) {
        // Everyone gave up: nothing is left waiting for this load, so it must not go on.
        flight.controller.abort();
        if (this.loading.get(key) === flight) this.loading.delete(key);
      }
    }
  }

  private start(key: string, load: (signal: AbortSignal) => Promise<V>): Flight<V> {
    const generation = this.generations.get(key) ?? 0;
    const controller = new AbortController();
    const flight: Flight<V> = { generation, controller, waiters: 0, settled: false, promise: undefined as unknown as Promise<V> };
    flight.promise = Promise.resolve()
      .then(() => load(controller.signal))
      .then(
        (value) => {
          flight.settled = true;
          if ((this.generations.get(key) ?? 0) === generation) this.store(key, value);
          if (this.loading.get(key) === flight) this.loading.delete(key);
          return value;
        },
        (error: unknown) => {
          flight.settled = true;
          if (this.loading.get(key) === flight) this.loading.delete(key);
          throw error;
        },
      );
    // A load nobody waits for any more may still fail: that is nobody's error.
    flight.promise.catch(() => undefined);
    this.loading.set(key, flight);
    return flight;
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
