/**
 * Fastify gives every request a child logger bound to its request id (here the delivery
 * GUID). pino builds a child eagerly, serialising its bindings, although an intake that logs
 * nothing per delivery at `info` uses it only on errors: at webhook rates that was a few per
 * cent of the CPU. This factory hands out a stand-in that makes the real child on the first
 * line written through it, so the lines that are written still carry `reqId`.
 *
 * The stand-ins of one parent share one prototype holding the methods: a request costs an
 * object with two fields, not a set of closures.
 */
import type { FastifyBaseLogger } from 'fastify';

const METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = NonNullable<Parameters<FastifyBaseLogger['child']>[1]>;
type LogMethod = FastifyBaseLogger['info'];

interface StandIn extends FastifyBaseLogger {
  bindings: Bindings;
  options: ChildOptions;
  built: FastifyBaseLogger | undefined;
}

const prototypes = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>();

function realChild(standIn: StandIn, parent: FastifyBaseLogger): FastifyBaseLogger {
  return (standIn.built ??= parent.child(standIn.bindings, standIn.options));
}

/** The parent's level and fields show through; writing and `child` go to the real child. */
function standInPrototype(parent: FastifyBaseLogger): FastifyBaseLogger {
  const prototype = Object.create(parent) as FastifyBaseLogger;
  const { isLevelEnabled } = parent as { isLevelEnabled?: (level: string) => boolean };
  for (const method of METHODS) {
    prototype[method] = function (this: StandIn, ...args: Parameters<LogMethod>) {
      // A level that is off builds nothing: a `debug` line at `info` is dropped as pino drops it.
      if (isLevelEnabled?.call(parent, method) === false) return;
      realChild(this, parent)[method](...args);
    } as LogMethod;
  }
  prototype.child = function (this: StandIn, bindings, options) {
    return realChild(this, parent).child(bindings, options);
  };
  return prototype;
}

/** Fastify's `childLoggerFactory`. */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  // A route with its own level needs the child at once, for `level` and `isLevelEnabled`.
  if (options.level !== undefined) return parent.child(bindings, options);
  let prototype = prototypes.get(parent);
  if (!prototype) prototypes.set(parent, (prototype = standInPrototype(parent)));
  const standIn = Object.create(prototype) as StandIn;
  standIn.bindings = bindings;
  standIn.options = options;
  return standIn;
}
