import { ValidationFailed } from '../errors';

/** Our API bodies are small JSON documents; anything larger is refused before parsing. */
export const MAX_API_BODY_BYTES = 16 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The exact bytes the caller sent, undoing API Gateway's base64 when it applied it. */
export function rawBody(event: { body?: string | null; isBase64Encoded?: boolean }): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/** Parses a JSON request body, with errors that name the rule (`field` "" is the whole body). */
export function parseJsonBody(bytes: Buffer): unknown {
  const bad = (issue: string) => new ValidationFailed([{ field: '', issue }]);
  if (bytes.length === 0) throw bad('body is required (a JSON object)');
  if (bytes.length > MAX_API_BODY_BYTES) throw bad(`body exceeds ${MAX_API_BODY_BYTES} bytes`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw bad('body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may hold personal data: say only what rule failed.
    throw bad('body is not valid JSON');
  }
}
