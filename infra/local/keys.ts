import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Generated local secrets, kept under `.local/` (git-ignored) so that restarts keep the same identities;
 * with no directory they live in memory only (tests).
 */
export class LocalSecrets {
  constructor(private readonly dir?: string) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  /** The value stored under `name`, created by `make` on first use. */
  text(name: string, make: () => string): string {
    if (!this.dir) return make();
    const file = join(this.dir, name);
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const value = make();
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return value;
  }

  rsaKey(name: string): KeyObject {
    const pem = this.text(name, () =>
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    );
    return createPrivateKey(pem);
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random APIv3 key: WeChat Pay's portal takes 32 ASCII letters and digits. */
export function randomApiV3Key(): string {
  return Array.from(randomBytes(32), (b) => ALNUM[b % ALNUM.length]).join('');
}

/** A request-hash key: 32 random bytes, as the 43 characters of their base64url. */
export function randomRequestHashKey(): string {
  return randomBytes(32).toString('base64url');
}

/** A merchant API certificate serial: 40 upper-case hex digits. */
export function randomSerial(): string {
  return randomBytes(20).toString('hex').toUpperCase();
}

/** A public-key-mode key id, `PUB_KEY_ID_` and digits. */
export function randomPublicKeyId(): string {
  return `PUB_KEY_ID_01${Array.from(randomBytes(24), (b) => b % 10).join('')}`;
}
