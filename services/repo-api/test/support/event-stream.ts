/** A client of `GET /api/events` that parses the stream's frames, for tests. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';

export interface EventStream {
  response: IncomingMessage;
  notices: ChangeNotice[];
  comments: string[];
  /** The data of `end` events: why the server ended the stream. */
  ends: Array<{ reason: string }>;
  ended: Promise<void>;
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

export function openEventStream(base: string, headers: Record<string, string>): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}/api/events`, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const notices: ChangeNotice[] = [];
      const comments: string[] = [];
      const ends: Array<{ reason: string }> = [];
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').filter((line) => line.startsWith('data: ')).map((line) => line.slice(6)).join('\n');
          if (data && frame.split('\n').includes('event: end')) ends.push(JSON.parse(data) as { reason: string });
          else if (data) notices.push(JSON.parse(data) as ChangeNotice);
          for (const line of frame.split('\n')) if (line.startsWith(':')) comments.push(line);
        }
      });
      const ended = new Promise<void>((done) => response.once('end', done).once('close', done));
      resolve({
        response,
        notices,
        comments,
        ends,
        ended,
        async waitFor(predicate, what, timeoutMs = 3000) {
          const deadline = Date.now() + timeoutMs;
          while (!predicate()) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((wait) => setTimeout(wait, 20));
          }
        },
        close: () => request.destroy(),
      });
    });
    request.on('error', reject);
    request.end();
  });
}
