import * as z from 'zod/mini';
import { ContractNotFound, ContractStateConflict, WechatPayRejected } from '../errors';
import type { WechatPayResponse } from '../wechatpay/client';
import {
  parseTerminateResponse,
  TERMINATE_PATH,
  type WechatPayContract,
} from '../wechatpay/credit-repayment';
import { ANSWER_MS, type Budget, inTime, keeping, RECORD_MS, UNBOUNDED } from './budget';
import { readDecideWrite } from './conditional-write';
import { applyFacts } from './lifecycle';
import type { ContractRecord } from './model';
import type { Clock, ContractStore, WechatPayGateway } from './ports';
import { queryWechatPay } from './sync';
import { parseOrThrow, text } from './validation';

export interface TerminateDeps {
  store: ContractStore;
  wechatpay: WechatPayGateway;
  clock: Clock;
}

const terminateBody = z.strictObject({ contract_termination_remark: text(128) });

/**
 * Terminates a SIGNED contract at WeChat Pay, then records what WeChat Pay reports, within `budget`. The same
 * remark again on a contract it terminated replays: the stored record, WeChat Pay not called. Within `budget`
 * (budget.ts): WeChat Pay's calls keep time to record the outcome. Killed after WeChat Pay terminated, the record
 * would stay SIGNED until the callback or reconcile's next look; answered in time, the caller knows to retry, and
 * the retry's refusal is settled by the query.
 */
export async function terminate(
  deps: TerminateDeps,
  outContractCode: string,
  input: unknown,
  budget: Budget = UNBOUNDED,
): Promise<ContractRecord> {
  const { contract_termination_remark: remark } = parseOrThrow(terminateBody, input);
  const answerBy = keeping(budget, ANSWER_MS);
  const forWechatPay = keeping(answerBy, RECORD_MS);
  const existing = await inTime(answerBy, deps.store.get(outContractCode), 'DynamoDB', 'GetItem');
  if (!existing) throw new ContractNotFound(outContractCode);
  // The identical request again (a retry whose answer was lost, a redelivered command): the termination it asked
  // for is on the record, so the record is the answer and WeChat Pay is not asked twice.
  if (existing.state === 'TERMINATED' && existing.contract_termination_remark === remark) return existing;
  if (existing.state !== 'SIGNED') {
    throw new ContractStateConflict(
      `only a SIGNED contract can be terminated; ${outContractCode} is ${existing.state}`,
      existing.state,
    );
  }
  let facts: WechatPayContract;
  try {
    const response = await deps.wechatpay.call(
      {
        method: 'POST',
        path: TERMINATE_PATH,
        body: { out_contract_code: outContractCode, contract_termination_remark: remark },
      },
      { remainingMs: () => forWechatPay.remainingMs() },
    );
    facts = answeredFacts(response) ?? (await confirmed(deps, outContractCode, remark, forWechatPay));
  } catch (error) {
    // A refusal may mean it was already terminated (by the user, or by our own earlier attempt whose answer
    // was lost): WeChat Pay's query tells which.
    if (!(error instanceof WechatPayRejected)) throw error;
    const current = await queryWechatPay(deps, outContractCode, forWechatPay);
    if (current?.contract_state !== 'CONTRACT_STATE_TERMINATED') throw error;
    facts = current;
  }
  return inTime(answerBy, record(deps, outContractCode, facts), 'DynamoDB', 'recording the termination');
}

/**
 * An empty 2xx answer says only that WeChat Pay accepted: its query gives the mode and the time. When the query
 * cannot tell yet (unavailable, or still showing the contract in effect), record what is known, the termination
 * and the remark we sent, rather than a mode and a time of our own making.
 */
async function confirmed(
  deps: TerminateDeps,
  code: string,
  remark: string,
  budget: Budget,
): Promise<WechatPayContract> {
  const known: WechatPayContract = {
    out_contract_code: code,
    contract_state: 'CONTRACT_STATE_TERMINATED',
    contract_termination_remark: remark,
  };
  try {
    const current = await queryWechatPay(deps, code, budget);
    return current?.contract_state === known.contract_state ? current : known;
  } catch {
    return known;
  }
}

/**
 * What a 2xx terminate answer says. One that is not a contract is "a 2xx we could not accept" (WechatPayRejected),
 * so that, like a refusal, it is settled by the query API rather than ending as an internal error.
 */
function answeredFacts(response: WechatPayResponse): WechatPayContract | undefined {
  const json = response.json();
  try {
    return parseTerminateResponse(json);
  } catch (cause) {
    const message = `terminate answer is not usable: ${(cause as Error).message}`;
    const request_id = response.requestId;
    throw new WechatPayRejected(
      { status: response.status, code: 'INVALID_RESPONSE', message, ...(request_id ? { request_id } : {}) },
      { cause },
    );
  }
}

function record(deps: TerminateDeps, code: string, facts: WechatPayContract): Promise<ContractRecord> {
  return readDecideWrite<ContractRecord | undefined, ContractRecord, ContractRecord>(
    {
      read: () => deps.store.get(code),
      decide: (existing) => {
        const next = applyFacts(existing, facts, 'QUERY', new Date(deps.clock()).toISOString());
        if (next) return { write: next };
        // Nothing to move (already TERMINATED by a callback that won the race): the stored record is the answer.
        if (existing) return { done: existing };
        // Records are never deleted; were this one, read a moment ago, gone, say so rather than guess.
        throw new ContractNotFound(code);
      },
      write: async (next) => ((await deps.store.save(next)) ? next : undefined),
    },
    `contract ${code} kept changing while its termination was recorded`,
  );
}
