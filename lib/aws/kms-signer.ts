import { createHash } from 'node:crypto';
import { KMSClient, type KMSClientConfig, SignCommand } from '@aws-sdk/client-kms';
import { DependencyUnavailable } from '../errors';
import type { Signer } from '../wechatpay/signer';
import { dependencyUnavailable } from './dependency';
import { timed } from './latency';

/**
 * The merchant API private key lives in KMS and never enters Lambda memory. We sign the SHA-256 digest
 * (`MessageType: DIGEST`) rather than the message because KMS refuses RAW messages over 4096 bytes, and a
 * presign body with two OAEP fields is already ~1.3 KB.
 */
export class KmsSigner implements Signer {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  async sign(message: Buffer): Promise<string> {
    const digest = createHash('sha256').update(message).digest();
    try {
      const { Signature } = await this.kms.send(
        new SignCommand({
          KeyId: this.keyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      );
      if (!Signature) throw new Error('KMS Sign returned no signature');
      return Buffer.from(Signature).toString('base64');
    } catch (error) {
      throw dependencyUnavailable('KMS', `Sign with ${this.keyId}`, error);
    }
  }
}

/** `paced`: a job's own client, whose throttles its pacer handles (no SDK retries; see kmsSigner). */
export type KmsProfile = 'api' | 'paced';

const clients = new Map<KmsProfile, KMSClient>();

/**
 * The merchant key's signer, on one timed KMS client per profile and container. A paced job passes a config
 * without retries: an SDK retry of a throttled Sign is one more call against the quota that the job's pacer
 * neither sees nor spaces.
 */
export function kmsSigner(keyId: string, config: KMSClientConfig, profile: KmsProfile = 'api'): KmsSigner {
  let client = clients.get(profile);
  if (!client) {
    client = timed(new KMSClient(config), 'KmsLatency');
    clients.set(profile, client);
  }
  return new KmsSigner(client, keyId);
}

/** KMS refused a Sign for the account's request quota (ThrottlingException), not for anything about the request. */
export function isKmsThrottle(error: unknown): boolean {
  return (
    error instanceof DependencyUnavailable &&
    (error.cause as Error | undefined)?.name === 'ThrottlingException'
  );
}
