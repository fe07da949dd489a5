import type { RateLimits } from '../rate-limit';
import type { MerchantAuth } from './auth';
import type { BookingStore } from './bookings';
import type { CallbackSender } from './callbacks';
import type { ContractStore } from './contracts';
import type { DeductionStore } from './deductions';
import type { Faults } from './faults';
import type { KeyStore } from './keys';
import type { PlanRegistry } from './plans';
import type { RecordedRequest, SubMerchantField } from './types';
import type { Wallets } from './wallets';

/** Everything a request handler may touch. */
export interface SimContext {
  mchid: string;
  apiV3Key: Buffer;
  keys: KeyStore;
  store: ContractStore;
  plans: PlanRegistry;
  bookings: BookingStore;
  deductions: DeductionStore;
  wallets: Wallets;
  callbacks: CallbackSender;
  faults: Faults;
  /** Requests-per-second quotas by /v3 path prefix: past one, WeChat Pay answers 429 RATELIMIT_EXCEEDED. */
  quotas: RateLimits;
  auth: MerchantAuth;
  requests: RecordedRequest[];
  /** The APP presign's one accepted name for the sub-merchant id. */
  appSubMerchantField: SubMerchantField;
  /** Epoch ms for signature timestamps: the injected clock, never shifted. */
  signatureNow(): number;
  /** Epoch ms for business time (token expiry, contract times): the clock plus the sandbox offset. */
  businessNow(): number;
  setClockOffset(ms: number): void;
  /** Origin put into `redirect_url`. */
  baseUrl(): string;
  log(line: string): void;
}

/** What a route answers; the server turns it into HTTP (and signs it on /v3). */
export interface Reply {
  status: number;
  json?: unknown;
  html?: string;
  /** A body sent as given (text/plain): an answer that is not JSON. */
  text?: string;
  location?: string;
  retryAfter?: number;
}
