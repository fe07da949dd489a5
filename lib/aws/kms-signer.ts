import { createHash } from 'node:crypto';
import { KMSClient, type KMSClientConfig, SignCommand } from '@aws-sdk/client-kms';
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

let client: KMSClient | undefined;

/** The merchant key's signer, on one timed KMS client per container. */
export function kmsSigner(keyId: string, config: KMSClientConfig): KmsSigner {
  client ??= timed(new KMSClient(config), 'KmsLatency');
  return new KmsSigner(client, keyId);
}
