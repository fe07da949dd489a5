import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedRequest, Simulator } from '../../../infra/local/simulator';

export const H5_PRESIGN = '/v3/credit-repayment/partner/contracts/h5-presign';

const presignCodeOf = (r: RecordedRequest): string | undefined => {
  if (!r.url.endsWith('-presign')) return undefined;
  try {
    return (JSON.parse(r.body) as { out_contract_code?: string }).out_contract_code;
  } catch {
    return undefined;
  }
};

/** The presign requests WeChat Pay (the simulator) received for `code`, faulted ones included. */
export function presignCalls(simulator: Simulator, code: string): RecordedRequest[] {
  return simulator.requests().filter((r) => presignCodeOf(r) === code);
}

/** How many presign requests WeChat Pay received per code. */
export function presignCallsByCode(simulator: Simulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of simulator.requests()) {
    const code = presignCodeOf(r);
    if (code) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return counts;
}

/** The signing-page token WeChat Pay holds for `code`, even when we never received its redirect_url. */
export function tokenOf(simulator: Simulator, code: string): string {
  const contract = simulator.contracts().find((c) => c.out_contract_code === code);
  if (!contract) throw new Error(`the simulator has no contract ${code}`);
  return contract.presign_token;
}

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** Waits until WeChat Pay stopped (re)sending callbacks for `codes`: each delivered, failed or dropped. */
export function callbacksSettled(simulator: Simulator, codes: Iterable<string>): Promise<void> {
  const wanted = new Set(codes);
  return eventually('every callback delivered or given up', () =>
    simulator.callbacks().every((c) => !wanted.has(c.out_contract_code) || c.state !== 'pending'),
  );
}
