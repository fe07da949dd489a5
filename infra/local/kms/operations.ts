import { constants, createHash, privateEncrypt, publicDecrypt, timingSafeEqual } from 'node:crypto';
import { KmsError } from './errors';
import type { KeyStore, StoredKey } from './keystore';

export type Input = Record<string, unknown>;
export interface Context {
  store: KeyStore;
  /** From the SigV4 credential scope, so ARNs name the region the client thinks it talks to. */
  region: string;
}
type Operation = (input: Input, context: Context) => Promise<object>;

const ACCOUNT = '000000000000';
const KEY_SPEC = 'RSA_2048';
const KEY_USAGE = 'SIGN_VERIFY';
const ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';
const RAW_MESSAGE_LIMIT = 4096;
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function text(input: Input, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '')
    throw new KmsError('ValidationException', `${field} is required`);
  return value;
}

function blob(input: Input, field: string): Buffer {
  const bytes = Buffer.from(text(input, field), 'base64');
  if (bytes.length === 0) throw new KmsError('ValidationException', `${field} must not be empty`);
  return bytes;
}

function arn(key: StoredKey, context: Context): string {
  return `arn:aws:kms:${context.region}:${ACCOUNT}:key/${key.keyId}`;
}

function metadata(key: StoredKey, context: Context) {
  return {
    AWSAccountId: ACCOUNT,
    KeyId: key.keyId,
    Arn: arn(key, context),
    CreationDate: key.created.getTime() / 1000,
    Enabled: true,
    KeyState: 'Enabled',
    KeyUsage: KEY_USAGE,
    KeySpec: KEY_SPEC,
    CustomerMasterKeySpec: KEY_SPEC,
    SigningAlgorithms: [ALGORITHM],
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    MultiRegion: false,
  };
}

/** What KMS hashes (RAW) or takes as is (DIGEST), with the limits real KMS enforces. */
function digestOf(input: Input): Buffer {
  const algorithm = text(input, 'SigningAlgorithm');
  if (algorithm !== ALGORITHM) {
    throw new KmsError(
      'ValidationException',
      `SigningAlgorithm ${algorithm} is not supported (supported: ${ALGORITHM})`,
    );
  }
  const message = blob(input, 'Message');
  const type = input.MessageType ?? 'RAW';
  if (type === 'RAW') {
    if (message.length > RAW_MESSAGE_LIMIT) {
      throw new KmsError(
        'ValidationException',
        `Message is ${message.length} bytes; RAW messages are limited to ${RAW_MESSAGE_LIMIT} (sign a DIGEST instead)`,
      );
    }
    return createHash('sha256').update(message).digest();
  }
  if (type === 'DIGEST') {
    if (message.length !== 32) {
      throw new KmsError('ValidationException', `Digest is ${message.length} bytes; ${ALGORITHM} needs 32`);
    }
    return message;
  }
  throw new KmsError(
    'ValidationException',
    `MessageType ${String(type)} is not supported (supported: RAW, DIGEST)`,
  );
}

/** PKCS#1 v1.5 over DigestInfo is exactly what crypto.sign('sha256') produces for RAW, and KMS for DIGEST. */
function sign(key: StoredKey, digest: Buffer): Buffer {
  const padded = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  return privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, padded);
}

function verify(key: StoredKey, digest: Buffer, signature: Buffer): boolean {
  const expected = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  try {
    const recovered = publicDecrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  } catch {
    return false;
  }
}

export const operations: Record<string, Operation> = {
  async CreateKey(input, context) {
    // Omitted spec/usage would mean a symmetric key in real KMS; this stand-in only makes signing keys.
    for (const [field, only] of [
      ['KeySpec', KEY_SPEC],
      ['CustomerMasterKeySpec', KEY_SPEC],
      ['KeyUsage', KEY_USAGE],
    ] as const) {
      if (input[field] !== undefined && input[field] !== only) {
        throw new KmsError(
          'UnsupportedOperationException',
          `${field} ${String(input[field])} is not supported (only ${only})`,
        );
      }
    }
    return { KeyMetadata: metadata(await context.store.create(), context) };
  },

  async DescribeKey(input, context) {
    return { KeyMetadata: metadata(await context.store.resolve(text(input, 'KeyId')), context) };
  },

  async GetPublicKey(input, context) {
    const key = await context.store.resolve(text(input, 'KeyId'));
    return {
      KeyId: arn(key, context),
      PublicKey: key.publicKeyDer.toString('base64'),
      KeySpec: KEY_SPEC,
      CustomerMasterKeySpec: KEY_SPEC,
      KeyUsage: KEY_USAGE,
      SigningAlgorithms: [ALGORITHM],
    };
  },

  async Sign(input, context) {
    const digest = digestOf(input);
    const key = await context.store.resolve(text(input, 'KeyId'));
    return {
      KeyId: arn(key, context),
      Signature: sign(key, digest).toString('base64'),
      SigningAlgorithm: ALGORITHM,
    };
  },

  async Verify(input, context) {
    const digest = digestOf(input);
    const signature = blob(input, 'Signature');
    const key = await context.store.resolve(text(input, 'KeyId'));
    if (!verify(key, digest, signature)) {
      throw new KmsError(
        'KMSInvalidSignatureException',
        `the signature does not verify with key ${key.keyId}`,
      );
    }
    return { KeyId: arn(key, context), SignatureValid: true, SigningAlgorithm: ALGORITHM };
  },

  async CreateAlias(input, context) {
    await context.store.createAlias(text(input, 'AliasName'), text(input, 'TargetKeyId'));
    return {};
  },
};
