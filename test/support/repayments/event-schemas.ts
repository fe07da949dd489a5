/**
 * Checks events against their JSON Schema in docs/events/ (one file per detail-type), so a test fails when the
 * outbox emits what the published schema does not allow: a missing field, a wrong state, or any field the schema
 * does not list (openid, a name, an ID number).
 */
import { AssertionError } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const DIR = new URL('../../../docs/events/', import.meta.url);
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);

/** detail-type -> its compiled schema. */
export const EVENT_SCHEMAS: ReadonlyMap<string, ValidateFunction> = new Map(
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [
      f.slice(0, -'.json'.length),
      ajv.compile(JSON.parse(readFileSync(new URL(f, DIR), 'utf8'))),
    ]),
);

/** Asserts that `event.detail` matches the schema of `event.type`. */
export function checkEvent(event: { type: string; detail: unknown }): void {
  const validate = EVENT_SCHEMAS.get(event.type);
  if (!validate) throw new AssertionError({ message: `no schema in docs/events/ for ${event.type}` });
  if (!validate(event.detail)) {
    const why = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new AssertionError({ message: `${event.type} detail does not match its schema: ${why}` });
  }
}
