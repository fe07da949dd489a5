import { randomBytes } from 'node:crypto';

/* The sample applicant the demo form starts with: plausible, syntactically valid, nobody in particular. */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** Appends the GB 11643 (ISO 7064 MOD 11-2) check character to 17 digits, so the sample passes validation. */
export function withCheckCharacter(first17: string): string {
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * (WEIGHTS[i] ?? 0), 0);
  return first17 + '10X98765432'.charAt(sum % 11);
}

export const SAMPLE = {
  realName: '张三丰',
  identityId: withCheckCharacter('11010519491231002'),
  appid: 'wxd678efh567hg6787',
  planId: '123',
  subMchid: '1000000109',
  limitYuan: '100.00',
  repaymentDay: 15,
};

/** Letters and digits only (WeChat Pay's rule), unique per page load: codes are never reusable. */
export function newContractCode(now = Date.now()): string {
  return `DEMO${now.toString(36).toUpperCase()}${randomBytes(5).toString('hex').toUpperCase()}`;
}
