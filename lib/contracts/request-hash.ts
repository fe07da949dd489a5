import { createHmac } from 'node:crypto';

/**
 * A keyed hash of the canonical request. Keyed (HMAC) because the request holds the user's ID number and
 * name: a plain SHA-256 of an 18-digit ID with a known structure could be brute-forced from a table dump. The key
 * is a secret of its own (REQUEST_HASH_KEY), so neither a table dump nor the APIv3 key tests an ID number.
 * Canonical = JSON with object keys sorted at every level, so key order in the caller's body is irrelevant.
 */
export function requestHash(key: Buffer, request: unknown): string {
  return createHmac('sha256', key).update(canonicalJson(request)).digest('base64url');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
