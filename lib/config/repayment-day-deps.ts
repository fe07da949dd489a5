import { AWS_CLIENT_CONFIG } from '../aws/client-config';
import { DynamoRepaymentDayStore } from '../aws/dynamo-repayment-day-store';
import { DynamoRepaymentStore } from '../aws/dynamo-repayment-store';
import { dynamoDocumentClient } from '../aws/dynamodb-client';
import { isKmsThrottle, kmsSigner } from '../aws/kms-signer';
import { SfnRunStarter } from '../aws/sfn-run-starter';
import { WechatPayThrottled } from '../errors';
import type { Wiring } from '../http/lambda';
import type { DayDeps } from '../repayments/day';
import type { StartDayDeps } from '../repayments/day-start';
import { pacedGateway } from '../repayments/pacing';
import { PacedSigner, Pacer } from '../wechatpay/pacer';
import { Verifier } from '../wechatpay/verifier';
import { builder, contractParts } from './deps';
import {
  type RepaymentDaySettings,
  readRepaymentDaySettings,
  readStateMachineArn,
} from './repayment-day-settings';
import { readWithRepayments, type WithRepayments } from './repayment-settings';
import { processRuntime, type Runtime, wire } from './runtime';
import { verificationKeys, wechatpayClient } from './wechatpay';

/**
 * The repayment-day functions' dependencies: the worker's (the deduct use case's, on a WeChat Pay client whose
 * every signature waits for the container's Pacer), and the starter's (the state machine).
 */

/** No SDK retries of a throttled Sign: each would be one more call the pacer neither sees nor spaces. */
const PACED_KMS_CONFIG = { ...AWS_CLIENT_CONFIG, maxAttempts: 1 };

/** One worker's paced dependencies, and the settings they were built from. */
export interface PacedWorker extends DayDeps {
  pacer: Pacer;
  settings: RepaymentDaySettings;
}

export interface DayWorkerDeps {
  settings: RepaymentDaySettings;
  /**
   * The paced dependencies of one invocation, returned with `release` when it ends. Lambda runs one invocation
   * per container at a time, so there this is always the container's one worker, its Pacer's state kept from
   * page to page; where several run in one process (the local stack), each concurrent invocation gets its own,
   * as each would have its own container.
   */
  lease(): { worker: PacedWorker; release(): void };
}

type WithDay = WithRepayments & { day: RepaymentDaySettings };

/**
 * Each worker paces at the budget's share: at most `REPAYMENT_DAY_WORKERS` workers run at once (the Map's
 * MaxConcurrency and the function's reserved concurrency), so the job as a whole never exceeds
 * SIGNING_BUDGET_RPS. Kept while the settings stay.
 */
export function repaymentDayWorkerDeps(runtime: Runtime = processRuntime): Wiring<DayWorkerDeps> {
  const needs = { apiV3Key: false, platform: true };
  const build = builder<DayWorkerDeps, WithDay>(runtime, needs, (inputs) => {
    const { settings, keys, platform } = inputs;
    const table = settings.repayments.table;
    const shared = {
      store: new DynamoRepaymentStore(dynamoDocumentClient(), table),
      contracts: contractParts(runtime, inputs).store,
      clock: runtime.clock,
      notifyUrl: settings.wechatpay.notifyUrl,
      day: new DynamoRepaymentDayStore(dynamoDocumentClient(), table),
      isThrottle: (error: unknown) => error instanceof WechatPayThrottled || isKmsThrottle(error),
      settings: settings.day,
    };
    const worker = (): PacedWorker => {
      // Real time, not the service's clock: the pace is of actual calls, whatever a test clock says.
      const pacer = new Pacer({ ceilingRps: settings.day.signingBudgetRps / settings.day.workers });
      const kms = kmsSigner(settings.wechatpay.signingKeyId, PACED_KMS_CONFIG, 'paced');
      const signer = new PacedSigner(kms, pacer, isKmsThrottle);
      const verifier = new Verifier(verificationKeys(keys, platform), { clock: runtime.clock });
      const client = wechatpayClient(runtime, settings, keys, verifier, undefined, signer);
      return { ...shared, wechatpay: pacedGateway(client, pacer), pacer };
    };
    const idle: PacedWorker[] = [];
    return {
      settings: settings.day,
      lease() {
        const leased = idle.pop() ?? worker();
        return { worker: leased, release: () => void idle.push(leased) };
      },
    };
  });
  return wire(runtime, async () =>
    build({ ...readWithRepayments(runtime.env), day: readRepaymentDaySettings(runtime.env) }),
  );
}

/** The starter needs the state machine and the number of workers, nothing of WeChat Pay. */
export function repaymentDayStartDeps(runtime: Runtime = processRuntime): Wiring<StartDayDeps> {
  return wire(runtime, async () => ({
    starter: new SfnRunStarter(readStateMachineArn(runtime.env)),
    clock: runtime.clock,
    workers: readRepaymentDaySettings(runtime.env).workers,
  }));
}
