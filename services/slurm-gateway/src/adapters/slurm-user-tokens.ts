/**
 * User tokens for slurmrestd (`X-SLURM-USER-NAME` / `X-SLURM-USER-TOKEN`). With the cluster's
 * JWT key the gateway signs them itself (HS256, claim `sun`, as `scontrol token` does); without
 * it, it asks `scontrol token`, which Slurm allows SlurmUser and root. Either way no sudo, and
 * each token is short-lived and reused until it nears its end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT } from 'jose';
import { SlurmSetupError } from '../domain/ports.ts';

const run = promisify(execFile);

export interface SlurmUserTokens {
  tokenFor(user: string): Promise<string>;
}

interface CachedToken {
  token: string;
  /** Renew after this (ms since epoch): well before the token's own expiry. */
  renewAt: number;
}

/** Reuses each user's token for the first half of its life; a bounded number of users. */
function cached(lifespanSeconds: number, mint: (user: string) => Promise<string>, now = Date.now): SlurmUserTokens {
  const tokens = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<string>>();
  return {
    async tokenFor(user) {
      const hit = tokens.get(user);
      if (hit && hit.renewAt > now()) return hit.token;
      const inFlight = pending.get(user);
      if (inFlight) return inFlight;
      const minting = mint(user).then((token) => {
        if (tokens.size >= 5000) tokens.clear();
        tokens.set(user, { token, renewAt: now() + (lifespanSeconds * 1000) / 2 });
        return token;
      });
      pending.set(user, minting);
      try {
        return await minting;
      } finally {
        pending.delete(user);
      }
    },
  };
}

export function jwtKeyTokens(key: Buffer, lifespanSeconds: number): SlurmUserTokens {
  return cached(lifespanSeconds, (user) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sun: user })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + lifespanSeconds)
      .sign(new Uint8Array(key));
  });
}

export function scontrolTokens(lifespanSeconds: number, env: NodeJS.ProcessEnv = process.env): SlurmUserTokens {
  return cached(lifespanSeconds, async (user) => {
    try {
      const { stdout } = await run('scontrol', ['token', `username=${user}`, `lifespan=${lifespanSeconds}`], { env, timeout: 10_000 });
      const match = /SLURM_JWT=(\S+)/.exec(stdout);
      if (!match) throw new Error('scontrol token printed no SLURM_JWT');
      return match[1]!;
    } catch (error) {
      // scontrol's own words (never the token: it printed none) tell the operator what is wrong.
      const detail = String((error as { stderr?: string }).stderr || (error as Error).message).trim().split('\n')[0];
      throw new SlurmSetupError(`scontrol token for ${user} failed (${detail}); run the gateway as SlurmUser, or give it SLURM_JWT_KEY_FILE`);
    }
  });
}
