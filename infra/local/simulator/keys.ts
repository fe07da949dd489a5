import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { selfSignedCertificate } from './cert';
import { randomDigits } from './crypto';
import type { PlatformMode } from './types';

export interface PlatformCertificate {
  serial: string;
  pem: string;
  privateKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** Who signs responses and callbacks right now. */
export interface Signer {
  serial: string;
  privateKey: KeyObject;
}

const FIVE_YEARS_MS = 5 * 365 * 24 * 3600_000;

function newRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function spkiPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * WeChat Pay's own keys: the public-key-mode key (`PUB_KEY_ID_…`) and, created on first need, the
 * platform certificates of the legacy mode. Encrypted request fields may use the public key in either
 * mode (merchants migrate at their own pace) and a platform certificate only in certificate mode.
 */
export class KeyStore {
  private publicKey: { id: string; privateKey: KeyObject };
  private certs: PlatformCertificate[] = [];

  constructor(
    private mode: PlatformMode,
    initial: { id: string; privateKey: KeyObject } | undefined,
    private readonly now: () => number,
  ) {
    this.publicKey = initial ?? { id: KeyStore.newKeyId(), privateKey: newRsaKey() };
    if (mode === 'certificate') this.certificates();
  }

  private static newKeyId(): string {
    return `PUB_KEY_ID_01${randomDigits(26)}`;
  }

  wechatpayPublicKey(): { id: string; pem: string } {
    return { id: this.publicKey.id, pem: spkiPem(this.publicKey.privateKey) };
  }

  rotate(): { id: string; pem: string } {
    this.publicKey = { id: KeyStore.newKeyId(), privateKey: newRsaKey() };
    return this.wechatpayPublicKey();
  }

  currentMode(): PlatformMode {
    return this.mode;
  }

  setMode(mode: PlatformMode): void {
    this.mode = mode;
    if (mode === 'certificate') this.certificates();
  }

  /** The platform certificates, newest last; one is issued on first call. */
  certificates(): PlatformCertificate[] {
    if (this.certs.length === 0) {
      const privateKey = newRsaKey();
      // First byte 0x10..0x7f: a positive DER INTEGER that prints as exactly 40 hex digits.
      const serialBytes = randomBytes(20);
      serialBytes[0] = 0x10 + ((serialBytes[0] ?? 0) % 0x70);
      const serial = serialBytes.toString('hex').toUpperCase();
      const notBefore = new Date(this.now() - 24 * 3600_000);
      const notAfter = new Date(notBefore.getTime() + FIVE_YEARS_MS);
      const pem = selfSignedCertificate({
        serialHex: serial,
        commonName: 'Tenpay.com Root CA (simulated platform certificate)',
        notBefore,
        notAfter,
        publicKey: createPublicKey(privateKey),
        privateKey,
      });
      this.certs.push({ serial, pem, privateKey, notBefore, notAfter });
    }
    return this.certs;
  }

  signer(): Signer {
    if (this.mode === 'certificate') {
      const newest = this.certificates().at(-1);
      if (newest) return { serial: newest.serial, privateKey: newest.privateKey };
    }
    return { serial: this.publicKey.id, privateKey: this.publicKey.privateKey };
  }

  /** The serials a request may name in `Wechatpay-Serial`. */
  acceptedSerials(): string[] {
    const certSerials = this.mode === 'certificate' ? this.certs.map((c) => c.serial) : [];
    return [this.publicKey.id, ...certSerials];
  }

  /** Private key for OAEP fields encrypted to the key named by `serial`, if that key is accepted now. */
  decryptionKey(serial: string): KeyObject | undefined {
    if (serial === this.publicKey.id) return this.publicKey.privateKey;
    if (this.mode !== 'certificate') return undefined;
    return this.certs.find((c) => c.serial === serial)?.privateKey;
  }
}
