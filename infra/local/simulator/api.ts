import { header, type IncomingCall } from './auth';
import type { Reply, SimContext } from './context';
import { queryView } from './contracts';
import { aesGcmEncrypt, chinaTime, randomAlnum } from './crypto';
import { invalidRequest, notFound, paramError, WechatError } from './errors';
import { parseJsonObject } from './fields';
import { notifyTerminated } from './notifications';
import { handleRepayments } from './repayment-api';
import type { SimulatedContract } from './types';
import { CONTRACT_CODE, validatePresign, validateTerminate } from './validate';

const CONTRACTS = '/v3/credit-repayment/partner/contracts';

/** Every /v3 call: merchant authentication first, then the endpoint. */
export async function handleV3(ctx: SimContext, call: IncomingCall): Promise<Reply> {
  await ctx.auth.check(call);
  const [path = '', search = ''] = call.url.split('?', 2);
  if (call.method === 'POST' && path === `${CONTRACTS}/h5-presign`) return presign(ctx, call, 'H5');
  if (call.method === 'POST' && path === `${CONTRACTS}/app-presign`) return presign(ctx, call, 'APP');
  if (call.method === 'POST' && path === `${CONTRACTS}/terminate`) return terminate(ctx, call);
  const repayment = handleRepayments(ctx, call, path, search);
  if (repayment) return repayment;
  if (call.method === 'GET' && path.startsWith(`${CONTRACTS}/`)) {
    return query(ctx, decodeURIComponent(path.slice(CONTRACTS.length + 1)));
  }
  if (call.method === 'GET' && path === '/v3/certificates')
    return certificates(ctx, new URLSearchParams(search));
  throw new WechatError(404, 'NOT_FOUND', `接口不存在: ${call.method} ${path} (not simulated)`);
}

/** Presign needs `Wechatpay-Serial` naming a key whose private half decrypts `real_identity`. */
function presign(ctx: SimContext, call: IncomingCall, channel: 'H5' | 'APP'): Reply {
  const serial = header(call, 'wechatpay-serial');
  if (!serial) {
    throw new WechatError(400, 'PARAM_ERROR', 'HTTP header缺少微信支付平台证书序列号(Wechatpay-Serial)', {
      field: 'Wechatpay-Serial',
      issue: 'missing',
      location: 'header',
    });
  }
  const key = ctx.keys.decryptionKey(serial);
  if (!key) {
    const known = ctx.keys.acceptedSerials().join(', ');
    throw paramError(
      'Wechatpay-Serial',
      `微信支付公钥ID或平台证书序列号不存在 (known: ${known})`,
      serial,
      'header',
    );
  }
  const subMerchantField = channel === 'APP' ? ctx.appSubMerchantField : 'sub_mchid';
  const input = validatePresign(parseJsonObject(call.body), channel, key, subMerchantField);
  const contract = ctx.store.presign(input, channel, ctx.businessNow());
  ctx.log(`presign ${channel} ${contract.out_contract_code} token expires ${contract.token_expires_at}`);
  return channel === 'H5'
    ? { status: 200, json: { redirect_url: `${ctx.baseUrl()}/sign?token=${contract.presign_token}` } }
    : { status: 200, json: { presign_token: contract.presign_token } };
}

/** WeChat Pay only knows contracts the user signed: presigned-but-unsigned codes answer 404 too. */
function signedContract(ctx: SimContext, code: string): SimulatedContract {
  const c = ctx.store.get(code);
  if (!c || c.state === 'PRESIGNED' || c.state === 'DECLINED') {
    throw notFound(`协议不存在: out_contract_code ${code} 没有已签约的协议`);
  }
  return c;
}

function query(ctx: SimContext, code: string): Reply {
  if (!CONTRACT_CODE.test(code)) {
    throw paramError('out_contract_code', '只能是1到64位数字和大小写字母', code, 'path');
  }
  return { status: 200, json: queryView(signedContract(ctx, code)) };
}

function terminate(ctx: SimContext, call: IncomingCall): Reply {
  const input = validateTerminate(parseJsonObject(call.body));
  const c = signedContract(ctx, input.out_contract_code);
  if (c.state !== 'EFFECTIVE') {
    throw invalidRequest(`协议状态不允许解约: out_contract_code ${c.out_contract_code} 已解约`);
  }
  ctx.store.terminate(c, input.contract_termination_remark, ctx.businessNow());
  ctx.log(`terminate ${c.out_contract_code}`);
  // After the answer is written, as WeChat Pay notifies asynchronously.
  setImmediate(() => void notifyTerminated(ctx, c));
  return { status: 200, json: { contract_info: queryView(c) } };
}

/** Certificate mode only: merchants on the public-key mode have no platform certificates. */
function certificates(ctx: SimContext, params: URLSearchParams): Reply {
  const algorithm = params.get('algorithm_type') ?? 'RSA';
  if (!['RSA', 'SM2', 'ALL'].includes(algorithm)) {
    throw paramError('algorithm_type', '取值不在枚举范围内(RSA, SM2, ALL)', algorithm, 'query');
  }
  if (ctx.keys.currentMode() !== 'certificate') {
    throw notFound('证书不存在: 该商户使用微信支付公钥模式 (public-key mode)');
  }
  const certs = algorithm === 'SM2' ? [] : ctx.keys.certificates();
  const data = certs.map((cert) => {
    const nonce = randomAlnum(12);
    return {
      serial_no: cert.serial,
      effective_time: chinaTime(cert.notBefore.getTime()),
      expire_time: chinaTime(cert.notAfter.getTime()),
      encrypt_certificate: {
        algorithm: 'AEAD_AES_256_GCM',
        nonce,
        associated_data: 'certificate',
        ciphertext: aesGcmEncrypt(ctx.apiV3Key, nonce, 'certificate', cert.pem),
      },
    };
  });
  return { status: 200, json: { data } };
}
