import type { SimulatedContract } from './types';

/* The simulated WeChat signing pages: mobile first, Chinese with English subtitles. */

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Fen (integer string) as yuan: `1234567` -> `¥12,345.67`. */
export function formatYuan(fen: string | number): string {
  const value = BigInt(fen);
  const yuan = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `¥${yuan}.${(value % 100n).toString().padStart(2, '0')}`;
}

function layout(title: string, content: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>
body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#ededed;color:#111}
main{max-width:480px;margin:0 auto;padding:24px 16px;overflow-wrap:anywhere}
.card{background:#fff;border-radius:8px;padding:16px 20px;margin-bottom:16px}
h1{font-size:20px;margin:8px 0 4px}
.en{color:#888;font-size:13px;font-weight:normal}
dl{margin:0}dt{color:#888;font-size:13px;margin-top:12px}dd{margin:2px 0 0;font-size:16px}
button{display:block;width:100%;padding:12px;margin-top:12px;font-size:17px;border:0;border-radius:6px}
#agree{background:#07c160;color:#fff}#decline{background:#f2f2f2;color:#333}
.note{color:#888;font-size:13px}
</style>
</head>
<body><main>
${content}
</main></body>
</html>
`;
}

const hidden = (name: string, value: string | undefined) =>
  value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

export function signPage(c: SimulatedContract, token: string, returnUrl: string | undefined): string {
  const rows: [string, string, string][] = [
    ['用户', 'Name', c.display_name],
    ['模板ID', 'Plan ID', c.plan_id],
    ['单次还款上限', 'Repayment limit per deduction', formatYuan(c.repayment_amount_limit)],
    [
      '还款日',
      'Repayment day',
      c.repayment_day === undefined
        ? '未指定 / not set'
        : `每月${c.repayment_day}日 / day ${c.repayment_day} of each month`,
    ],
  ];
  if (c.trade_info) rows.push(['本次还款', 'Repay now', formatYuan(c.trade_info.deduct_amount)]);
  if (c.real_identity_verified) rows.push(['实名信息', 'Real-name check', '已核验 / verified']);
  const fields = `${hidden('token', token)}${hidden('return_url', returnUrl)}`;
  return layout(
    '开通自动还款',
    `<div class="card">
<h1>开通自动还款 <span class="en">Enable auto-repayment</span></h1>
<p class="note">协议号 / Contract code: ${escapeHtml(c.out_contract_code)}</p>
<dl>
${rows.map(([zh, en, v]) => `<dt>${zh} / ${en}</dt><dd>${escapeHtml(v)}</dd>`).join('\n')}
</dl>
</div>
<form method="post" action="/sign/agree">${fields}<button id="agree" type="submit">同意并签约 / Agree</button></form>
<form method="post" action="/sign/decline">${fields}<button id="decline" type="submit">拒绝 / Decline</button></form>
<p class="note">链接有效期至 / Link valid until ${escapeHtml(c.token_expires_at)}</p>`,
  );
}

/** Without a `return_url` (which redirects instead), an H5 `jump_info` says where WeChat would go next. */
export function resultPage(result: 'agreed' | 'declined', c: SimulatedContract): string {
  const heading =
    result === 'agreed'
      ? '签约成功 <span class="en">Contract signed</span>'
      : '已拒绝签约 <span class="en">Signing declined</span>';
  const link = c.jump_appid
    ? `<p class="note">将返回应用 / Returning to app ${escapeHtml(c.jump_appid)}</p>`
    : '';
  return layout(
    result === 'agreed' ? '签约成功' : '已拒绝签约',
    `<div class="card">
<h1 id="result" data-result="${result}">${heading}</h1>
<p class="note">协议号 / Contract code: ${escapeHtml(c.out_contract_code)}</p>
${link}
</div>`,
  );
}

export function errorPage(title: string, titleEn: string, message: string): string {
  return layout(
    title,
    `<div class="card">
<h1 id="error">${escapeHtml(title)} <span class="en">${escapeHtml(titleEn)}</span></h1>
<p>${escapeHtml(message)}</p>
</div>`,
  );
}
