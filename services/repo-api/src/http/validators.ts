/**
 * Request validators. Path and query parameters arrive as strings and are coerced to the
 * types their schemas name (`?limit=20` is a number); a JSON body is taken as sent, so
 * `{"repositories": [42]}` is an error naming the entry rather than a repository called "42".
 * Unknown fields are reported, never silently dropped.
 */
import { Ajv, type AnySchema } from 'ajv';
import ajvFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { SHARED_SCHEMAS } from '@gha-slurm/core/api/schemas';

// ajv-formats is CommonJS with an ES default export: take whichever form the loader gave.
const addFormats = ((ajvFormats as unknown as { default?: typeof ajvFormats }).default ?? ajvFormats) as unknown as (ajv: Ajv) => Ajv;

function createAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    allowUnionTypes: true,
  });
  addFormats(ajv);
  for (const schema of SHARED_SCHEMAS) ajv.addSchema(structuredClone(schema) as AnySchema);
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<AnySchema> {
  const asSent = createAjv(false);
  const coercing = createAjv(true);
  return ({ schema, httpPart }) => (httpPart === 'body' ? asSent : coercing).compile(schema);
}
