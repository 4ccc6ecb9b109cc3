/**
 * A page of the newest records that match a filter, read from one or more time indexes (sorted
 * sets scored by creation time), exact whatever the filter. Reading a fixed window and filtering
 * it afterwards (what the lists did) stops early: with a state that is rare among recent
 * records, the window holds fewer matches than the page asks for while older ones remain, and
 * the page says "no more".
 *
 * So the indexes are read chunk after chunk, newest first, until the page is full *and* no
 * record still unread can be newer than its last entry, or every index is used up. With several
 * indexes (one per repository), the unread part of each is older than the last record read from
 * it: the newest of those bounds is the frontier a match must not be older than.
 */

export interface NewestMatchingSource<T> {
  /** The index's ids newest first, `count` of them from position `offset`. */
  readIndex(index: string, offset: number, count: number): Promise<string[]>;
  /** The records of `ids`, in order; null for one that is gone. */
  load(ids: string[]): Promise<Array<T | null>>;
  /** The record's creation time (epoch ms): its score in the indexes. */
  timeOf(record: T): number;
}

interface Cursor {
  index: string;
  read: number;
  exhausted: boolean;
  /** Time of the last record read from this index: everything unread is this old or older. */
  lastTime: number;
}

const FIRST_CHUNK = 100;
const LARGEST_CHUNK = 2000;

/** Up to `want` records that pass `matches`, newest first, from all of `indexes`. */
export async function newestMatching<T>(
  source: NewestMatchingSource<T>,
  indexes: string[],
  matches: (record: T) => boolean,
  want: number,
  idOf: (record: T) => string,
): Promise<T[]> {
  const cursors: Cursor[] = indexes.map((index) => ({ index, read: 0, exhausted: false, lastTime: Infinity }));
  const found = new Map<string, T>();
  let chunk = Math.min(LARGEST_CHUNK, Math.max(FIRST_CHUNK, want));
  while (true) {
    const open = cursors.filter((cursor) => !cursor.exhausted);
    if (open.length === 0) break;
    await Promise.all(open.map(async (cursor) => {
      const ids = await source.readIndex(cursor.index, cursor.read, chunk);
      cursor.read += ids.length;
      if (ids.length < chunk) cursor.exhausted = true;
      for (const record of await source.load(ids)) {
        if (record === null) continue;
        cursor.lastTime = source.timeOf(record);
        if (matches(record)) found.set(idOf(record), record);
      }
    }));
    const newestFirst = sortNewestFirst([...found.values()], source.timeOf, idOf);
    const frontier = Math.max(-Infinity, ...cursors.filter((cursor) => !cursor.exhausted).map((cursor) => cursor.lastTime));
    const last = newestFirst[want - 1];
    if (last !== undefined && source.timeOf(last) > frontier) break;
    chunk = Math.min(LARGEST_CHUNK, chunk * 2);
  }
  return sortNewestFirst([...found.values()], source.timeOf, idOf).slice(0, want);
}

/** Newest first; records of the same time by id, so that pages do not shuffle between requests. */
function sortNewestFirst<T>(records: T[], timeOf: (record: T) => number, idOf: (record: T) => string): T[] {
  return records.sort((a, b) => timeOf(b) - timeOf(a) || idOf(a).localeCompare(idOf(b)));
}
