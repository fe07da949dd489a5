import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// Largest multiple of 62 that fits in a byte: bytes at or above it are dropped so `% 62` stays uniform.
const UNBIASED_LIMIT = 248;

/** 32 characters of [0-9A-Za-z], as the official SDKs generate. */
export function nonce(): string {
  let out = '';
  while (out.length < 32) {
    for (const byte of randomBytes(40)) {
      if (byte < UNBIASED_LIMIT && out.length < 32) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

/** The five lines a merchant signs; every line ends in `\n`, the empty GET body included. */
export function requestMessage(
  method: string,
  canonicalUrl: string,
  timestamp: string,
  nonce: string,
  body: string,
): Buffer {
  return Buffer.from(`${method.toUpperCase()}\n${canonicalUrl}\n${timestamp}\n${nonce}\n${body}\n`, 'utf8');
}
