import assert from 'node:assert/strict';
import { createDecipheriv, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  call,
  H5,
  newCode,
  presign,
  presignBody,
  raw,
  startFor,
  useSimulator,
  verifySigned,
  waitFor,
} from './harness';

describe('simulator: key rotation and certificate mode', () => {
  const s = useSimulator();
  const { m } = s;

  it('signs with the new key after a rotation and accepts only the current key id', async () => {
    const old = s.sim.wechatpayPublicKey();
    const { token } = await presign(s.sim, m, s.receiver.url);
    const rotated = s.sim.rotatePublicKey();
    assert.notEqual(rotated.id, old.id);
    assert.match(rotated.id, /^PUB_KEY_ID_\d+$/);
    assert.deepEqual(s.sim.wechatpayPublicKey(), rotated);

    const stale = await call(s.sim, m, 'POST', H5, presignBody(old.pem, s.receiver.url, newCode()), {
      serial: old.id,
    });
    assert.equal(stale.status, 400);
    assert.equal(stale.headers['wechatpay-serial'], rotated.id);
    assert.ok(verifySigned(rotated.pem, stale.headers, stale.text));
    assert.equal(verifySigned(old.pem, stale.headers, stale.text), false);

    await s.sim.agree(token);
    const delivery = s.sim.callbacks().at(-1);
    const got = await waitFor('callback', () => s.receiver.received.find((r) => r.body === delivery?.body));
    assert.equal(got.headers['wechatpay-serial'], rotated.id);
    assert.ok(verifySigned(rotated.pem, got.headers, got.body));

    const viaHttp = await raw(s.sim.url, 'POST', '/sandbox/rotate', {});
    assert.notEqual(viaHttp.json.id, rotated.id);
  });

  it('in certificate mode signs with a self-signed platform certificate and serves /v3/certificates', async () => {
    const none = await call(s.sim, m, 'GET', '/v3/certificates?algorithm_type=RSA');
    assert.equal(none.status, 404, 'public-key mode merchants have no platform certificate');

    s.sim.setMode('certificate');
    try {
      const [cert] = s.sim.platformCertificates();
      assert.ok(cert);
      assert.match(cert.serial, /^[0-9A-F]{40}$/);
      const x509 = new X509Certificate(cert.pem);
      assert.equal(x509.serialNumber, cert.serial);
      assert.ok(x509.verify(x509.publicKey), 'self-signed');
      assert.ok(new Date(x509.validTo).getTime() - Date.now() > 4 * 365 * 24 * 3600_000);

      const res = await call(s.sim, m, 'GET', '/v3/certificates?algorithm_type=RSA');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['wechatpay-serial'], cert.serial);
      assert.ok(verifySigned(cert.pem, res.headers, res.text));
      const [entry] = res.json.data as {
        serial_no: string;
        encrypt_certificate: { nonce: string; associated_data: string; ciphertext: string };
      }[];
      assert.equal(entry?.serial_no, cert.serial);
      const enc = entry?.encrypt_certificate;
      assert.ok(enc);
      const data = Buffer.from(enc.ciphertext, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', m.apiV3Key, Buffer.from(enc.nonce));
      decipher.setAAD(Buffer.from(enc.associated_data));
      decipher.setAuthTag(data.subarray(-16));
      const pem = Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]).toString();
      assert.equal(pem, cert.pem);

      const certPem = createPublicKey(cert.pem).export({ type: 'spki', format: 'pem' }).toString();
      const code = newCode();
      const viaCert = await call(s.sim, m, 'POST', H5, presignBody(certPem, s.receiver.url, code), {
        serial: cert.serial,
      });
      assert.equal(viaCert.status, 200, viaCert.text);
      assert.ok(verifySigned(cert.pem, viaCert.headers, viaCert.text));
      const token = new URL(String(viaCert.json.redirect_url)).searchParams.get('token') ?? '';
      await s.sim.agree(token);
      const delivery = s.sim.callbacks().find((d) => d.out_contract_code === code);
      const got = await waitFor('callback', () => s.receiver.received.find((r) => r.body === delivery?.body));
      assert.equal(got.headers['wechatpay-serial'], cert.serial);
      assert.ok(verifySigned(cert.pem, got.headers, got.body));
    } finally {
      s.sim.setMode('public-key');
    }
    const cert = s.sim.platformCertificates()[0];
    const afterwards = await call(
      s.sim,
      m,
      'POST',
      H5,
      presignBody(s.sim.wechatpayPublicKey().pem, s.receiver.url, newCode()),
      {
        serial: cert?.serial,
      },
    );
    assert.equal(afterwards.status, 400, 'certificate serials are refused outside certificate mode');
  });

  it('can start in certificate mode', async () => {
    const certSim = await startFor(m, { platform: { mode: 'certificate' } });
    try {
      const res = await call(certSim, m, 'GET', '/v3/certificates');
      assert.equal(res.status, 200);
      assert.equal(res.headers['wechatpay-serial'], certSim.platformCertificates()[0]?.serial);
    } finally {
      await certSim.close();
    }
  });
});
