/**
 * repo-api's endpoints, typed with the shared request and answer types of
 * `@gha-slurm/core/api/types` (the same ones repo-api's schemas describe), and the query keys
 * the live updates invalidate.
 */
import type {
  AuditList,
  GitHubUnlinked,
  AuditQuery,
  JobDetail,
  JobList,
  JobListQuery,
  LaunchDetail,
  LaunchList,
  LaunchListQuery,
  LaunchRetryAccepted,
  Me,
  Overview,
  PublicConfig,
  QueueList,
  RepositoryList,
  ReplaceRepositoriesRequest,
  SessionCreated,
  UsageList,
  UsageQuery,
  UserList,
} from '@gha-slurm/core/api/types';
import { query, type ApiClient } from './client.ts';

export const queryKeys = {
  config: ['config'] as const,
  me: ['me'] as const,
  repositories: (username: string) => ['repositories', username] as const,
  jobs: (filter: JobListQuery) => ['jobs', filter] as const,
  allJobs: ['jobs'] as const,
  job: (id: number) => ['job', id] as const,
  allJobDetails: ['job'] as const,
  launches: (filter: LaunchListQuery) => ['launches', filter] as const,
  allLaunches: ['launches'] as const,
  launch: (id: string) => ['launch', id] as const,
  allLaunchDetails: ['launch'] as const,
  queues: ['queues'] as const,
  audit: (filter: AuditQuery) => ['audit', filter] as const,
  overview: ['overview'] as const,
  usage: (filter: UsageQuery) => ['usage', filter] as const,
  allAudit: ['audit'] as const,
  users: (search: string) => ['users', search] as const,
};

export async function fetchConfig(): Promise<PublicConfig> {
  // Public, and needed before anyone signs in: no client, no token.
  let response: Response;
  try {
    response = await fetch('/api/config', { headers: { accept: 'application/json' } });
  } catch {
    throw new Error('repo-api could not be reached');
  }
  if (!response.ok) throw new Error(`repo-api answered ${response.status} for /api/config`);
  return (await response.json()) as PublicConfig;
}

export function endpoints(api: ApiClient) {
  return {
    me: () => api.get<Me>('/api/me'),
    createSession: () => api.post<SessionCreated>('/api/session'),
    endSession: () => api.delete('/api/session'),
    unlinkGitHub: () => api.delete<GitHubUnlinked>('/api/me/github'),

    repositories: (username: string) => api.get<RepositoryList>(`/repositories/${encodeURIComponent(username)}`),
    replaceRepositories: (username: string, body: ReplaceRepositoriesRequest) =>
      api.post<RepositoryList>(`/repositories/${encodeURIComponent(username)}`, body),

    jobs: (filter: JobListQuery) => api.get<JobList>(`/api/jobs${query({ ...filter })}`),
    job: (id: number) => api.get<JobDetail>(`/api/jobs/${id}`),
    launches: (filter: LaunchListQuery) => api.get<LaunchList>(`/api/launches${query({ ...filter })}`),
    launch: (id: string) => api.get<LaunchDetail>(`/api/launches/${encodeURIComponent(id)}`),
    retryLaunch: (id: string) => api.post<LaunchRetryAccepted>(`/api/launches/${encodeURIComponent(id)}/retry`),
    queues: () => api.get<QueueList>('/api/queues'),
    audit: (filter: AuditQuery) => api.get<AuditList>(`/api/audit${query({ ...filter })}`),
    overview: () => api.get<Overview>('/api/overview'),
    usage: (filter: UsageQuery) => api.get<UsageList>(`/api/usage${query({ ...filter })}`),
    users: (search: string) => api.get<UserList>(`/api/users${query({ search: search || undefined })}`),
  };
}

export type Endpoints = ReturnType<typeof endpoints>;
