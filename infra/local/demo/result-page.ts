import { escapeHtml, footer, layout } from './html';
import { REPAYMENTS_SCRIPT, repaymentsCard } from './repayments-card';

/*
 * Where WeChat Pay's signing page returns to: polls GET /contracts/{code} until the state is final; a SIGNED
 * contract then shows its repayment card (repayments-card.ts).
 */

/** Runs in the browser; stops polling at a state that no longer changes on its own. */
const RESULT_SCRIPT = `
(function () {
  'use strict';
  var root = document.getElementById('contract');
  var api = root.getAttribute('data-api');
  var code = root.getAttribute('data-code');
  var stateEl = document.getElementById('state');
  var labelEl = document.getElementById('state-label');
  var noteEl = document.getElementById('poll-note');
  var FINAL = ['SIGNED', 'TERMINATED', 'EXPIRED', 'PRESIGN_FAILED'];
  var LABELS = {
    PRESIGNING: '预签约中 / Pre-signing',
    PRESIGNED: '已预签约，等待签约结果 / Pre-signed, waiting for the signing result',
    PRESIGN_UNKNOWN: '预签约结果未知，对账中 / Pre-sign outcome unknown, reconciling',
    PRESIGN_FAILED: '预签约失败 / Pre-sign failed',
    EXPIRED: '已过期 / Expired',
    SIGNED: '签约成功 / Signed',
    TERMINATED: '已解约 / Terminated'
  };
  var DETAILS = [
    ['contract_id', '协议ID'],
    ['contract_signed_time', '签约时间'],
    ['expires_at', '预签约有效期至'],
    ['contract_terminated_time', '解约时间'],
    ['updated_at', '更新时间']
  ];

  function show(record) {
    stateEl.textContent = record.state;
    stateEl.setAttribute('data-state', record.state);
    labelEl.textContent = LABELS[record.state] || '';
    var list = document.getElementById('details');
    list.textContent = '';
    DETAILS.forEach(function (d) {
      if (record[d[0]] === undefined) return;
      var dt = document.createElement('dt');
      dt.textContent = d[1] + ' / ' + d[0];
      var dd = document.createElement('dd');
      dd.textContent = String(record[d[0]]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
  }

  function poll() {
    fetch(api + '/contracts/' + encodeURIComponent(code), { cache: 'no-store' })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (json) {
          if (res.status === 200) {
            show(json);
            if (json.state === 'SIGNED') document.dispatchEvent(new CustomEvent('contract-signed'));
            if (FINAL.indexOf(json.state) >= 0) {
              // "Waiting for the callback" is over either way.
              var waiting = document.getElementById('agreed');
              if (waiting) waiting.hidden = true;
              noteEl.textContent = '最终状态，已停止刷新 / Final state; stopped polling';
              return;
            }
            noteEl.textContent = '每秒刷新 / Refreshing every second';
          } else {
            noteEl.textContent = (json.code || 'HTTP ' + res.status) + ': ' + (json.message || '');
            if (res.status === 404) return;
          }
          setTimeout(poll, 1000);
        });
      })
      .catch(function (err) {
        noteEl.textContent = String(err);
        setTimeout(poll, 1000);
      });
  }

  if (code) poll();
})();
`;

export interface ResultPageOptions {
  apiBase: string;
  apiUrl: string;
  outContractCode: string;
  /** `agreed` | `declined`, as WeChat Pay's signing page reported; anything else is shown as unknown. */
  result: string;
}

function resultNotice(result: string): string {
  if (result === 'declined') {
    return `<div class="notice" id="declined">您已拒绝签约。微信支付不会发送回调，协议保持 PRESIGNED，过期后由对账任务标记为 EXPIRED。
<span class="en">You declined. WeChat Pay sends no callback: the contract stays PRESIGNED until it expires and the reconcile job marks it EXPIRED.</span></div>`;
  }
  if (result === 'agreed') {
    return `<div class="notice" id="agreed">您已同意签约，等待微信支付回调确认…
<span class="en">You agreed; waiting for WeChat Pay's callback to confirm…</span></div>`;
  }
  return '';
}

function missingCode(): string {
  return `<div id="error" role="alert">缺少协议号 <span class="en">The link has no out_contract_code.</span></div>`;
}

export function resultPage(options: ResultPageOptions): string {
  const code = options.outContractCode;
  const body = `${resultNotice(options.result)}
${code ? '' : missingCode()}
<div class="card" id="contract" data-api="${escapeHtml(options.apiBase)}" data-code="${escapeHtml(code)}">
<dl>
<dt>协议号 / Contract code</dt><dd id="code">${escapeHtml(code)}</dd>
<dt>状态 / State</dt><dd><strong id="state" data-state="">…</strong><span class="en" id="state-label"></span></dd>
</dl>
<dl id="details"></dl>
<p class="hint" id="poll-note"></p>
</div>
${code ? repaymentsCard({ apiBase: options.apiBase, outContractCode: code }) : ''}
<p><a href="/demo">再签一份 / Start again</a></p>`;
  return layout({
    title: '签约结果',
    titleEn: 'Signing result',
    body,
    script: RESULT_SCRIPT + REPAYMENTS_SCRIPT,
    footer: footer(options.apiUrl),
  });
}
