/**
 * Caching and retries for every request: answers stay fresh for a few seconds (live updates
 * mark them stale sooner), requests that failed for a passing reason (no connection, 5xx,
 * 429) are tried again with a growing pause, refusals (4xx) never: they will not change.
 */
import { QueryClient } from '@tanstack/react-query';
import { isTransient } from './client.ts';

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        retry: (failureCount, error) => isTransient(error) && failureCount < 3,
        retryDelay: (attempt) => Math.min(8_000, 500 * 2 ** attempt),
        refetchOnWindowFocus: true,
      },
      mutations: {
        // A change is sent once; the person decides whether to send it again.
        retry: false,
      },
    },
  });
}
