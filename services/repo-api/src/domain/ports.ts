/**
 * What repo-api needs from the outside world, as small interfaces the adapters implement and
 * the tests replace.
 */
import type { ChangeNotice } from '@gha-slurm/core/domain/change-notice';
import type { Installation } from '@gha-slurm/core/api/types';
import type { LaunchRetryJob } from '@gha-slurm/core/launch-retry';
import type { Principal } from './access.ts';

export type AuthResult =
  | { kind: 'authenticated'; principal: Principal; /** epoch ms the credential expires, when known */ expiresAtMs?: number }
  /** Not a credential we accept; `reason` is safe to show (it never repeats the token). */
  | { kind: 'rejected'; reason: string }
  /** The credential could not be checked now (the OIDC provider does not answer). */
  | { kind: 'unavailable'; reason: string };

export interface Authenticator {
  authenticate(token: string): Promise<AuthResult>;
}

/** Whether the GitHub App is installed on a repository; null when GitHub could not be asked. */
export interface InstallationChecker {
  installed(fullName: string): Promise<boolean | null>;
}

export interface InstallationDirectory {
  list(): Promise<Installation[]>;
  /** Where a person installs the App; null when unknown. */
  installUrl(): Promise<string | null>;
}

export interface Session {
  principal: Principal;
  expiresAtMs: number;
}

export interface SessionStore {
  create(principal: Principal, expiresAtMs: number): Promise<string>;
  get(id: string): Promise<Session | null>;
  delete(id: string): Promise<void>;
}

export interface LaunchRetryQueue {
  /** Puts the request on the queue; resolves to the BullMQ job id. */
  enqueue(job: LaunchRetryJob, jobId: string): Promise<string>;
}

export interface ChangeFeed {
  /** Calls `listener` for every change until the returned function is called. */
  subscribe(listener: (notice: ChangeNotice) => void): () => void;
}
