/**
 * Decodes canonical standard Base64, or returns undefined for anything else (including '').
 * Node's decoder silently skips invalid characters and missing padding, so a mangled value would decode to other
 * bytes instead of failing; WeChat Pay always sends canonical, padded Base64, which alone survives the round trip.
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (text === '') return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
