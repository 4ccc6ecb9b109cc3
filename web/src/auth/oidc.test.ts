import { describe, expect, it } from 'vitest';
import { bearerCandidates } from './oidc.tsx';

const jwtWith = (claims: object) => `e30.${btoa(JSON.stringify(claims)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.sig`;

describe('which OIDC token goes to repo-api first', () => {
  it('prefers an access token meant for this client', () => {
    const access = jwtWith({ aud: ['gha-slurm-web', 'account'] });
    expect(bearerCandidates({ access_token: access, id_token: 'id' }, 'gha-slurm-web')).toEqual([access, 'id']);
  });

  it('prefers the ID token when the access token is for another audience, or opaque', () => {
    const access = jwtWith({ aud: 'account' });
    expect(bearerCandidates({ access_token: access, id_token: 'id' }, 'gha-slurm-web')).toEqual(['id', access]);
    expect(bearerCandidates({ access_token: 'opaque-token', id_token: 'id' }, 'gha-slurm-web')).toEqual(['id', 'opaque-token']);
  });

  it('offers what there is', () => {
    expect(bearerCandidates({ access_token: 'opaque-token', id_token: undefined }, 'gha-slurm-web')).toEqual(['opaque-token']);
  });
});
