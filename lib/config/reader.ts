/**
 * How lib/config/settings.ts (and repayment-settings.ts) read their variables: trimmed values, integers and the problems of one reading, so that
 * a single error names them all. It reads only the environment object it is given (settings.ts names every variable).
 */
export class Reader {
  readonly #env: NodeJS.ProcessEnv;
  readonly #missing: string[] = [];
  readonly #invalid: string[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /** The trimmed value, or undefined when unset or blank. */
  optional(name: string): string | undefined {
    return this.#env[name]?.trim() || undefined;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (!value) this.#missing.push(name);
    return value ?? '';
  }

  invalid(problem: string): void {
    this.#invalid.push(problem);
  }

  /** A positive integer, or `fallback` when unset; anything else is invalid. */
  positive(name: string, fallback: number): number {
    const raw = this.optional(name);
    if (!raw) return fallback;
    if (!/^[1-9]\d*$/.test(raw)) this.invalid(`${name}=${raw} is not a positive integer`);
    return Number(raw);
  }

  /** Missing variables first (nothing else is worth checking without them), then every invalid one. */
  checkMissing(): void {
    if (this.#missing.length > 0) {
      throw new Error(`missing configuration: ${this.#missing.join(', ')} (see README "Configuration")`);
    }
  }

  checkInvalid(): void {
    if (this.#invalid.length > 0) throw new Error(`invalid configuration: ${this.#invalid.join('; ')}`);
  }
}

/** `{ [name]: value }`, or `{}` when there is no value: unset settings stay absent rather than undefined. */
export function ifSet<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: string };
}
