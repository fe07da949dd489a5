import type { Wallet } from './repayment-types';

const UNLIMITED = 'unlimited';
const HOLDS: readonly string[] = ['NONE', 'PENDING', 'NOT_PAY'];

/** What a collection took: the whole amount, part of it (never below the booking's minimum), or nothing. */
export type Collection = { paid: string } | { paid: undefined };

/**
 * One wallet per openid, created on first use as unlimited with no hold, so deductions succeed unless a
 * test or a demo says otherwise.
 */
export class Wallets {
  private readonly byOpenid = new Map<string, Wallet>();

  get(openid: string): Wallet {
    return structuredClone(this.byOpenid.get(openid) ?? { openid, balance: UNLIMITED, hold: 'NONE' });
  }

  /** Throws a message naming what is wrong (the change may come over HTTP). */
  set(openid: string, change: Record<string, unknown>): Wallet {
    const wallet = this.get(openid);
    const { balance, hold, ...unknown } = change;
    const [stray] = Object.keys(unknown);
    if (stray !== undefined) throw new Error(`${stray} is not a wallet setting (balance, hold)`);
    if (balance !== undefined) {
      if (typeof balance !== 'string' || (balance !== UNLIMITED && !/^(0|[1-9]\d{0,17})$/.test(balance))) {
        throw new Error('balance must be a whole number of fen as a string, or "unlimited"');
      }
      wallet.balance = balance;
    }
    if (hold !== undefined) {
      if (typeof hold !== 'string' || !HOLDS.includes(hold))
        throw new Error('hold must be NONE, PENDING or NOT_PAY');
      wallet.hold = hold as Wallet['hold'];
    }
    this.byOpenid.set(openid, wallet);
    return structuredClone(wallet);
  }

  all(): Wallet[] {
    return structuredClone([...this.byOpenid.values()]);
  }

  /**
   * Takes `amount` from the wallet. When the balance falls short, a booking with a minimum is paid what the
   * balance holds if that reaches the minimum (a partial success); otherwise nothing is taken.
   */
  collect(openid: string, amount: string, minimum: string | undefined): Collection {
    const wallet = this.get(openid);
    if (wallet.balance === UNLIMITED) return { paid: amount };
    const balance = BigInt(wallet.balance);
    let paid: bigint | undefined;
    if (balance >= BigInt(amount)) paid = BigInt(amount);
    else if (minimum !== undefined && balance >= BigInt(minimum) && balance > 0n) paid = balance;
    if (paid === undefined) return { paid: undefined };
    this.byOpenid.set(openid, { ...wallet, balance: String(balance - paid) });
    return { paid: String(paid) };
  }
}
