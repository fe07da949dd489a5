import { DynamoRepaymentStore } from '../aws/dynamo-repayment-store';
import { dynamoDocumentClient } from '../aws/dynamodb-client';
import type { Wiring } from '../http/lambda';
import type { BookDeps } from '../repayments/book';
import type { SettleDeps } from '../repayments/settle';
import { builder, type ContractDeps, contractParts, type Inputs } from './deps';
import { readWithRepayments, type WithRepayments } from './repayment-settings';
import { processRuntime, type Runtime, wire } from './runtime';

/**
 * The builders of the repayment functions' dependencies (the repayments function, and reconcile, which polls
 * repayments after it settles contracts), on deps.ts's builder and contract parts: the same cache policy.
 */

/** The contract parts, and the repayment use cases' view of them plus the repayment store and notify URL. */
function repaymentParts(
  runtime: Runtime,
  inputs: Inputs<WithRepayments>,
): { contract: ContractDeps; repayments: SettleDeps } {
  const contract = contractParts(runtime, inputs);
  const repayments: SettleDeps = {
    store: new DynamoRepaymentStore(dynamoDocumentClient(), inputs.settings.repayments.table),
    contracts: contract.store,
    wechatpay: contract.wechatpay,
    clock: contract.clock,
    notifyUrl: inputs.settings.wechatpay.notifyUrl,
  };
  return { contract, repayments };
}

/** Booking, deduct and query with sync sign WeChat Pay calls but never touch the APIv3 key. */
export function repaymentDeps(runtime: Runtime = processRuntime): Wiring<BookDeps> {
  const needs = { apiV3Key: false, platform: true };
  const build = builder<BookDeps, WithRepayments>(runtime, needs, (inputs) => ({
    ...repaymentParts(runtime, inputs).repayments,
    loanTypes: new Map(Object.entries(inputs.settings.repayments.planLoanTypes)),
  }));
  return wire(runtime, async () => build(readWithRepayments(runtime.env)));
}

export type ReconcileDeps = ContractDeps & { repayments: SettleDeps };

/** Reconcile settles contracts, then polls the repayments awaiting WeChat Pay's word, with one client. */
export function reconcileDeps(runtime: Runtime = processRuntime): Wiring<ReconcileDeps> {
  const needs = { apiV3Key: false, platform: true };
  const build = builder<ReconcileDeps, WithRepayments>(runtime, needs, (inputs) => {
    const { contract, repayments } = repaymentParts(runtime, inputs);
    return { ...contract, repayments };
  });
  return wire(runtime, async () => build(readWithRepayments(runtime.env)));
}
