import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ConfigError } from './config-error.js';
import type { JsonSchema } from '../ports/plugin.js';

const ajv = new Ajv({ allErrors: false, useDefaults: true, strict: false });
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/** "a.b.c" from an ajv instance path "/a/b/c", prefixed by where the object sits in the config. */
function keyOf(prefix: string, error: ErrorObject): string {
  const parts = error.instancePath
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') parts.push(String((error.params as { additionalProperty: string }).additionalProperty));
  if (error.keyword === 'required') parts.push(String((error.params as { missingProperty: string }).missingProperty));
  const key = [prefix, ...parts].filter((p) => p.length > 0).join('.');
  return key.length > 0 ? key : '(top level)';
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return 'is not a known key';
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return 'is not in the expected format';
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Validate `value` against `schema`, filling in defaults in place. Throws one ConfigError naming
 * the offending key, prefixed with `prefix` (e.g. "plugins.storage").
 */
export function validateAgainst(schema: JsonSchema, value: unknown, prefix: string): void {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      throw new ConfigError(`config: ${prefix || 'schema'}: the schema itself is invalid: ${(err as Error).message}`);
    }
    compiled.set(schema, validate);
  }
  if (validate(value)) return;
  const error = validate.errors![0]!;
  throw new ConfigError(`config: ${keyOf(prefix, error)} ${describe(error)}`);
}
