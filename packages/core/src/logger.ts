/**
 * One logger factory for HTTP services and workers. Secrets are redacted by key name, wherever
 * they sit in a logged object (request headers, and the names our code uses for tokens and
 * keys). Code should still not log secrets on purpose: redaction is the net.
 *
 * Lines are JSON, one per line, for machines (log shippers, `jq`). `LOG_FORMAT=pretty` makes
 * them one short line of text each for people at a terminal: time, level, service, message,
 * then the other fields as key=value. The formatter is the few lines below rather than
 * pino-pretty: it runs in the process (no transport thread to lose lines at exit) and is
 * written from the same redacted object as the JSON line.
 */
import { Writable } from 'node:stream';
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

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `LOG_FORMAT` as the services read it: `json` (the default) or `pretty`. Read here rather than
 * in each service's configuration so that every process, simulators and scripts included,
 * follows the one setting; anything else stops the process with a message naming it.
 */
export function logFormatOf(value: string | undefined): LogFormat {
  if (value === undefined || value === '') return 'json';
  const wanted = value.trim().toLowerCase();
  if ((LOG_FORMATS as readonly string[]).includes(wanted)) return wanted as LogFormat;
  throw new Error(`LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(value)})`);
}

export interface LoggerSettings {
  name: string;
  level?: LoggerOptions['level'];
  /** Where log lines go; tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  /** Default: the `LOG_FORMAT` environment variable, else `json`. */
  format?: LogFormat;
}

export function createLogger({ name, level = 'info', destination, format = logFormatOf(process.env.LOG_FORMAT) }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
  };
  if (format === 'pretty') return pino(options, prettyStream(destination ?? process.stdout));
  return destination ? pino(options, destination) : pino(options);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, shown in the line's head rather than as key=value. */
const HEAD_FIELDS = new Set(['time', 'level', 'name', 'msg', 'pid', 'hostname', 'v']);

function prettyValue(value: unknown): string {
  if (typeof value === 'string') return /[\s="]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object') {
    const error = value as { message?: unknown; type?: unknown; stack?: unknown };
    if (typeof error.message === 'string' && typeof error.stack === 'string') return JSON.stringify(`${error.type ?? 'Error'}: ${error.message}`);
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * One of pino's JSON lines as text for people: `10:04:05.123 INFO  repo-api: listening
 * url=http://…`. A line that is not JSON is returned as it is.
 */
export function prettyLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (record === null || typeof record !== 'object') return line;
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[Number(record.level)] ?? String(record.level ?? '')).padEnd(5);
  const name = record.name ? `${String(record.name)}: ` : '';
  const fields = Object.entries(record)
    .filter(([key, value]) => !HEAD_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${prettyValue(value)}`);
  return [time, level, `${name}${String(record.msg ?? '')}`, ...fields].filter(Boolean).join(' ');
}

/** A stream that takes pino's JSON lines and writes them to `target` as `prettyLine`s. */
export function prettyStream(target: pino.DestinationStream | NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk, _encoding, done) {
      pending += String(chunk);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      const text = lines.map((line) => `${prettyLine(line)}\n`).join('');
      if (text) target.write(text);
      done();
    },
    final(done) {
      if (pending) target.write(`${prettyLine(pending)}\n`);
      done();
    },
  });
}
