import { randomBytes, randomUUID } from 'node:crypto';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { aesGcmEncrypt, chinaTime, newRequestId, randomAlnum, rsaSign, signatureMessage } from './crypto';
import type { Signer } from './keys';
import type { CallbackAttempt, CallbackDelivery } from './types';

/** WeChat Pay waits 5 s for an answer, whatever the time compression. */
const ANSWER_TIMEOUT_MS = 5000;
const MAX_SENDS = 15;
const CREDIT_REPAYMENT = 'credit_repayment';

/** Credit-repayment retry schedule: 10s ×3, 30s ×3, then 300s until 15 sends. */
export function defaultSchedule(timeScale: number): number[] {
  const seconds = [10, 10, 10, 30, 30, 30, ...Array<number>(MAX_SENDS - 7).fill(300)];
  return seconds.map((s) => Math.round(s * 1000 * timeScale));
}

export interface CallbackDeps {
  signer: () => Signer;
  apiV3Key: Buffer;
  /** Clock for `Wechatpay-Timestamp`. */
  signatureNow: () => number;
  /** Clock for the envelope's `create_time`. */
  businessNow: () => number;
  /** Delays between sends; `n` delays allow `n + 1` sends, capped at 15. */
  schedule: number[];
  log: (line: string) => void;
}

export interface Notification {
  url: string;
  outContractCode: string;
  outTradeNo?: string;
  eventType: string;
  summary: string;
  payload: Record<string, unknown>;
  /** Default `credit_repayment`, as `original_type` too. */
  associatedData?: string;
  originalType?: string;
}

/** Signs, encrypts and delivers callbacks with WeChat Pay's retries, recording every attempt. */
export class CallbackSender {
  private readonly deliveries: CallbackDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inflight = new Set<ClientRequest>();
  private dropsLeft = 0;
  private closed = false;

  constructor(private readonly deps: CallbackDeps) {}

  /** The next `count` notifications are lost: recorded as `dropped`, never sent. */
  dropNext(count: number): void {
    this.dropsLeft = count;
  }

  /** Resolves after the first send (retries continue in the background). */
  async notify(n: Notification): Promise<CallbackDelivery> {
    const delivery = this.envelope(n, 'notification');
    if (this.closed) {
      delivery.state = 'failed';
      return structuredClone(delivery);
    }
    if (this.dropsLeft > 0) {
      this.dropsLeft--;
      delivery.state = 'dropped';
      this.deps.log(`callback ${n.eventType} ${delivery.id} for ${n.outContractCode} dropped on purpose`);
      return structuredClone(delivery);
    }
    await this.send(delivery, 1);
    return structuredClone(delivery);
  }

  /** One send whose signature is a deliberate `WECHATPAY/SIGNTEST/` probe; a correct receiver rejects it. */
  async probe(n: Notification): Promise<CallbackDelivery> {
    const delivery = this.envelope(n, 'probe');
    const ok = await this.attempt(delivery);
    delivery.state = ok ? 'delivered' : 'failed';
    return structuredClone(delivery);
  }

  list(): CallbackDelivery[] {
    return structuredClone(this.deliveries);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const req of this.inflight) req.destroy(new Error('simulator closed'));
  }

  private envelope(n: Notification, kind: CallbackDelivery['kind']): CallbackDelivery {
    const id = randomUUID();
    const nonce = randomAlnum(12);
    const associatedData = n.associatedData ?? CREDIT_REPAYMENT;
    const body = JSON.stringify({
      id,
      create_time: chinaTime(this.deps.businessNow()),
      resource_type: 'encrypt-resource',
      event_type: n.eventType,
      summary: n.summary,
      resource: {
        original_type: n.originalType ?? CREDIT_REPAYMENT,
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: aesGcmEncrypt(this.deps.apiV3Key, nonce, associatedData, JSON.stringify(n.payload)),
        associated_data: associatedData,
        nonce,
      },
    });
    const delivery: CallbackDelivery = {
      id,
      kind,
      event_type: n.eventType,
      url: n.url,
      out_contract_code: n.outContractCode,
      ...(n.outTradeNo ? { out_trade_no: n.outTradeNo } : {}),
      body,
      payload: n.payload,
      state: 'pending',
      attempts: [],
    };
    this.deliveries.push(delivery);
    return delivery;
  }

  private async send(delivery: CallbackDelivery, sendNo: number): Promise<void> {
    if (await this.attempt(delivery)) {
      delivery.state = 'delivered';
      return;
    }
    const maxSends = Math.min(MAX_SENDS, this.deps.schedule.length + 1);
    const delay = this.deps.schedule[sendNo - 1];
    if (sendNo >= maxSends || delay === undefined || this.closed) {
      delivery.state = 'failed';
      this.deps.log(`callback ${delivery.event_type} ${delivery.id} gave up after ${sendNo} sends`);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.send(delivery, sendNo + 1);
    }, delay);
    this.timers.add(timer);
  }

  /** A fresh timestamp, nonce and signature on every send; the body (and notification id) never changes. */
  private async attempt(delivery: CallbackDelivery): Promise<boolean> {
    const signer = this.deps.signer();
    const timestamp = String(Math.floor(this.deps.signatureNow() / 1000));
    const nonce = randomAlnum(32);
    const body = Buffer.from(delivery.body, 'utf8');
    const signature =
      delivery.kind === 'probe'
        ? `WECHATPAY/SIGNTEST/${randomBytes(192).toString('base64')}`
        : rsaSign(signer.privateKey, signatureMessage([timestamp, nonce], body));
    const attempt: CallbackAttempt = {
      at: new Date().toISOString(),
      request_id: newRequestId(),
      timestamp,
      nonce,
      serial: signer.serial,
      duration_ms: 0,
    };
    delivery.attempts.push(attempt);
    const started = performance.now();
    try {
      attempt.status = await this.post(delivery.url, body, {
        'Content-Type': 'application/json',
        'User-Agent': 'Mozilla/4.0',
        'Request-ID': attempt.request_id,
        'Wechatpay-Timestamp': timestamp,
        'Wechatpay-Nonce': nonce,
        'Wechatpay-Signature': signature,
        'Wechatpay-Serial': signer.serial,
        'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
      });
    } catch (err) {
      attempt.error = (err as Error).message;
    }
    attempt.duration_ms = Math.round(performance.now() - started);
    this.deps.log(
      `callback ${delivery.event_type} ${delivery.id} send ${delivery.attempts.length} -> ` +
        `${attempt.status ?? attempt.error} (${attempt.duration_ms} ms)`,
    );
    return attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300;
  }

  private post(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(target, {
        method: 'POST',
        headers: { ...headers, 'Content-Length': body.length },
        agent: false,
      });
      this.inflight.add(req);
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)),
        ANSWER_TIMEOUT_MS,
      );
      const done = () => {
        clearTimeout(timer);
        this.inflight.delete(req);
      };
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          done();
          resolve(res.statusCode ?? 0);
        });
        res.on('error', (err) => {
          done();
          reject(err);
        });
      });
      req.on('error', (err) => {
        done();
        reject(err);
      });
      req.end(body);
    });
  }
}
