/**
 * Fastify gives every request a child logger bound to its request id (here the delivery
 * GUID). pino builds a child eagerly, serialising its bindings, although an intake that logs
 * nothing per delivery at `info` uses it only on errors: at webhook rates that was a few per
 * cent of the CPU. This factory hands out a stand-in that makes the real child on the first
 * line logged through it, so the lines that are written still carry `reqId`.
 */
import type { FastifyBaseLogger } from 'fastify';

const METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;

/** Fastify's `childLoggerFactory`. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  const real = () => (child ??= logger.child(bindings, options));
  // A request whose route sets its own level needs the child at once for `isLevelEnabled` and `level`.
  if (options.level !== undefined) return real();
  // The parent's level and properties show through; only writing goes to the real child.
  const standIn = Object.create(logger) as FastifyBaseLogger;
  const { isLevelEnabled } = logger as { isLevelEnabled?: (level: string) => boolean };
  for (const method of METHODS) {
    // A level that is off stays pino's no-op: a `debug` call at `info` must not build the child.
    if (isLevelEnabled?.call(logger, method) === false) continue;
    standIn[method] = ((...args: Parameters<FastifyBaseLogger['info']>) => real()[method](...args)) as FastifyBaseLogger['info'];
  }
  standIn.child = (childBindings, childOptions) => real().child(childBindings, childOptions);
  return standIn;
}
