/**
 * Every port of the domain: what the use cases need from the world, each implemented by an adapter (lib/aws for
 * the stores and the publisher, lib/wechatpay/client.ts for the gateway) and stood in for by unit tests.
 */
import type { PlatformCertificate } from '../wechatpay/certificates';
import type { SendOptions, SignedRequest, WechatPayRequest, WechatPayResponse } from '../wechatpay/client';
import type { ContractState } from './lifecycle';
import type { ContractRecord } from './model';
import type { Requeue } from './recheck';

/** Epoch milliseconds; the protocol library's own type, so that one clock drives both layers. */
export type { Clock } from '../wechatpay/clock';

/**
 * WeChat Pay as the use cases see it. `WechatPayClient` is the implementation: it signs with the merchant key,
 * verifies every answer, and throws WechatPayRejected (4xx) or WechatPayUnavailable (5xx, 429, timeouts).
 */
export interface WechatPayGateway {
  /** Serialises the body once and signs it (fresh nonce and timestamp) without sending it. */
  sign(request: WechatPayRequest): Promise<SignedRequest>;
  /**
   * Sends a signed request; with `retry`, retryable failures are resent (re-signed, the identical body); with
   * `timeoutMs`, each attempt waits at most that long (never longer than the configured timeout).
   */
  send(signed: SignedRequest, options?: SendOptions): Promise<WechatPayResponse>;
  /** `sign`, then `send`. */
  call(request: WechatPayRequest, options?: SendOptions): Promise<WechatPayResponse>;
  /** RSA-OAEP with WeChat Pay's public key, for the identity fields of a request. */
  encrypt(plaintext: string): string;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: ContractRecord };

/**
 * Persistence of contract records. Implementations must make `claim` a single atomic
 * "create if absent" and `transition` a conditional write on the current state and version,
 * and must throw `DependencyUnavailable` when the store cannot be reached. Every write also places the record in
 * reconcile's queue at `firstCheckAt` (recheck.ts), or out of it, with no failed looks counted.
 */
export interface ContractStore {
  /** Creates the record unless the code exists; never overwrites. */
  claim(record: ContractRecord): Promise<ClaimResult>;
  get(outContractCode: string): Promise<ContractRecord | undefined>;
  /**
   * Applies `changes` (and `state`) if the stored record is still at `current.version`.
   * Returns the new record, or `undefined` when the condition failed (someone else moved it first).
   */
  transition(
    current: Pick<ContractRecord, 'out_contract_code' | 'version'>,
    changes: Partial<ContractRecord> & { state: ContractState; updated_at: string },
  ): Promise<ContractRecord | undefined>;
  /**
   * Writes `next` whole if the stored record is still at `next.version - 1` (or absent when `next.version` is 1).
   * Returns false when someone else wrote first.
   */
  save(next: ContractRecord): Promise<boolean>;
  /** Reconcile's queue: at most `limit` records due at `now` (RFC 3339), the longest due first; never a scan. */
  listDue(now: string, limit: number): Promise<ContractRecord[]>;
  /**
   * Moves a record in reconcile's queue after a look that wrote nothing: to `next.at` (epoch ms), or out of it,
   * with `next.attempts` failed looks. Only if still at `current.version` (false otherwise: whoever wrote it
   * placed it anew); the version is not changed, so no writer's condition is disturbed.
   */
  requeue(current: Pick<ContractRecord, 'out_contract_code' | 'version'>, next: Requeue): Promise<boolean>;
  /**
   * Places records written before reconcile's queue existed in it (a one-off migration, docs/deploy.md), at most
   * `limit` from `cursor` on. Returns how many, and the cursor to continue from (absent: none left).
   */
  enqueueUnqueued(limit: number, cursor?: string): Promise<{ queued: number; cursor?: string }>;
}

export type NotificationOutcome =
  /** Moved a contract forward (or created it from WeChat Pay's data). */
  | 'APPLIED'
  /** Verified and recorded, but would not move the contract forward (late or repeated news). */
  | 'STALE'
  /**
   * Verified but not understood (an event type or a contract state this release does not know): kept raw (still
   * encrypted) without expiry, announced, alarmed, until an operator applies it (unhandled.ts).
   */
  | 'UNHANDLED';

export interface NotificationRecord {
  /** WeChat Pay's notification id: the de-duplication key. */
  id: string;
  event_type: string;
  create_time: string;
  out_contract_code?: string;
  outcome: NotificationOutcome;
  /** Why an UNHANDLED notification was not applied. */
  reason?: string;
  /** The verified callback body as received (its resource is still encrypted: no plaintext personal data). */
  raw_body?: string;
  received_at: string;
  /** When an operator applied a notification kept UNHANDLED. */
  settled_at?: string;
  /**
   * Seconds since the epoch after which DynamoDB may delete the record (WeChat Pay stops retrying long before).
   * Absent on an UNHANDLED one: it is kept until applied.
   */
  expires_at_epoch?: number;
}

/**
 * Where each notification id is recorded at most once, atomically with the contract change it causes and the
 * events announced with it. `conflict` means the contract changed since it was read (re-read and try again).
 */
export interface NotificationStore {
  record(
    notification: NotificationRecord,
    next?: ContractRecord,
    announce?: OutboxEntry[],
  ): Promise<'recorded' | 'duplicate' | 'conflict'>;
  /** The UNHANDLED notifications, oldest first, `limit` at a time from `cursor`. */
  listUnhandled(
    limit: number,
    cursor?: string,
  ): Promise<{ notifications: NotificationRecord[]; cursor?: string }>;
  /**
   * Replaces an UNHANDLED notification by `settled` (its outcome now APPLIED or STALE), with the contract change,
   * atomically. `gone`: it is no longer UNHANDLED (applied meanwhile); `conflict`: the contract moved.
   */
  settle(settled: NotificationRecord, next?: ContractRecord): Promise<'recorded' | 'gone' | 'conflict'>;
}

/** An event kept to be published later: stored by its writer beside its change, or after a failed publish. */
export interface OutboxEntry {
  event: OutboxEvent;
  /** Publishes that failed so far. */
  attempts: number;
  /** RFC 3339: when the sweep publishes it (again). */
  next_attempt_at: string;
  created_at: string;
  last_error?: string;
}

/** The events still to be published: what makes a failed publish replayable long after the stream forgot it. */
export interface Outbox {
  /** Keeps `events` a publish could not deliver at `now`, for the sweep from `at` (epoch ms); once per event. */
  keep(events: OutboxEvent[], error: string, now: number, at: number): Promise<void>;
  /** Entries to publish at `now` (RFC 3339), the longest due first. */
  due(now: string, limit: number): Promise<OutboxEntry[]>;
  /** Published: forgotten. */
  remove(event: OutboxEvent): Promise<void>;
  /** Not published this time either: tried again from `at` (epoch ms). */
  postpone(entry: OutboxEntry, at: number, error: string): Promise<void>;
}

/** What the outbox publishes: a detail-type and a detail whose `event_id` is the same for every redelivery. */
export interface OutboxEvent {
  type: string;
  detail: { event_id: string };
}

export interface EventPublisher<E extends OutboxEvent = OutboxEvent> {
  /** Publishes all of `events` or throws; a retry may publish some of them again. */
  publish(events: E[]): Promise<void>;
}

/** One verified download of WeChat Pay's platform certificates. */
export interface PlatformCertificateSet {
  certificates: PlatformCertificate[];
  /** RFC 3339: when the listing was downloaded and verified. */
  downloaded_at: string;
}

/**
 * Where the last verified certificate set is kept for every function to read, so that a cold start does not
 * call WeChat Pay. Implementations throw `DependencyUnavailable` when the store cannot be reached.
 */
export interface PlatformKeyStore {
  load(): Promise<PlatformCertificateSet | undefined>;
  /** Replaces the stored set, unless a set downloaded later is already there (`'stale'`). */
  save(set: PlatformCertificateSet): Promise<'saved' | 'stale'>;
}
