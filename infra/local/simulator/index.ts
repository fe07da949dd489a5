import type { AddressInfo } from 'node:net';
import { RateLimits } from '../rate-limit';
import { MerchantAuth } from './auth';
import { BookingStore } from './bookings';
import { CallbackSender, defaultSchedule } from './callbacks';
import type { SimContext } from './context';
import { ContractStore } from './contracts';
import { DeductionStore, isOpen } from './deductions';
import { Faults } from './faults';
import { KeyStore } from './keys';
import { sendProbe } from './notifications';
import { PlanRegistry } from './plans';
import { setQuotas } from './quota';
import { collectOrder } from './repayment-api';
import { createSimulatorServer } from './server';
import { agree, decline } from './signing';
import type { RecordedRequest, Simulator, SimulatorOptions } from './types';
import { Wallets } from './wallets';

export type {
  DeductOrderState,
  LoanType,
  PlanTemplate,
  SimulatedDeductOrder,
  SimulatedScheduleRecord,
  Wallet,
} from './repayment-types';
export type {
  CallbackAttempt,
  CallbackDelivery,
  ContractState,
  Fault,
  PlatformMode,
  RecordedRequest,
  SimulatedContract,
  Simulator,
  SimulatorOptions,
  SubMerchantField,
} from './types';

/** Starts the WeChat Pay v3 credit-repayment simulator on loopback (by default on a free port). */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  if (options.apiV3Key.length !== 32) {
    throw new Error(`apiV3Key must be 32 bytes (AES-256), got ${options.apiV3Key.length}`);
  }
  const host = options.host ?? '127.0.0.1';
  const clock = options.clock ?? Date.now;
  const log = options.log ?? (() => {});
  let offsetMs = 0;
  let baseUrl = options.publicBaseUrl?.replace(/\/+$/, '') ?? '';
  const keys = new KeyStore(options.platform?.mode ?? 'public-key', options.publicKey, clock);
  const requests: RecordedRequest[] = [];
  const ctx: SimContext = {
    mchid: options.mchid,
    apiV3Key: options.apiV3Key,
    keys,
    store: new ContractStore(),
    plans: new PlanRegistry(options.plans ?? [], options.terminateNotifyUrl),
    bookings: new BookingStore(),
    deductions: new DeductionStore(),
    wallets: new Wallets(),
    faults: new Faults(),
    quotas: new RateLimits(),
    requests,
    appSubMerchantField: options.appSubMerchantField ?? 'sub_mchid',
    auth: new MerchantAuth({
      mchid: options.mchid,
      merchantSerialNo: options.merchantSerialNo,
      merchantPublicKey: options.merchantPublicKey,
      now: clock,
    }),
    callbacks: new CallbackSender({
      signer: () => keys.signer(),
      apiV3Key: options.apiV3Key,
      signatureNow: clock,
      businessNow: () => clock() + offsetMs,
      schedule: options.callbackSchedule ?? defaultSchedule(options.timeScale ?? 0.01),
      log,
    }),
    signatureNow: clock,
    businessNow: () => clock() + offsetMs,
    setClockOffset: (ms) => {
      offsetMs = ms;
    },
    baseUrl: () => baseUrl,
    log,
  };

  const server = createSimulatorServer(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!baseUrl) baseUrl = url;
  log(
    `WeChat Pay simulator listening on ${url} (${keys.currentMode()} mode, serial ${keys.signer().serial})`,
  );

  return {
    url,
    port,
    close: async () => {
      ctx.callbacks.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    wechatpayPublicKey: () => keys.wechatpayPublicKey(),
    rotatePublicKey: () => keys.rotate(),
    platformCertificates: () => keys.certificates().map(({ serial, pem }) => ({ serial, pem })),
    setMode: (mode) => keys.setMode(mode),
    contracts: () => ctx.store.all(),
    requests: () => structuredClone(requests),
    callbacks: () => ctx.callbacks.list(),
    injectFault: (fault) => ctx.faults.add(fault),
    setQuotas: (quotas) => setQuotas(ctx, quotas),
    agree: async (token) => {
      await agree(ctx, token);
    },
    decline: (token) => {
      decline(ctx, token);
    },
    sendProbe: (code) => sendProbe(ctx, code),
    setPlan: (plan) => {
      ctx.plans.set(plan);
    },
    scheduleRecords: () => ctx.bookings.all(),
    deductOrders: () => ctx.deductions.all(),
    setWallet: (openid, change) => ctx.wallets.set(openid, change),
    settleDeduction: async (outTradeNo) => {
      const order = ctx.deductions.get(outTradeNo);
      if (!order) throw new Error(`no deduct order with out_trade_no ${outTradeNo}`);
      if (!isOpen(order)) throw new Error(`deduct order ${outTradeNo} is already ${order.order_state}`);
      await collectOrder(ctx, order, true);
      return structuredClone(order);
    },
  };
}
