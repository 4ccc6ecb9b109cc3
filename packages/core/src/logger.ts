/**
 * One logger factory for HTTP services and workers. Secrets are redacted by key name, wherever
 * they sit in a logged object (request headers, and the names our code uses for tokens and
 * keys). Code should still not log secrets on purpose: redaction is the net.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

const SECRET_FIELDS = [
  'authorization',
  'auth-token',
  'x-hub-signature-256',
  'cookie',
  'set-cookie',
  'token',
  'launchToken',
  'launcherToken',
  'registrationToken',
  'installationToken',
  'accessToken',
  'refreshToken',
  'jitconfig',
  'encoded_jit_config',
  'privateKey',
  'secret',
  'webhookSecret',
  'password',
];

const SECRET_KEYS = new Set(SECRET_FIELDS.map((field) => field.toLowerCase()));
const CENSOR = '[redacted]';
const MAX_DEPTH = 6;

/**
 * The logged object with every value under a secret-named key replaced, at any depth. Copies
 * only the branches it changes, so the caller's objects are never touched, and costs a Set
 * lookup per key: cheaper than path-based redaction with wildcards, which dominated the cost
 * of a log line at webhook rates.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item, index) => {
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= [...value])[index] = redacted;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    const redacted = SECRET_KEYS.has(key.toLowerCase()) ? CENSOR : redactSecrets(item, depth + 1);
    if (redacted !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = redacted;
  }
  return copy ?? value;
}

export interface LoggerSettings {
  name: string;
  level?: LoggerOptions['level'];
  /** Where log lines go; tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ name, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
  };
  return destination ? pino(options, destination) : pino(options);
}
