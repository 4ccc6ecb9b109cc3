/**
 * One socket write per tick instead of one per command.
 *
 * ioredis writes each command to its socket as soon as it is issued, and Node sends a write at
 * once when nothing is queued, so a service with many jobs in flight makes one `write` system
 * call per command. When a batch of Redis replies arrives, every job it wakes issues its next
 * command in the same tick; corking the socket on the first write of a tick and uncorking it
 * once the tick's microtasks have run sends them all in one `writev`. No command waits longer
 * than the tick that issued it, and the order on the wire is unchanged.
 *
 * (ioredis's `enableAutoPipelining` batches too, but builds a Pipeline object per batch and
 * copies the connection's scripts into it: slower in this project's dispatch benchmark.)
 */
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

const COALESCING = Symbol('gha-slurm.write-coalescing');

type CoalescedSocket = Socket & { [COALESCING]?: true };

export function coalesceWritesPerTick(socket: Socket): void {
  const coalesced = socket as CoalescedSocket;
  if (coalesced[COALESCING]) return;
  coalesced[COALESCING] = true;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** Applies `coalesceWritesPerTick` to every socket the client connects with, reconnects included. */
export function coalesceRedisWrites(redis: Redis): Redis {
  redis.on('connect', () => {
    const stream = (redis as unknown as { stream?: Socket }).stream;
    if (stream) coalesceWritesPerTick(stream);
  });
  return redis;
}
