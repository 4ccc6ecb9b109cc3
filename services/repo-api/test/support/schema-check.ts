/** Checks an answer against the published schema of its type, strictly (every required field). */
import assert from 'node:assert/strict';
import { Ajv, type AnySchema } from 'ajv';
import ajvFormats from 'ajv-formats';
import { SHARED_SCHEMAS } from '@gha-slurm/core/api/schemas';

const addFormats = ((ajvFormats as unknown as { default?: typeof ajvFormats }).default ?? ajvFormats) as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allowUnionTypes: true, allErrors: true });
addFormats(ajv);
for (const schema of SHARED_SCHEMAS) ajv.addSchema(structuredClone(schema) as AnySchema);

export function assertMatchesSchema(id: (typeof SHARED_SCHEMAS)[number]['$id'], value: unknown): void {
  const validate = ajv.getSchema(id);
  assert.ok(validate, `no schema ${id}`);
  assert.ok(validate(value), `${id}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}
