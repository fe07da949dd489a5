import type { KeyStore } from '../../../lib/config/secrets';

/**
 * Secrets Manager and SSM as the key loaders see them (a stand-in for the Parameters and Secrets extension in unit
 * tests): secrets by id and version stage, parameters by name, every read recorded in order.
 */
export class MemoryKeyStore implements KeyStore {
  readonly secrets = new Map<string, Map<string, string>>();
  readonly parameters = new Map<string, string>();
  /** `secret <id> <stage>` or `parameter <name>`, one per read. */
  readonly reads: string[] = [];

  putSecret(id: string, value: string, stage = 'AWSCURRENT'): this {
    const versions = this.secrets.get(id) ?? new Map<string, string>();
    versions.set(stage, value);
    this.secrets.set(id, versions);
    return this;
  }

  putParameter(name: string, value: string): this {
    this.parameters.set(name, value);
    return this;
  }

  async secret(secretId: string, versionStage = 'AWSCURRENT'): Promise<string | undefined> {
    this.reads.push(`secret ${secretId} ${versionStage}`);
    return this.secrets.get(secretId)?.get(versionStage);
  }

  async parameter(name: string): Promise<string | undefined> {
    this.reads.push(`parameter ${name}`);
    return this.parameters.get(name);
  }

  count(kind: 'secret' | 'parameter'): number {
    return this.reads.filter((r) => r.startsWith(`${kind} `)).length;
  }
}
