// Node's decoder silently skips invalid characters, so a mangled value would decode to different bytes
// instead of failing; WeChat Pay always sends canonical, padded standard Base64.
const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes canonical standard Base64, or returns undefined for anything else (including ''). */
export function decodeBase64(text: string): Buffer | undefined {
  if (text === '' || !CANONICAL.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
