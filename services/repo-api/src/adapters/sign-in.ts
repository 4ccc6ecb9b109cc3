/**
 * The sign-in methods configured, tried in order: a static API token (when `API_TOKENS` is
 * set) and then an OIDC token (when `OIDC_ISSUER` is set). Every static entry is compared
 * whatever the token looks like, so timing says nothing about which kind it was.
 */
import type { Authenticator, AuthResult } from '../domain/ports.ts';
import type { OidcAuthenticator } from './oidc-authenticator.ts';
import type { StaticTokenAuthenticator } from './static-tokens.ts';

export class SignIn implements Authenticator {
  constructor(
    private readonly methods: { staticTokens?: StaticTokenAuthenticator | undefined; oidc?: OidcAuthenticator | undefined },
  ) {}

  get staticTokensEnabled(): boolean {
    return this.methods.staticTokens !== undefined;
  }

  async authenticate(token: string): Promise<AuthResult> {
    const fromStatic = this.methods.staticTokens ? await this.methods.staticTokens.authenticate(token) : null;
    if (fromStatic?.kind === 'authenticated') return fromStatic;
    if (this.methods.oidc) return this.methods.oidc.authenticate(token);
    return fromStatic ?? { kind: 'rejected', reason: 'no sign-in method accepts this token' };
  }
}
