/**
 * "Acknowledged" means "kept": a write that someone is told succeeded (a delivery answered 202,
 * a repository list saved) must survive the primary's failure. Redis replicates asynchronously,
 * so the primary can answer a write and die before any replica has it; the replica promoted in
 * its place then never heard of it. `WAIT n timeout` after the write closes that gap: it
 * returns once n replicas hold every write this connection made so far.
 *
 * The requirement belongs to the deployment, like the Redis address, so it is attached to the
 * connection (`createRedis` does it from `REDIS_MIN_REPLICAS_ACK`) and the code that makes such
 * writes only says which writes they are (`writeAcknowledged`).
 */
import type { Redis } from 'ioredis';

export interface ReplicaAckPolicy {
  /** Replicas that must hold the write. */
  minReplicas: number;
  /** How long to wait for them before the write counts as failed. */
  timeoutMs: number;
}

/**
 * The write may have been stored, but not by enough replicas to survive a failover, so it is
 * not acknowledged: the caller answers "try again" (HTTP 503), and the retry is harmless
 * because these writes are idempotent (a delivery id, a whole list replaced).
 */
export class ReplicasBehindError extends Error {
  /** Fastify answers an error carrying `statusCode` with that status. */
  readonly statusCode = 503;

  constructor(message: string) {
    super(message);
    this.name = 'ReplicasBehindError';
  }
}

const policies = new WeakMap<Redis, ReplicaAckPolicy>();
/** Connections closed so far, per connection object (ioredis reconnects the same object). */
const closes = new WeakMap<Redis, number>();

/** Writes on `connection` that go through `writeAcknowledged` wait for `policy`'s replicas. */
export function requireReplicaAck(connection: Redis, policy: ReplicaAckPolicy): void {
  if (policy.minReplicas > 0) policies.set(connection, policy);
}

export function replicaAckPolicyOf(connection: Redis): ReplicaAckPolicy | undefined {
  return policies.get(connection);
}

function closesOf(connection: Redis): number {
  if (!closes.has(connection)) {
    closes.set(connection, 0);
    connection.on('close', () => closes.set(connection, (closes.get(connection) ?? 0) + 1));
  }
  return closes.get(connection)!;
}

/**
 * Runs `write`, which must write through `connection`, and resolves with its result once the
 * policy's replicas hold it; without a policy, as soon as the write resolves. Throws
 * `ReplicasBehindError` when they do not confirm it in time, or when the connection was
 * replaced meanwhile: `WAIT` only covers the writes of its own connection, so after a
 * reconnection (to a new primary, say) it would confirm nothing about this write.
 * `policy` defaults to the connection's own; a duplicate connection passes its origin's.
 */
export async function writeAcknowledged<T>(
  connection: Redis,
  write: () => Promise<T>,
  policy: ReplicaAckPolicy | undefined = replicaAckPolicyOf(connection),
): Promise<T> {
  if (!policy) return write();
  const closedBefore = closesOf(connection);
  const result = await write();
  const held = await connection.wait(policy.minReplicas, policy.timeoutMs);
  if (closesOf(connection) !== closedBefore) {
    throw new ReplicasBehindError('the connection to Redis was replaced during the write; whether replicas hold it is unknown');
  }
  if (held < policy.minReplicas) {
    throw new ReplicasBehindError(`${held} of the ${policy.minReplicas} required replicas confirmed the write within ${policy.timeoutMs} ms`);
  }
  return result;
}
