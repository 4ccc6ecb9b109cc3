/**
 * One logger factory for HTTP services and workers. Secrets are redacted by path, wherever
 * they sit in a logged object; the paths cover request headers and the names our code uses
 * for tokens and keys. Code should still not log secrets on purpose: redaction is the net.
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

function redactPath(prefix: string, field: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(field)) return prefix ? `${prefix}.${field}` : field;
  return `${prefix}["${field}"]`;
}

/** Redaction paths: each secret field at the top level, one and two levels down, and in headers. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((field) =>
  ['', '*', '*.*', 'req.headers', 'headers'].map((prefix) => redactPath(prefix, field)),
);

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
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
