/**
 * Checks requests and responses against docs/openapi.json, so tests fail when the code and the published
 * document drift apart. Schemas are compiled once per operation/status and cached.
 */
import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

interface Header {
  required?: boolean;
  schema?: Json;
  $ref?: string;
}

interface Operation {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }>; headers?: Record<string, Header> }>;
}

export const OPENAPI_PATH = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));
export const openapi = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: Json & { headers?: Record<string, Header> };
} & Json;

const DOC_ID = 'openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(openapi, DOC_ID);
// Header values are strings on the wire; OpenAPI's `simple` style means `1` validates as an integer.
const headerAjv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
addFormats(headerAjv);

const compiled = new Map<string, ValidateFunction>();
const pointer = (parts: string[]) =>
  parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

function validator(parts: string[]): ValidateFunction {
  const ref = `${DOC_ID}#/${pointer(parts)}`;
  let validate = compiled.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    compiled.set(ref, validate);
  }
  return validate;
}

const templates = Object.keys(openapi.paths)
  .map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/[.]/g, '\\.')}$`),
    // OpenAPI: concrete paths win over templated ones (`/contracts/h5-presign` before `/contracts/{code}`).
    params: (template.match(/\{/g) ?? []).length,
  }))
  .sort((a, b) => a.params - b.params);

function findOperation(method: string, path: string): { template: string; operation: Operation } {
  const pathname = path.split('?')[0] ?? path;
  const verb = method.toLowerCase();
  const matching = templates.filter((t) => t.regex.test(pathname));
  const hit = matching.find((t) => openapi.paths[t.template]?.[verb]);
  if (!hit) {
    const known = matching.map((t) => t.template).join(', ') || 'none';
    throw new AssertionError({
      message: `${method} ${pathname} is not documented in docs/openapi.json (paths matching: ${known})`,
    });
  }
  return { template: hit.template, operation: openapi.paths[hit.template]?.[verb] as Operation };
}

function describe(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `  ${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`)
    .join('\n');
}

function lowerCaseHeaders(headers: Record<string, string> | Headers): Map<string, string> {
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  return new Map(entries.map(([k, v]) => [k.toLowerCase(), v]));
}

/** Follows a local `$ref` (responses and headers may be shared); returns the node and its JSON pointer parts. */
function deref<T>(node: T & { $ref?: string }, parts: string[]): { node: T; parts: string[] } {
  if (!node.$ref) return { node, parts };
  const target = node.$ref
    .replace(/^#\//, '')
    .split('/')
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  const found = target.reduce<unknown>((n, key) => (n as Json | undefined)?.[key], openapi);
  if (found === undefined) throw new AssertionError({ message: `unresolvable reference ${node.$ref}` });
  return deref(found as T & { $ref?: string }, target);
}

function checkHeaders(what: string, documented: Record<string, Header>, actual: Map<string, string>): void {
  for (const [name, raw] of Object.entries(documented)) {
    const header = deref(raw, []).node;
    const value = actual.get(name.toLowerCase());
    if (value === undefined) {
      if (header.required)
        throw new AssertionError({ message: `${what}: required header ${name} is missing` });
      continue;
    }
    if (header.schema && !headerAjv.validate(header.schema, value)) {
      throw new AssertionError({
        message: `${what}: header ${name}: ${JSON.stringify(value)} does not match its schema:\n${describe(headerAjv.errors)}`,
      });
    }
  }
}

/**
 * Asserts that a response of `method path` (a concrete path such as `/contracts/ABC`) is documented:
 * the status is listed, required headers are present and match, and `body` (the parsed JSON, or
 * undefined/'' for none) matches the response schema.
 */
export function checkResponse(
  method: string,
  path: string,
  status: number,
  headers: Record<string, string> | Headers,
  body: unknown,
): void {
  const { template, operation } = findOperation(method, path);
  const what = `${method.toUpperCase()} ${template} -> ${status}`;
  const listed = operation.responses[String(status)];
  if (!listed) {
    throw new AssertionError({
      message: `${what}: status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`,
    });
  }
  const { node: response, parts } = deref(listed, [
    'paths',
    template,
    method.toLowerCase(),
    'responses',
    String(status),
  ]);
  const actual = lowerCaseHeaders(headers);
  checkHeaders(what, response.headers ?? {}, actual);
  const media = Object.keys(response.content ?? {});
  if (media.length === 0) {
    if (body !== undefined && body !== null && body !== '') {
      throw new AssertionError({
        message: `${what}: documented without a body, got ${JSON.stringify(body)}`,
      });
    }
    return;
  }
  const type = actual.get('content-type') ?? '';
  if (!media.some((m) => type.startsWith(m))) {
    throw new AssertionError({
      message: `${what}: content-type ${JSON.stringify(type)} is not one of ${media.join(', ')}`,
    });
  }
  const validate = validator([...parts, 'content', 'application/json', 'schema']);
  if (!validate(body)) {
    throw new AssertionError({
      message: `${what}: body does not match docs/openapi.json:\n${describe(validate.errors)}\nbody: ${JSON.stringify(body)}`,
    });
  }
}

/** Asserts that `body` (parsed JSON) is a valid request body of `method path` per docs/openapi.json. */
export function checkRequest(method: string, path: string, body: unknown): void {
  const { template, operation } = findOperation(method, path);
  const what = `${method.toUpperCase()} ${template} request`;
  if (!operation.requestBody?.content?.['application/json']) {
    throw new AssertionError({ message: `${what}: no JSON request body is documented` });
  }
  const validate = validator([
    'paths',
    template,
    method.toLowerCase(),
    'requestBody',
    'content',
    'application/json',
    'schema',
  ]);
  if (!validate(body)) {
    throw new AssertionError({
      message: `${what}: body does not match docs/openapi.json:\n${describe(validate.errors)}`,
    });
  }
}
