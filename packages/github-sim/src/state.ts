/**
 * What the simulated GitHub knows: one App, its installations and the repositories they
 * cover, the tokens it handed out, and the runners registered on each repository. Plain data
 * and the rules GitHub applies to it (which tokens are valid, which names are taken); the
 * routes translate HTTP to these calls, and tests drive the state directly to set a scene
 * ("the App was uninstalled", "the tokens expired").
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';

export interface SimSettings {
  /** GitHub's installation tokens live an hour. */
  installationTokenTtlSeconds: number;
  /** GitHub's registration tokens live an hour. */
  registrationTokenTtlSeconds: number;
}

export const DEFAULT_SIM_SETTINGS: SimSettings = {
  installationTokenTtlSeconds: 3600,
  registrationTokenTtlSeconds: 3600,
};

export interface SimAppSettings {
  id: number;
  /** The App's public key (PEM): App JWTs are verified against it. */
  publicKeyPem: string;
  slug?: string;
  clientId?: string;
}

export interface SimApp {
  id: number;
  slug: string;
  clientId: string;
  publicKey: KeyObject;
}

export interface SimAccount {
  login: string;
  id: number;
  type: 'User' | 'Organization';
}

export interface SimRepository {
  id: number;
  owner: string;
  name: string;
  fullName: string;
  private: boolean;
}

export type Permissions = Record<string, 'read' | 'write'>;

export interface SimInstallation {
  id: number;
  account: SimAccount;
  /** Lower-case full names; `'all'` when the installation covers every repository of the account. */
  repositories: Set<string> | 'all';
  permissions: Permissions;
  events: string[];
  createdAt: string;
  suspendedAt: string | null;
}

export interface InstallationToken {
  token: string;
  installationId: number;
  expiresAt: Date;
  permissions: Permissions;
}

export interface RegistrationToken {
  token: string;
  repository: string;
  expiresAt: Date;
}

export interface SimRunnerLabel {
  id: number;
  name: string;
  type: 'read-only' | 'custom';
}

export interface SimRunner {
  id: number;
  name: string;
  /** Lower-case full name of the repository it is registered on. */
  repository: string;
  os: string;
  status: 'online' | 'offline';
  busy: boolean;
  ephemeral: boolean;
  runnerGroupId: number;
  workFolder: string;
  labels: SimRunnerLabel[];
  createdAt: string;
  /** The secret inside its JIT configuration, when it was created from one. */
  jitSecret?: string;
}

/** Runner permissions GitHub requires: repository Administration, write. */
export const DEFAULT_PERMISSIONS: Permissions = { administration: 'write', actions: 'read', metadata: 'read' };

/** GitHub's labels that runners carry by themselves; the rest are custom. */
const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomString(length: number, alphabet = TOKEN_ALPHABET + 'abcdefghijklmnopqrstuvwxyz'): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** GitHub writes `expires_at` of installation tokens without milliseconds. */
export function githubTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class GitHubSimState {
  readonly app: SimApp;
  readonly settings: SimSettings;
  /** A repository's runners can join only its default group (id 1); organizations add more. */
  readonly runnerGroupIds = new Set<number>([1]);
  private readonly repositories = new Map<string, SimRepository>();
  private readonly installations = new Map<number, SimInstallation>();
  private readonly installationTokens = new Map<string, InstallationToken>();
  private readonly registrationTokens = new Map<string, RegistrationToken>();
  private readonly issuedTokens: string[] = [];
  private readonly runnersById = new Map<number, SimRunner>();
  private nextId = 1000;

  constructor(app: SimAppSettings, settings: Partial<SimSettings> = {}) {
    this.app = {
      id: app.id,
      slug: app.slug ?? 'gha-slurm-sim',
      clientId: app.clientId ?? `Iv1.${randomString(16).toLowerCase()}`,
      publicKey: createPublicKey(app.publicKeyPem),
    };
    this.settings = { ...DEFAULT_SIM_SETTINGS, ...settings };
  }

  private id(): number {
    return this.nextId++;
  }

  // ── repositories and installations ──────────────────────────────────────────────────────

  /** The repository, created on first mention (`owner/name`). */
  repository(fullName: string): SimRepository {
    const key = fullName.toLowerCase();
    let repository = this.repositories.get(key);
    if (!repository) {
      const [owner, name] = fullName.split('/');
      if (!owner || !name) throw new Error(`not owner/name: ${fullName}`);
      repository = { id: this.id(), owner, name, fullName, private: true };
      this.repositories.set(key, repository);
    }
    return repository;
  }

  findRepository(owner: string, name: string): SimRepository | undefined {
    return this.repositories.get(`${owner}/${name}`.toLowerCase());
  }

  /** Installs the App on an account, for the given repositories (or all of them). */
  install(options: {
    account: string;
    repositories: string[] | 'all';
    id?: number;
    accountType?: SimAccount['type'];
    permissions?: Permissions;
  }): SimInstallation {
    const installation: SimInstallation = {
      id: options.id ?? this.id(),
      account: { login: options.account, id: this.id(), type: options.accountType ?? 'Organization' },
      repositories:
        options.repositories === 'all' ? 'all' : new Set(options.repositories.map((name) => this.repository(name).fullName.toLowerCase())),
      permissions: options.permissions ?? { ...DEFAULT_PERMISSIONS },
      events: ['workflow_job'],
      createdAt: githubTime(new Date()),
      suspendedAt: null,
    };
    if (this.installations.has(installation.id)) throw new Error(`installation ${installation.id} exists`);
    this.installations.set(installation.id, installation);
    return installation;
  }

  /** Uninstalls the App: the installation and every token minted for it stop working. */
  uninstall(installationId: number): void {
    this.installations.delete(installationId);
    for (const [token, entry] of this.installationTokens) if (entry.installationId === installationId) this.installationTokens.delete(token);
  }

  suspend(installationId: number): void {
    const installation = this.installations.get(installationId);
    if (installation) installation.suspendedAt = githubTime(new Date());
  }

  removeRepository(installationId: number, fullName: string): void {
    const installation = this.installations.get(installationId);
    if (!installation) return;
    if (installation.repositories === 'all') throw new Error('installation covers all repositories; install with a list to remove one');
    installation.repositories.delete(fullName.toLowerCase());
  }

  installation(installationId: number): SimInstallation | undefined {
    return this.installations.get(installationId);
  }

  /** The App's installations, oldest first. */
  installationList(): SimInstallation[] {
    return [...this.installations.values()];
  }

  /** The installation of the App that covers the repository, as GitHub finds it. */
  installationFor(repository: SimRepository): SimInstallation | undefined {
    for (const installation of this.installations.values()) {
      if (installation.account.login.toLowerCase() !== repository.owner.toLowerCase()) continue;
      if (installation.repositories === 'all' || installation.repositories.has(repository.fullName.toLowerCase())) return installation;
    }
    return undefined;
  }

  covers(installation: SimInstallation, repository: SimRepository): boolean {
    return this.installationFor(repository)?.id === installation.id;
  }

  // ── tokens ──────────────────────────────────────────────────────────────────────────────

  createInstallationToken(installationId: number): InstallationToken {
    const installation = this.installations.get(installationId);
    if (!installation) throw new Error(`no installation ${installationId}`);
    const entry: InstallationToken = {
      token: `ghs_${randomString(36)}`,
      installationId,
      expiresAt: new Date(Date.now() + this.settings.installationTokenTtlSeconds * 1000),
      permissions: { ...installation.permissions },
    };
    this.installationTokens.set(entry.token, entry);
    this.issuedTokens.push(entry.token);
    return entry;
  }

  /** The token's record while it is valid: known, not expired, its installation still there. */
  validInstallationToken(token: string): InstallationToken | undefined {
    const entry = this.installationTokens.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt.getTime() <= Date.now() || !this.installations.has(entry.installationId)) {
      this.installationTokens.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Every installation token minted so far (tests look for them where they must not be). */
  issuedInstallationTokens(): string[] {
    return [...this.issuedTokens];
  }

  /** Makes every installation token minted so far invalid, as an hour passing would. */
  expireInstallationTokens(): void {
    for (const entry of this.installationTokens.values()) entry.expiresAt = new Date(0);
  }

  createRegistrationToken(repository: SimRepository): RegistrationToken {
    const entry: RegistrationToken = {
      token: randomString(29, TOKEN_ALPHABET),
      repository: repository.fullName.toLowerCase(),
      expiresAt: new Date(Date.now() + this.settings.registrationTokenTtlSeconds * 1000),
    };
    this.registrationTokens.set(entry.token, entry);
    return entry;
  }

  validRegistrationToken(token: string): RegistrationToken | undefined {
    const entry = this.registrationTokens.get(token);
    if (!entry || entry.expiresAt.getTime() <= Date.now()) return undefined;
    return entry;
  }

  // ── runners ─────────────────────────────────────────────────────────────────────────────

  runners(repository?: string): SimRunner[] {
    const wanted = repository?.toLowerCase();
    return [...this.runnersById.values()].filter((runner) => wanted === undefined || runner.repository === wanted);
  }

  runnerNamed(repository: SimRepository, name: string): SimRunner | undefined {
    const key = repository.fullName.toLowerCase();
    return [...this.runnersById.values()].find((runner) => runner.repository === key && runner.name.toLowerCase() === name.toLowerCase());
  }

  runner(id: number): SimRunner | undefined {
    return this.runnersById.get(id);
  }

  /** A fresh id from the one sequence runners, jobs and runs share (so none collide). */
  newId(): number {
    return this.id();
  }

  /** Registers a runner as `config.sh` does (ephemeral or not, online or not). */
  addRunner(
    repository: SimRepository,
    request: { name: string; labels: string[]; ephemeral: boolean; status: SimRunner['status']; os?: string; busy?: boolean },
  ): SimRunner {
    const runner: SimRunner = {
      id: this.id(),
      name: request.name,
      repository: repository.fullName.toLowerCase(),
      os: request.os ?? 'Linux',
      status: request.status,
      busy: request.busy ?? false,
      ephemeral: request.ephemeral,
      runnerGroupId: 1,
      workFolder: '_work',
      labels: request.labels.map((name) => ({ id: this.id(), name, type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom' })),
      createdAt: githubTime(new Date()),
    };
    this.runnersById.set(runner.id, runner);
    return runner;
  }

  removeRunner(id: number): boolean {
    return this.runnersById.delete(id);
  }

  /** Registers an ephemeral runner from a just-in-time configuration request. */
  createJitRunner(
    repository: SimRepository,
    request: { name: string; labels: string[]; runnerGroupId: number; workFolder: string },
  ): SimRunner {
    const runner: SimRunner = {
      id: this.id(),
      name: request.name,
      repository: repository.fullName.toLowerCase(),
      os: 'unknown',
      status: 'offline',
      busy: false,
      ephemeral: true,
      runnerGroupId: request.runnerGroupId,
      workFolder: request.workFolder,
      labels: request.labels.map((name) => ({
        id: this.id(),
        name,
        type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom',
      })),
      createdAt: githubTime(new Date()),
      jitSecret: randomBytes(32).toString('base64url'),
    };
    this.runnersById.set(runner.id, runner);
    return runner;
  }
}
