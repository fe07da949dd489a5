import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KmsError } from './errors';

export interface StoredKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, what GetPublicKey returns. */
  publicKeyDer: Buffer;
  created: Date;
}

type KeyRef = { kind: 'alias'; name: string } | { kind: 'key'; id: string };

const ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]*:\d*:(key|alias)\/(.+)$/;
const ALIAS_NAME = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KEY_ID = /^[A-Za-z0-9-]{1,2048}$/;
const ALIASES_FILE = 'aliases.json';
const generate = promisify(generateKeyPair);

export function parseKeyRef(identifier: string): KeyRef {
  const arn = ARN.exec(identifier);
  const bare = arn ? (arn[1] === 'alias' ? `alias/${arn[2]}` : arn[2]) : identifier;
  if (bare && ALIAS_NAME.test(bare)) return { kind: 'alias', name: bare };
  if (bare && KEY_ID.test(bare)) return { kind: 'key', id: bare };
  throw new KmsError(
    'NotFoundException',
    `Invalid keyId '${identifier}': not a key id, key ARN, alias or alias ARN`,
  );
}

/**
 * An alias that auto-creates its key gets a key id derived from its name, so the key's ARN survives a restart
 * without a separate index: the PEM file name alone tells us both.
 */
function aliasKeyId(alias: string): string {
  const h = createHash('sha256').update(alias).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Percent-encoding keeps `alias/a/b` one reversible path segment. */
const fileName = (name: string) => `${encodeURIComponent(name)}.pem`;

function fromPem(keyId: string, pem: string, created: Date): StoredKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'rsa' || privateKey.asymmetricKeyDetails?.modulusLength !== 2048) {
    throw new Error(`key ${keyId} is not RSA-2048; this KMS stand-in only serves RSA_2048 SIGN_VERIFY keys`);
  }
  const publicKey = createPublicKey(privateKey);
  return {
    keyId,
    privateKey,
    publicKey,
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    created,
  };
}

/**
 * RSA-2048 keys by key id, plus aliases. Any well-formed id or alias not seen before gets a new key on first
 * use, so a local stack needs no provisioning step. With a data directory each key is a PEM file named after
 * the id or alias it was first asked for (drop in your own PEM to use it), and CreateAlias targets are kept in
 * aliases.json.
 */
export class KeyStore {
  private readonly keys = new Map<string, Promise<StoredKey>>();
  /** Only CreateAlias aliases; an alias that created its own key is found through aliasKeyId. */
  private readonly aliases = new Map<string, string>();

  private constructor(private readonly dataDir: string | undefined) {}

  static async open(dataDir?: string): Promise<KeyStore> {
    const store = new KeyStore(dataDir);
    if (dataDir) {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      await store.load(dataDir);
    }
    return store;
  }

  private async load(dataDir: string): Promise<void> {
    for (const file of await readdir(dataDir)) {
      if (!file.endsWith('.pem')) continue;
      const path = join(dataDir, file);
      let ref: KeyRef;
      try {
        ref = parseKeyRef(decodeURIComponent(file.slice(0, -'.pem'.length)));
      } catch (error) {
        throw new Error(`${path} is not named after a key id or alias (e.g. alias%2Fname.pem)`, {
          cause: error,
        });
      }
      const keyId = ref.kind === 'alias' ? aliasKeyId(ref.name) : ref.id;
      const [pem, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      this.keys.set(keyId, Promise.resolve(fromPem(keyId, pem, info.mtime)));
    }
    const aliasFile = await readFile(join(dataDir, ALIASES_FILE), 'utf8').catch(() => '{}');
    for (const [alias, keyId] of Object.entries(JSON.parse(aliasFile) as Record<string, string>)) {
      this.aliases.set(alias, keyId);
    }
  }

  /** The key behind an id, ARN or alias, created on first use. */
  resolve(identifier: string): Promise<StoredKey> {
    const ref = parseKeyRef(identifier);
    if (ref.kind === 'key') return this.keys.get(ref.id) ?? this.generate(ref.id, ref.id);
    const explicit = this.aliases.get(ref.name);
    if (explicit) return this.keys.get(explicit) ?? this.generate(explicit, explicit);
    const keyId = aliasKeyId(ref.name);
    return this.keys.get(keyId) ?? this.generate(keyId, ref.name);
  }

  create(): Promise<StoredKey> {
    const keyId = randomUUID();
    return this.generate(keyId, keyId);
  }

  async createAlias(aliasName: string, targetKeyId: string): Promise<void> {
    if (!ALIAS_NAME.test(aliasName) || aliasName.startsWith('alias/aws/')) {
      throw new KmsError(
        'ValidationException',
        `AliasName '${aliasName}' must be alias/<name> and not alias/aws/*`,
      );
    }
    if (this.aliases.has(aliasName) || this.keys.has(aliasKeyId(aliasName))) {
      throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasName} already exists`);
    }
    const target = parseKeyRef(targetKeyId);
    if (target.kind !== 'key' || !this.keys.has(target.id)) {
      throw new KmsError(
        'NotFoundException',
        `TargetKeyId '${targetKeyId}' is not an existing key id or key ARN`,
      );
    }
    this.aliases.set(aliasName, target.id);
    if (this.dataDir) {
      const json = JSON.stringify(Object.fromEntries(this.aliases), null, 2);
      await writeFile(join(this.dataDir, ALIASES_FILE), `${json}\n`);
    }
  }

  /** Stores the promise before generating, so concurrent first uses of one id share one key. */
  private generate(keyId: string, name: string): Promise<StoredKey> {
    const pending = (async () => {
      const { privateKey } = await generate('rsa', { modulusLength: 2048 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      if (this.dataDir) await writeFile(join(this.dataDir, fileName(name)), pem, { mode: 0o600 });
      return fromPem(keyId, pem, new Date());
    })();
    this.keys.set(keyId, pending);
    pending.catch(() => this.keys.delete(keyId));
    return pending;
  }
}
