/**
 * `TRUST_PROXY`, read the same way by every service: behind a reverse proxy, which hops of
 * `X-Forwarded-For` name the real client (for rate limits, logs and https detection).
 *
 * - `false` (or unset): the proxy's own address is the client; nothing forwarded is believed;
 * - `true`: the left-most forwarded address is the client (only when nothing else can reach
 *   the service: any client could otherwise claim any address);
 * - a hop count `n`: the n proxies nearest the service are trusted;
 * - proxy addresses, CIDRs, or `loopback` / `linklocal` / `uniquelocal`, comma-separated:
 *   forwarded addresses are believed only from those proxies.
 */
import { isIP } from 'node:net';

export type TrustProxy = boolean | number | string[];

const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

export const TRUST_PROXY_FORMS =
  'true, false, a hop count, or the proxies\' addresses, CIDRs or loopback/linklocal/uniquelocal, comma-separated (e.g. 10.0.0.0/8,loopback)';

function isProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry) || isIP(entry) !== 0) return true;
  const [address, bits, ...rest] = entry.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  // A netmask (10.0.0.0/255.0.0.0) is allowed for IPv4, as proxy-addr allows it.
  if (family === 4 && isIP(bits) === 4) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** The setting a value stands for; throws an Error saying what is wrong with it. */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  const wrong = entries.filter((entry) => !isProxyEntry(entry));
  if (wrong.length > 0) {
    throw new Error(`must be ${TRUST_PROXY_FORMS}; ${wrong.map((entry) => JSON.stringify(entry)).join(', ')} is none of these`);
  }
  return entries;
}

/** Fastify's `trustProxy` option for a setting (its types take a hop count only as a function). */
export function fastifyTrustProxy(setting: TrustProxy | undefined): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return setting ?? false;
}
