import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Aes, Rsa, Wechatpay } from 'wechatpay-axios-plugin';
import type { Simulator } from '../../../../../infra/local/simulator';
import {
  type Merchant,
  newCode,
  newMerchant,
  presign,
  type Receiver,
  residentId,
  startFor,
  startReceiver,
  waitFor,
} from './harness';

/** An SDK nobody here wrote talks to the simulator: signing, OAEP, response and callback verification agree. */
describe('simulator: against wechatpay-axios-plugin', () => {
  const m: Merchant = newMerchant();
  let sim: Simulator;
  let receiver: Receiver;
  let wxpay: Wechatpay;

  before(async () => {
    sim = await startFor(m);
    receiver = await startReceiver();
    const { id, pem } = sim.wechatpayPublicKey();
    wxpay = new Wechatpay({
      mchid: m.mchid,
      serial: m.serialNo,
      privateKey: m.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certs: { [id]: pem },
      baseURL: sim.url,
    });
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  it('presigns, signs and queries through the SDK, which verifies every answer', async () => {
    const { id, pem } = sim.wechatpayPublicKey();
    const wechatpayKey = createPublicKey(pem);
    const code = newCode();
    const presigned = await wxpay.chain('v3/credit-repayment/partner/contracts/h5-presign').post(
      {
        appid: 'wxd678efh567hg6787',
        plan_id: '123',
        out_contract_code: code,
        display_name: '*明',
        contract_notify_url: receiver.url,
        repayment_day: 1,
        repayment_amount_limit: '10000',
        real_identity: {
          identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
          identity_id: Rsa.encrypt(residentId(), wechatpayKey),
          real_name: Rsa.encrypt('李明', wechatpayKey),
        },
      },
      { headers: { 'Wechatpay-Serial': id } },
    );
    assert.equal(presigned.status, 200);
    const token =
      new URL((presigned.data as unknown as { redirect_url: string }).redirect_url).searchParams.get(
        'token',
      ) ?? '';
    await sim.agree(token);

    const delivery = sim.callbacks().find((d) => d.out_contract_code === code);
    const got = await waitFor('callback', () => receiver.received.find((r) => r.body === delivery?.body));
    const message = `${got.headers['wechatpay-timestamp']}\n${got.headers['wechatpay-nonce']}\n${got.body}\n`;
    assert.ok(Rsa.verify(message, String(got.headers['wechatpay-signature']), wechatpayKey));
    const { resource } = JSON.parse(got.body) as {
      resource: { ciphertext: string; nonce: string; associated_data: string };
    };
    const payload = JSON.parse(
      Aes.AesGcm.decrypt(
        resource.ciphertext,
        m.apiV3Key.toString('ascii'),
        resource.nonce,
        resource.associated_data,
      ),
    ) as Record<string, unknown>;
    assert.equal(payload.out_contract_code, code);

    const query = await wxpay.chain(`v3/credit-repayment/partner/contracts/${code}`).get();
    assert.equal(query.status, 200);
    assert.equal((query.data as { contract_id?: string }).contract_id, payload.contract_id);
  });

  it('is rejected by the SDK when the SDK trusts another key under that id', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const misconfigured = new Wechatpay({
      mchid: m.mchid,
      serial: m.serialNo,
      privateKey: m.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      certs: { [sim.wechatpayPublicKey().id]: stranger.export({ type: 'spki', format: 'pem' }).toString() },
      baseURL: sim.url,
    });
    const { code, token } = await presign(sim, m, receiver.url);
    await sim.agree(token);
    await assert.rejects(
      misconfigured.chain(`v3/credit-repayment/partner/contracts/${code}`).get(),
      /verif/i,
    );
  });
});
