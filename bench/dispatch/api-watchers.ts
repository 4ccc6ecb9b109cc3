/**
 * Operators watching the admin API after a burst: a few browsers' worth of connections asking
 * repo-api, as fast as it answers, for the pages an operator opens (the overview, the jobs and
 * launches just made, the queues), so that repo-api's memory is read under load and over the
 * backlog the burst left, not idle.
 */
import { Agent, request } from 'node:http';

const PAGES = ['/api/overview', '/api/jobs', '/api/launches', '/api/queues'];

export interface ApiWatch {
  seconds: number;
  connections: number;
  requests: number;
  /** Answers other than 200, by status (or the error's message). */
  failures: Record<string, number>;
  requestsPerSecond: number;
}

function get(agent: Agent, url: URL, token: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve(String(response.statusCode)));
    });
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}

export async function watchApi(baseUrl: string, token: string, options: { seconds: number; connections: number }): Promise<ApiWatch> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const deadline = Date.now() + options.seconds * 1000;
  const failures: Record<string, number> = {};
  let requests = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: options.connections }, async (_, watcher) => {
      for (let page = watcher; Date.now() < deadline; page++) {
        const status = await get(agent, new URL(PAGES[page % PAGES.length]!, baseUrl), token);
        requests++;
        if (status !== '200') failures[status] = (failures[status] ?? 0) + 1;
      }
    }),
  );
  agent.destroy();
  return { ...options, requests, failures, requestsPerSecond: requests / ((Date.now() - started) / 1000) };
}
