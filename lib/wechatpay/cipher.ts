import { constants, createDecipheriv, type KeyObject, publicEncrypt } from 'node:crypto';
import { decodeBase64 } from './base64';
import { NotificationRejected } from './errors';

const TAG_BYTES = 16;
const APIV3_KEY_BYTES = 32;
// OAEP with SHA-1 spends 2 * 20 + 2 bytes of the modulus on padding.
const OAEP_SHA1_OVERHEAD = 42;

/** RSAES-OAEP (SHA-1, MGF1-SHA-1) as WeChat Pay requires for sensitive request fields; standard Base64. */
export function encryptField(publicKey: KeyObject, plaintext: string): string {
  const bytes = Buffer.from(plaintext, 'utf8');
  const modulusBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 2048;
  const limit = modulusBits / 8 - OAEP_SHA1_OVERHEAD;
  if (bytes.length > limit) {
    throw new Error(
      `field is ${bytes.length} UTF-8 bytes; RSA-OAEP with a ${modulusBits}-bit key holds at most ${limit}`,
    );
  }
  return publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    bytes,
  ).toString('base64');
}

/**
 * AEAD_AES_256_GCM of callback resources and downloaded certificates: the APIv3 key as raw bytes, the nonce's
 * UTF-8 bytes as IV (any length, as GCM allows), the tag appended to the ciphertext.
 */
export function decryptResource(
  apiV3Key: Buffer,
  resource: { ciphertext: string; nonce: string; associated_data?: string },
): Buffer {
  if (apiV3Key.length !== APIV3_KEY_BYTES) {
    throw new NotificationRejected(
      `APIv3 key is ${apiV3Key.length} bytes; AEAD_AES_256_GCM needs ${APIV3_KEY_BYTES}`,
    );
  }
  if (!resource.nonce) throw new NotificationRejected('resource nonce is empty');
  const sealed = decodeBase64(resource.ciphertext);
  if (!sealed) throw new NotificationRejected('resource ciphertext is not valid Base64');
  if (sealed.length < TAG_BYTES) {
    throw new NotificationRejected(
      `resource ciphertext is ${sealed.length} bytes, shorter than the ${TAG_BYTES}-byte tag`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(resource.nonce, 'utf8'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (cause) {
    throw new NotificationRejected(
      'resource ciphertext failed AES-256-GCM authentication (wrong APIv3 key, nonce or associated_data?)',
      { cause },
    );
  }
}
