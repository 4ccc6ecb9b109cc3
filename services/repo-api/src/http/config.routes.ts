/** `GET /api/config` (public): how the web app signs people in, before anyone has. */
import type { FastifyInstance } from 'fastify';
import type { PublicConfig } from '@gha-slurm/core/api/types';
import { maskUrlCredentials } from '@gha-slurm/core/url-credentials';
import type { InstallationDirectory } from '../domain/ports.ts';

export interface ConfigRouteOptions {
  oidc: PublicConfig['oidc'];
  staticTokens: boolean;
  githubWebUrl: string;
  installations: InstallationDirectory | null;
}

export async function configRoutes(app: FastifyInstance, options: ConfigRouteOptions) {
  app.get('/api/config', {
    schema: {
      tags: ['session'],
      summary: 'How to sign in (public)',
      security: [],
      response: { 200: { $ref: 'PublicConfig#' } },
    },
  }, async (): Promise<PublicConfig> => ({
    oidc: options.oidc,
    staticTokens: options.staticTokens,
    github: {
      // Public, so a GITHUB_URL given with credentials in it shows none of them.
      url: maskUrlCredentials(options.githubWebUrl),
      appInstallUrl: options.installations ? await options.installations.installUrl() : null,
    },
  }));
}
