import type { GitHubSimState } from '../state.ts';

/** What every route module is given. */
export interface SimContext {
  state: GitHubSimState;
  /** The API's own base URL (known once the server listens). */
  baseUrl(): string;
  /** GitHub's web address, for `html_url`s and repository URLs. */
  webUrl: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** GitHub's route template (`POST /repos/{owner}/{repo}/...`): calls are counted and faults matched by it. */
    githubRoute?: string;
  }
}
