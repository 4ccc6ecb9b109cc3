/**
 * Request validation errors in words a person can act on, naming the field or list entry:
 * `body has an unknown field "repos"`, `body.repositories[3] must be a string`. Fastify's own
 * messages say that something is wrong, not always where.
 */
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { HttpError } from '@gha-slurm/core/http/errors';

const FORMATS: Record<string, string> = { 'date-time': 'an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z' };

function where(dataVar: string, instancePath: string): string {
  const parts = instancePath.split('/').filter(Boolean).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (dataVar === 'params' || dataVar === 'querystring') {
    // Path and query parameters read best by their own names.
    return parts.length > 0 ? parts.join('.') : dataVar === 'params' ? 'the path' : 'the query string';
  }
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : `${path}.${part}`), dataVar);
}

function describe(error: FastifySchemaValidationError, dataVar: string): { code: string; message: string } {
  const at = where(dataVar, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { code: 'UNKNOWN_FIELD', message: `${at} has an unknown field "${String(params.additionalProperty)}"` };
    case 'required':
      return { code: 'MISSING_FIELD', message: `${at} is missing the field "${String(params.missingProperty)}"` };
    case 'type':
      return { code: 'INVALID_REQUEST', message: `${at} must be ${/^[aeiou]/.test(String(params.type)) ? 'an' : 'a'} ${String(params.type)}` };
    case 'maxItems':
      return { code: 'TOO_MANY_ENTRIES', message: `${at} has more than ${String(params.limit)} entries` };
    case 'maxLength':
      return { code: 'INVALID_REQUEST', message: `${at} is longer than ${String(params.limit)} characters` };
    case 'format':
      return { code: 'INVALID_REQUEST', message: `${at} must be ${FORMATS[String(params.format)] ?? String(params.format)}` };
    case 'pattern':
      if (dataVar === 'params' && at === 'username') {
        return {
          code: 'INVALID_USERNAME',
          message: 'username must be a cluster account name: a lower-case letter or _ first, then up to 31 lower-case letters, digits, _ or -',
        };
      }
      return { code: 'INVALID_REQUEST', message: `${at} is not valid (${error.message ?? 'pattern'})` };
    default:
      return { code: 'INVALID_REQUEST', message: `${at} ${error.message ?? 'is not valid'}` };
  }
}

/** Fastify's `schemaErrorFormatter`: the first problem, as a 400. */
export function formatValidationError(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  if (!first) return new HttpError(400, 'INVALID_REQUEST', `${dataVar} is not valid`);
  const { code, message } = describe(first, dataVar);
  return new HttpError(400, code, message);
}
