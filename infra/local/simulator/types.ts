import type { KeyObject } from 'node:crypto';
import type { PlanTemplate, SimulatedDeductOrder, SimulatedScheduleRecord, Wallet } from './repayment-types';

export type PlatformMode = 'public-key' | 'certificate';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** The only service-provider mchid accepted in `Authorization`. */
  mchid: string;
  /** Expected `serial_no` in `Authorization` (the merchant API certificate serial). */
  merchantSerialNo: string;
  /** The merchant API public key; cached after the first success. */
  merchantPublicKey: () => Promise<KeyObject>;
  /** The 32-byte APIv3 key that encrypts callback resources. */
  apiV3Key: Buffer;
  /** Default `{ mode: 'public-key' }`. */
  platform?: { mode: PlatformMode };
  /** Public-key mode identity; generated (id `PUB_KEY_ID_…`) when absent. */
  publicKey?: { id: string; privateKey: KeyObject };
  /** Epoch ms. Signature timestamps use it as is; business time adds the `/sandbox/clock` offset. */
  clock?: () => number;
  /** Delays (ms) between callback sends; `n` delays mean at most `n + 1` sends (never more than 15). */
  callbackSchedule?: number[];
  /** Compresses WeChat Pay's default retry schedule; default 0.01. */
  timeScale?: number;
  /** Origin used in `redirect_url`; default the simulator's own `http://host:port`. */
  publicBaseUrl?: string;
  /** Plan templates; any other plan_id gets a cash-loan template with no cap of its own. */
  plans?: PlanTemplate[];
  /**
   * The terminate-notification URL (解约结果通知URL) of every template that has none of its own.
   * Unset: TERMINATE_CONTRACT goes to the contract's `contract_notify_url`.
   */
  terminateNotifyUrl?: string;
  /**
   * The one name the APP presign accepts for the sub-merchant id: WeChat Pay's APP page says `sub_merchant_code`,
   * its other pages `sub_mchid` (default). H5 always takes `sub_mchid`.
   */
  appSubMerchantField?: SubMerchantField;
  log?: (line: string) => void;
}

export type SubMerchantField = 'sub_mchid' | 'sub_merchant_code';

export type ContractState = 'PRESIGNED' | 'DECLINED' | 'EFFECTIVE' | 'TERMINATED';

export interface TradeInfo {
  out_trade_no: string;
  deduct_amount: number;
  description?: string;
  attach?: string;
  notify_url?: string;
}

/** What the simulator keeps about a contract. The decrypted real name and ID number are never stored. */
export interface SimulatedContract {
  out_contract_code: string;
  channel: 'H5' | 'APP';
  state: ContractState;
  appid: string;
  plan_id: string;
  display_name: string;
  contract_notify_url: string;
  repayment_amount_limit: string;
  repayment_day?: number;
  sub_mchid?: string;
  sub_appid?: string;
  /** `real_identity` was given and both fields decrypted and passed the checks. */
  real_identity_verified: boolean;
  trade_info?: TradeInfo;
  jump_appid?: string;
  presign_token: string;
  presigned_time: string;
  token_expires_at: string;
  contract_id?: string;
  openid?: string;
  contract_signed_time?: string;
  contract_terminated_time?: string;
  contract_terminated_mode?: string;
  contract_termination_remark?: string;
}

export interface RecordedRequest {
  request_id: string;
  at: string;
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** 0 while unanswered (a `hang` fault) or when the socket was dropped before answering. */
  status: number;
  /** WeChat Pay error `code` when the answer was an error. */
  code?: string;
  fault?: 'status' | 'hang' | 'drop' | 'delay';
}

export interface CallbackAttempt {
  at: string;
  request_id: string;
  timestamp: string;
  nonce: string;
  serial: string;
  /** HTTP status from the receiver; absent when it did not answer. */
  status?: number;
  duration_ms: number;
  error?: string;
}

export interface CallbackDelivery {
  /** DEDUCTION_PAY only: the order it reports. */
  out_trade_no?: string;
  /** Notification id (the envelope `id`): the same for every retry. */
  id: string;
  kind: 'notification' | 'probe';
  event_type: string;
  url: string;
  out_contract_code: string;
  /** The envelope exactly as sent. */
  body: string;
  /** The resource plaintext, for assertions. */
  payload: Record<string, unknown>;
  state: 'pending' | 'delivered' | 'failed' | 'dropped';
  attempts: CallbackAttempt[];
}

export interface Fault {
  /** Prefix match on the request path. */
  path: string;
  /** Only requests of this method (a deduct, not the query of the order it created); default any. */
  method?: 'GET' | 'POST';
  count: number;
  status?: number;
  body?: unknown;
  /** Never answer (until the client gives up or the simulator closes). */
  hang?: boolean;
  /** Process the request normally, then destroy the socket without answering. */
  drop?: boolean;
  /** With `status`: the `Retry-After` header (seconds) of the answer. */
  retryAfter?: number;
  /** With `status`: the answer's body text as given (e.g. not JSON), instead of `body`. */
  raw?: string;
  /** Process the request normally, then answer this many milliseconds later. */
  delayMs?: number;
}

export interface Simulator {
  url: string;
  port: number;
  close(): Promise<void>;
  wechatpayPublicKey(): { id: string; pem: string };
  rotatePublicKey(): { id: string; pem: string };
  platformCertificates(): { serial: string; pem: string }[];
  setMode(mode: PlatformMode): void;
  contracts(): SimulatedContract[];
  requests(): RecordedRequest[];
  callbacks(): CallbackDelivery[];
  injectFault(f: Fault): void;
  /** Requests-per-second quotas by /v3 path prefix (null lifts one); past one, 429 RATELIMIT_EXCEEDED. */
  setQuotas(quotas: Record<string, number | null>): void;
  agree(token: string): Promise<void>;
  decline(token: string): void;
  sendProbe(outContractCode: string): Promise<CallbackDelivery>;
  /** Adds or replaces a plan template. */
  setPlan(plan: PlanTemplate): void;
  scheduleRecords(): SimulatedScheduleRecord[];
  deductOrders(): SimulatedDeductOrder[];
  /** Changes the given settings of the wallet of `openid` and returns it. */
  setWallet(openid: string, change: Partial<Omit<Wallet, 'openid'>>): Wallet;
  /** Collects a PENDING or NOT_PAY order now, from its wallet (whatever the wallet's hold). */
  settleDeduction(outTradeNo: string): Promise<SimulatedDeductOrder>;
}
