import { decryptResource } from './cipher';
import { NotificationRejected } from './errors';
import { isObject, type JsonObject } from './json';
import { readSignedHeaders, type Verifier } from './verifier';

export interface NotificationEnvelope {
  id: string;
  create_time: string;
  event_type: string;
  resource_type: string;
  summary?: string;
  resource: {
    algorithm: string;
    ciphertext: string;
    nonce: string;
    associated_data?: string;
    original_type?: string;
  };
}

const ALGORITHM = 'AEAD_AES_256_GCM';

/** verify(headers, rawBody) FIRST, then JSON.parse, then check the envelope shape, then decrypt the resource. */
export function openNotification(
  input: { headers: Record<string, string | string[] | undefined>; body: Buffer },
  deps: { verifier: Verifier; apiV3Key: Buffer },
): { envelope: NotificationEnvelope; resource: unknown } {
  deps.verifier.verify(readSignedHeaders(input.headers), input.body);
  return readNotification(input.body, deps.apiV3Key);
}

/**
 * The envelope and decrypted resource of a body already verified: by openNotification, or when it was received
 * and kept (its signature's 300 s window is long past by the time an operator applies it).
 */
export function readNotification(
  body: Buffer,
  apiV3Key: Buffer,
): { envelope: NotificationEnvelope; resource: unknown } {
  if (body.length === 0) throw new NotificationRejected('notification body is empty');
  const envelope = parseEnvelope(parseJson(body, 'notification body'));
  if (envelope.resource.algorithm !== ALGORITHM) {
    throw new NotificationRejected(
      `resource.algorithm ${JSON.stringify(envelope.resource.algorithm)} is not ${ALGORITHM}`,
    );
  }
  const plaintext = decryptResource(apiV3Key, envelope.resource);
  return { envelope, resource: parseJson(plaintext, 'decrypted resource') };
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new NotificationRejected(`${what} is not JSON`, { cause });
  }
}

function field(json: JsonObject, name: string, path: string, optional: true): string | undefined;
function field(json: JsonObject, name: string, path: string): string;
function field(json: JsonObject, name: string, path: string, optional = false): string | undefined {
  const value = json[name];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || (!optional && value === '')) {
    throw new NotificationRejected(
      `notification ${path}${name} is ${value === undefined ? 'missing' : 'not a non-empty string'}`,
    );
  }
  return value;
}

function parseEnvelope(json: unknown): NotificationEnvelope {
  if (!isObject(json)) throw new NotificationRejected('notification body is not a JSON object');
  const resource = json.resource;
  if (!isObject(resource))
    throw new NotificationRejected('notification resource is missing or not an object');
  const envelope: NotificationEnvelope = {
    id: field(json, 'id', ''),
    create_time: field(json, 'create_time', ''),
    event_type: field(json, 'event_type', ''),
    resource_type: field(json, 'resource_type', ''),
    resource: {
      algorithm: field(resource, 'algorithm', 'resource.'),
      ciphertext: field(resource, 'ciphertext', 'resource.'),
      nonce: field(resource, 'nonce', 'resource.'),
    },
  };
  const summary = field(json, 'summary', '', true);
  if (summary !== undefined) envelope.summary = summary;
  const associatedData = field(resource, 'associated_data', 'resource.', true);
  if (associatedData !== undefined) envelope.resource.associated_data = associatedData;
  const originalType = field(resource, 'original_type', 'resource.', true);
  if (originalType !== undefined) envelope.resource.original_type = originalType;
  return envelope;
}
