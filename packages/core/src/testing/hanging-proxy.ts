/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Redis), that can be made to hang: after
 * `hang()` it keeps every connection open and accepts what is sent, but passes nothing on and
 * answers nothing, as a server does that froze or sits behind a dead network path. Clients see
 * no error, only silence, which is what tests of "a dependency hangs" need.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface HangingProxy {
  /** The proxy's `redis://` (or other scheme's) address, with the target's credentials and path. */
  url: string;
  port: number;
  hang(): void;
  /** Bytes clients sent since `hang()`, none of which got an answer: a request is stuck once this grows. */
  heldBytes(): number;
  close(): Promise<void>;
}

export async function startHangingProxy(targetUrl: string): Promise<HangingProxy> {
  const target = new URL(targetUrl);
  let hanging = false;
  let held = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => {
      if (hanging) held += chunk.length;
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!hanging) client.write(chunk);
    });
    // While hanging, a side that closes leaves the other open: silence, not a reset.
    client.on('close', () => {
      if (!hanging) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!hanging) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    port,
    hang() {
      hanging = true;
    },
    heldBytes: () => held,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
