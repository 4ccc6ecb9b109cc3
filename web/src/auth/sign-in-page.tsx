/**
 * The sign-in page: single sign-on when repo-api has an OIDC issuer, and a token form when it
 * accepts static API tokens (the demo signs in this way). Both when both are on.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { focusNextPageHeading } from '../layout/page.tsx';
import { describeSignInError, useSession } from './session.tsx';

export function TokenSignInForm({ onSignedIn }: { onSignedIn?: () => void }) {
  const { signInWithToken } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const errorRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!token.trim()) {
      setError('Enter your API token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signInWithToken(token);
      onSignedIn?.();
    } catch (caught) {
      // The token stays in the field, so a typo can be fixed rather than pasted again.
      setError(describeSignInError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Sign in with an API token" noValidate>
      <div className="field">
        <label htmlFor={inputId}>API token</label>
        <input
          id={inputId}
          name="token"
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          aria-describedby={error ? `${hintId} ${errorId}` : hintId}
          aria-invalid={error ? true : undefined}
          disabled={busy}
        />
        <p id={hintId} className="hint">
          A token from repo-api's tokens file. It is kept only in this browser tab.
        </p>
      </div>
      {error && (
        <p id={errorId} className="error" role="alert" tabIndex={-1} ref={errorRef}>
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

export function SignInPage({ returnTo }: { returnTo: string }) {
  const { config, state, signInWithOidc } = useSession();
  const [ssoError, setSsoError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    headingRef.current?.focus();
    focusNextPageHeading();
  }, []);
  const notice = state.status === 'signed-out' ? state.notice : undefined;

  return (
    <main id="main" className="sign-in">
      <h1 tabIndex={-1} ref={headingRef}>
        Sign in to gha-slurm
      </h1>
      <p className="lead">Connect your GitHub repositories to your cluster account and watch their CI jobs run on Slurm.</p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {config.oidc && (
        <section aria-labelledby="sso-heading" className="card">
          <h2 id="sso-heading">Single sign-on</h2>
          <button
            type="button"
            className="primary"
            onClick={() => {
              setSsoError(null);
              signInWithOidc(returnTo).catch((error: Error) => setSsoError(`Single sign-on could not start: ${error.message}`));
            }}
          >
            Sign in with your organisation account
          </button>
          {ssoError && (
            <p className="error" role="alert">
              {ssoError}
            </p>
          )}
        </section>
      )}
      {config.staticTokens && (
        <section aria-labelledby="token-heading" className="card">
          <h2 id="token-heading">{config.oidc ? 'Or use an API token' : 'With an API token'}</h2>
          <TokenSignInForm />
        </section>
      )}
      {!config.oidc && !config.staticTokens && (
        <p className="error" role="alert">
          repo-api offers no way to sign in: ask the operator to set OIDC_ISSUER or API_TOKENS.
        </p>
      )}
    </main>
  );
}
