/**
 * Who is signed in, and the API client that acts as them. Two ways in, as `/api/config` says:
 * OIDC (authorization code with PKCE, through oidc-client-ts; its state is handed in as
 * `oidc`), and static API tokens typed into a form (kept in sessionStorage, so a reload keeps
 * the person signed in and closing the tab forgets the token).
 *
 * After signing in, the app asks repo-api for a session cookie (`POST /api/session`): the
 * browser sends it, unlike a bearer header, when the page opens the live event stream
 * (`EventSource`) or the queue dashboard. The cookie never outlives the token it came from,
 * so it is renewed whenever the token changes.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { Me, PublicConfig } from '@gha-slurm/core/api/types';
import { ApiError, createApiClient, NetworkError, type ApiClient } from '../api/client.ts';
import { endpoints, type Endpoints } from '../api/endpoints.ts';

export const TOKEN_STORAGE_KEY = 'gha-slurm.api-token';

/** What the OIDC library says, reduced to what the app needs (see `oidc.tsx`). */
export interface OidcHandle {
  isLoading: boolean;
  /**
   * The tokens that may be sent as the bearer token, best first: repo-api accepts the one whose
   * audience is `OIDC_AUDIENCE`, which is the access token with some providers and the ID token
   * (audience: the client id) with others. The first one repo-api accepts is used.
   */
  tokens: string[];
  error: string | null;
  signIn(returnTo: string): Promise<void>;
  signOut(): Promise<void>;
}

export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out'; notice?: string }
  | { status: 'unreachable'; retry: () => void }
  | { status: 'signed-in'; me: Me; method: 'token' | 'oidc' };

export type CookieState = 'none' | 'pending' | 'ready' | 'failed';

export interface Session {
  state: SessionState;
  config: PublicConfig;
  api: ApiClient;
  endpoints: Endpoints;
  /** Whether the session cookie for `EventSource` and the queue dashboard is set. */
  cookie: CookieState;
  renewCookie(): Promise<boolean>;
  /** Checks the token with repo-api and keeps it; throws `ApiError` or `NetworkError`. */
  signInWithToken(token: string): Promise<Me>;
  signInWithOidc(returnTo?: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession must be used inside <SessionProvider>');
  return session;
}

/** The signed-in person; only for components rendered behind the sign-in gate. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useMe used while nobody is signed in');
  return state.me;
}

function readStoredToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null) {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_STORAGE_KEY);
    else sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // Storage disabled: the person stays signed in until the page is reloaded.
  }
}

export interface SessionProviderProps {
  config: PublicConfig;
  oidc?: OidcHandle | null;
  children: ReactNode;
  fetch?: typeof fetch;
}

export function SessionProvider({ config, oidc = null, children, fetch: fetchImpl }: SessionProviderProps) {
  const [staticToken, setStaticToken] = useState<string | null>(() => (config.staticTokens ? readStoredToken() : null));
  const [state, setState] = useState<SessionState>({ status: 'checking' });
  const [cookie, setCookie] = useState<CookieState>('none');
  const [attempt, setAttempt] = useState(0);
  const queryClient = useQueryClient();
  // What one person saw must not show for the next one to sign in on this tab.
  const forgetAnswers = useCallback(
    () => queryClient.removeQueries({ predicate: (cached) => cached.queryKey[0] !== 'config' }),
    [queryClient],
  );

  const oidcCandidates = oidc?.tokens ?? [];
  const oidcCandidatesKey = oidcCandidates.join(' ');
  // The OIDC token repo-api accepted (see `OidcHandle.tokens`).
  const [oidcToken, setOidcToken] = useState<string | null>(null);
  const token = staticToken ?? oidcToken;
  const tokenRef = useRef(token);
  tokenRef.current = token;

  const expire = useCallback(
    (notice: string) => {
      storeToken(null);
      setStaticToken(null);
      setOidcToken(null);
      tokenRef.current = null;
      setCookie('none');
      setState({ status: 'signed-out', notice });
      forgetAnswers();
    },
    [forgetAnswers],
  );

  const api = useMemo(
    () =>
      createApiClient({
        token: () => tokenRef.current,
        onUnauthorized: (error) => expire(`Your sign-in is no longer accepted (${error.message}). Sign in again; nothing you typed is lost.`),
        fetch: fetchImpl,
      }),
    [expire, fetchImpl],
  );
  const calls = useMemo(() => endpoints(api), [api]);

  const renewCookie = useCallback(async () => {
    if (!tokenRef.current) return false;
    setCookie('pending');
    try {
      await calls.createSession();
      setCookie('ready');
      return true;
    } catch {
      setCookie('failed');
      return false;
    }
  }, [calls]);

  // Whenever the tokens change (sign-in, OIDC renewal, reload), find out who they are.
  useEffect(() => {
    if (oidc?.isLoading && !staticToken) {
      setState({ status: 'checking' });
      return;
    }
    const candidates = staticToken ? [staticToken] : oidcCandidates;
    if (candidates.length === 0) {
      setState((current) => (current.status === 'signed-out' ? current : { status: 'signed-out', notice: oidc?.error ?? undefined }));
      return;
    }
    let cancelled = false;
    setState((current) => (current.status === 'signed-in' ? current : { status: 'checking' }));
    void (async () => {
      let refusal: ApiError | null = null;
      for (const candidate of candidates) {
        try {
          const me = await api.getWithToken<Me>('/api/me', candidate);
          if (cancelled) return;
          if (!staticToken) setOidcToken(candidate);
          tokenRef.current = candidate;
          setState({ status: 'signed-in', me, method: staticToken ? 'token' : 'oidc' });
          await renewCookie();
          return;
        } catch (error) {
          if (cancelled) return;
          if (error instanceof ApiError && error.status === 401) {
            refusal = error;
            continue;
          }
          setState({ status: 'unreachable', retry: () => setAttempt((n) => n + 1) });
          return;
        }
      }
      expire(`Your sign-in is no longer accepted (${refusal?.message ?? 'refused'}). Sign in again.`);
    })();
    return () => {
      cancelled = true;
    };
    // The candidates are compared by value; `attempt` re-runs the check on request.
  }, [staticToken, oidcCandidatesKey, oidc?.isLoading, attempt]);

  const signInWithToken = useCallback(
    async (candidate: string) => {
      const trimmed = candidate.trim();
      const me = await api.getWithToken<Me>('/api/me', trimmed);
      storeToken(trimmed);
      tokenRef.current = trimmed;
      setStaticToken(trimmed);
      setState({ status: 'signed-in', me, method: 'token' });
      return me;
    },
    [api],
  );

  const signInWithOidc = useCallback(
    async (returnTo = '/') => {
      if (!oidc) throw new Error('single sign-on is not configured');
      await oidc.signIn(returnTo);
    },
    [oidc],
  );

  const signOut = useCallback(async () => {
    try {
      await calls.endSession();
    } catch {
      // The cookie lapses by itself; signing out locally matters more.
    }
    const wasOidc = !staticToken && oidcToken !== null;
    storeToken(null);
    setStaticToken(null);
    setOidcToken(null);
    tokenRef.current = null;
    setCookie('none');
    setState({ status: 'signed-out', notice: 'You are signed out.' });
    forgetAnswers();
    if (wasOidc) await oidc?.signOut();
  }, [calls, oidc, oidcToken, staticToken, forgetAnswers]);

  const session = useMemo<Session>(
    () => ({ state, config, api, endpoints: calls, cookie, renewCookie, signInWithToken, signInWithOidc, signOut }),
    [state, config, api, calls, cookie, renewCookie, signInWithToken, signInWithOidc, signOut],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** Words for a failed sign-in, saying what to do. */
export function describeSignInError(error: unknown): string {
  if (error instanceof NetworkError) {
    return 'repo-api could not be reached. Check your connection (or whether repo-api is running) and try again.';
  }
  if (error instanceof ApiError) {
    if (error.status === 401) return `That token was not accepted: ${error.message.replace(/^sign in again: /, '')}. Check it and try again.`;
    if (error.status === 429) return 'Too many attempts from this browser. Wait a minute, then try again.';
    if (error.status === 503) return `Sign-in cannot be checked right now: ${error.message}. Try again shortly.`;
    return `Sign-in failed: ${error.message}`;
  }
  return 'Sign-in failed for an unexpected reason; try again.';
}
