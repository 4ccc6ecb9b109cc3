/**
 * The benchmark's gateway, in its own process so that answering does not share the
 * dispatcher's event loop: accepts every `POST /runner/start` at once and counts starts per
 * runner name. Tells its port and, when asked, its counts over IPC, with the wall-clock times
 * of the first and last start (the end-to-end figure ends at the last one).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const starts = new Map<string, number>();
let firstAt: number | null = null;
let lastAt: number | null = null;
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { runnerName: string };
    starts.set(body.runnerName, (starts.get(body.runnerName) ?? 0) + 1);
    lastAt = Date.now();
    firstAt ??= lastAt;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"OK!"}');
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  process.send!({ kind: 'listening', port: (server.address() as AddressInfo).port });
});

process.on('message', (message: { kind: string }) => {
  if (message.kind === 'count') {
    let total = 0;
    let duplicated = 0;
    for (const count of starts.values()) {
      total += count;
      if (count > 1) duplicated += 1;
    }
    process.send!({ kind: 'count', total, distinct: starts.size, duplicated, firstAt, lastAt });
  }
  if (message.kind === 'stop') server.close(() => process.exit(0));
});
