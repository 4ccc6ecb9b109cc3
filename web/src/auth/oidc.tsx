/**
 * Single sign-on: the authorization code flow with PKCE, done by oidc-client-ts through
 * react-oidc-context, configured from `/api/config` (issuer, client id, scopes). The provider
 * redirects back to `/auth/callback`; the library trades the code for tokens there, and the
 * app sends the access token to repo-api as `Authorization: Bearer`. Tokens are kept in
 * sessionStorage (the library's default) and renewed before they expire when the provider
 * issued a refresh token.
 */
import { useMemo, type ReactNode } from 'react';
import { AuthProvider, useAuth } from 'react-oidc-context';
import { WebStorageStateStore, type User } from 'oidc-client-ts';
import type { PublicConfig } from '@gha-slurm/core/api/types';
import type { OidcHandle } from './session.tsx';

export const OIDC_CALLBACK_PATH = '/auth/callback';
const RETURN_TO_KEY = 'gha-slurm.oidc-return-to';

/** Where to go once the callback is done: the page the person was on when signing in. */
export function takeOidcReturnTo(): string {
  try {
    const value = sessionStorage.getItem(RETURN_TO_KEY);
    sessionStorage.removeItem(RETURN_TO_KEY);
    return value && value.startsWith('/') && !value.startsWith('//') ? value : '/';
  } catch {
    return '/';
  }
}

export function OidcProvider({ oidc, children }: { oidc: NonNullable<PublicConfig['oidc']>; children: ReactNode }) {
  const settings = useMemo(() => {
    const origin = window.location.origin;
    return {
      authority: oidc.issuer,
      client_id: oidc.clientId,
      scope: oidc.scopes,
      redirect_uri: `${origin}${OIDC_CALLBACK_PATH}`,
      post_logout_redirect_uri: `${origin}/`,
      response_type: 'code',
      automaticSilentRenew: true,
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
      // Leave the code and state out of the address bar (and the history) once used.
      onSigninCallback: (_user: User | void) => {
        window.history.replaceState(window.history.state, '', window.location.pathname);
      },
    };
  }, [oidc.issuer, oidc.clientId, oidc.scopes]);
  return <AuthProvider {...settings}>{children}</AuthProvider>;
}

/** Hands react-oidc-context's state to the session as an `OidcHandle`. */
/** The claims of a JWT, unverified (only to choose which token to send); null if not a JWT. */
function claimsOf(token: string): { aud?: string | string[] } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { aud?: string | string[] };
  } catch {
    return null;
  }
}

/**
 * Which of the user's tokens to offer repo-api, best first: an access token meant for this
 * client (its audience names the client id), then the ID token (whose audience always is the
 * client id), then any other access token. repo-api checks the audience; the session keeps
 * the first one it accepts.
 */
export function bearerCandidates(user: Pick<User, 'access_token' | 'id_token'>, clientId: string): string[] {
  const access = user.access_token || null;
  const audience = access ? claimsOf(access)?.aud : undefined;
  const accessForUs = audience !== undefined && (Array.isArray(audience) ? audience.includes(clientId) : audience === clientId);
  const ordered = accessForUs ? [access, user.id_token] : [user.id_token, access];
  return [...new Set(ordered.filter((token): token is string => Boolean(token)))];
}

export function OidcBridge({ clientId, children }: { clientId: string; children: (handle: OidcHandle) => ReactNode }) {
  const auth = useAuth();
  const handle = useMemo<OidcHandle>(
    () => ({
      isLoading: auth.isLoading,
      tokens: auth.user && !auth.user.expired ? bearerCandidates(auth.user, clientId) : [],
      error: auth.error ? `Single sign-on failed: ${auth.error.message}` : null,
      async signIn(returnTo: string) {
        try {
          sessionStorage.setItem(RETURN_TO_KEY, returnTo);
        } catch {
          // Without storage the person lands on the home page instead.
        }
        await auth.signinRedirect();
      },
      async signOut() {
        await auth.removeUser();
      },
    }),
    // `auth` changes identity on every state change; these are what the handle reads.
    [auth.isLoading, auth.user, auth.error, auth.signinRedirect, auth.removeUser, clientId],
  );
  return <>{children(handle)}</>;
}
