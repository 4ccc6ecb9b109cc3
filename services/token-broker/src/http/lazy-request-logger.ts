/**
 * Fastify gives every request a child logger (`reqId`). With the shared logger's redaction
 * paths, making a child costs about as much as a Redis round trip, and most grants log
 * nothing at the default level. This factory hands out a stand-in that makes the real child
 * only when a line is actually written at an enabled level.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type ChildLoggerFactory = NonNullable<FastifyServerOptions['childLoggerFactory']>;

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export const lazyChildLoggerFactory: ChildLoggerFactory = (parent, bindings, options) => {
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= parent.child(bindings, options));
  const enabled = (level: Level) => LEVELS[level]! >= (LEVELS[(child ?? parent).level] ?? Number.POSITIVE_INFINITY);
  const method =
    (level: Level) =>
    (...args: unknown[]) => {
      if (enabled(level)) (real()[level] as (...input: unknown[]) => void)(...args);
    };
  const lazy: FastifyBaseLogger = {
    get level() {
      return (child ?? parent).level;
    },
    set level(level: string) {
      real().level = level;
    },
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    silent: () => {},
    child: (childBindings, childOptions) => real().child(childBindings, childOptions),
  };
  return lazy;
};
