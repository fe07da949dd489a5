import { readFileSync } from 'node:fs';

/**
 * WeChat Pay's published test vectors (docs/protocol.md#test-vectors), copied verbatim with their sources into
 * test/fixtures/wechatpay-vectors.json: fixed inputs with known answers, from code nobody here wrote.
 */
const raw = JSON.parse(
  readFileSync(new URL('../../fixtures/wechatpay-vectors.json', import.meta.url), 'utf8'),
);

export const V1 = raw.V1_rsa_sha256_signature as {
  private_key_pkcs8_pem: string;
  message: string;
  signature_base64: string;
};

export const V2 = raw.V2_signed_callback as {
  platform_certificate_pem: string;
  certificate_serial_hex: string;
  headers: Record<
    'Wechatpay-Nonce' | 'Wechatpay-Timestamp' | 'Wechatpay-Serial' | 'Wechatpay-Signature',
    string
  >;
  body: string;
  verify_at_unix: number;
  apiv3_key_16_bytes: string;
  resource_plaintext: string;
};

export const V4 = raw.V4_aes_256_gcm as {
  key: string;
  nonce: string;
  associated_data: string;
  plaintext: string;
  ciphertext_base64: string;
};

export const V5 = raw.V5_aes_256_gcm_16_byte_iv as {
  key: string;
  iv: string;
  cases: { plaintext: string; associated_data: string; ciphertext_base64: string }[];
};
