import { escapeHtml, field, footer, layout } from './html';
import { SAMPLE } from './sample';

/* The provider's H5 page: a loan applicant enables auto-repayment. Submits to POST /contracts/h5-presign. */

/**
 * Runs in the browser. Masks the display name from the real name, converts yuan to fen, posts the body,
 * then either follows `redirect_url` (with our return_url appended) or shows the API's error next to the
 * form. Text is set through textContent only, so API messages cannot inject markup.
 */
const FORM_SCRIPT = `
(function () {
  'use strict';
  var form = document.getElementById('presign-form');
  var submit = document.getElementById('submit');
  var errorBox = document.getElementById('error');
  var done = document.getElementById('presigned');
  var api = form.getAttribute('data-api');
  var input = function (name) { return form.elements.namedItem(name); };

  // WeChat Pay's mask: every character but the last becomes *, or *** and the last one past 4 characters.
  function mask(name) {
    var chars = Array.from(name);
    if (chars.length === 0) return '';
    var last = chars[chars.length - 1];
    return chars.length > 4 ? '***' + last : '*'.repeat(chars.length - 1) + last;
  }
  function syncMask() { input('display_name').value = mask(input('real_name').value.trim()); }

  function toFen(yuan) {
    var m = /^(\\d{1,14})(?:\\.(\\d{1,2}))?$/.exec(yuan);
    if (!m) return undefined;
    return (m[1] + ((m[2] || '') + '00').slice(0, 2)).replace(/^0+(?=\\d)/, '');
  }
  function syncFen() {
    var fen = toFen(input('limit_yuan').value.trim());
    document.getElementById('f-limit_yuan-hint').textContent =
      fen === undefined ? '金额格式如 100.00 / an amount like 100.00' : '= ' + fen + ' 分 / fen';
  }

  function clearIssues() {
    errorBox.hidden = true;
    errorBox.textContent = '';
    form.querySelectorAll('.field').forEach(function (f) {
      f.classList.remove('bad');
      var p = f.querySelector('.issue');
      p.hidden = true;
      p.textContent = '';
    });
  }
  function markField(pointer, issue) {
    var f = form.querySelector('.field[data-pointer="' + CSS.escape(pointer) + '"]');
    if (!f) return;
    f.classList.add('bad');
    var p = f.querySelector('.issue');
    p.textContent = p.textContent ? p.textContent + '; ' + issue : issue;
    p.hidden = false;
  }
  function showError(status, body) {
    var head = document.createElement('p');
    var code = document.createElement('strong');
    code.id = 'error-code';
    code.textContent = body.code || 'HTTP ' + status;
    head.appendChild(code);
    head.appendChild(document.createTextNode(' ' + (body.message || '')));
    errorBox.appendChild(head);
    var issues = Array.isArray(body.errors) ? body.errors : [];
    if (issues.length > 0) {
      var list = document.createElement('ul');
      issues.forEach(function (e) {
        var item = document.createElement('li');
        var where = document.createElement('code');
        where.textContent = e.field || '/';
        item.appendChild(where);
        item.appendChild(document.createTextNode(' ' + e.issue));
        list.appendChild(item);
        markField(e.field, e.issue);
      });
      errorBox.appendChild(list);
    }
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: 'nearest' });
  }

  function body() {
    var fen = toFen(input('limit_yuan').value.trim());
    if (fen === undefined) {
      markField('/repayment_amount_limit', '请输入金额，如 100.00 / enter an amount in yuan, like 100.00');
      return undefined;
    }
    var b = {
      appid: input('appid').value.trim(),
      plan_id: input('plan_id').value.trim(),
      out_contract_code: input('out_contract_code').value.trim(),
      display_name: input('display_name').value,
      repayment_amount_limit: fen,
      real_identity: {
        identity_type: 'REAL_IDENTITY_TYPE_ID_CARD',
        identity_id: input('identity_id').value.trim(),
        real_name: input('real_name').value.trim()
      }
    };
    var day = input('repayment_day').value.trim();
    if (day !== '') b.repayment_day = Number(day);
    var sub = input('sub_mchid').value.trim();
    if (sub !== '') b.sub_mchid = sub;
    return b;
  }

  function withReturnUrl(url) {
    var back = location.origin + '/demo/result';
    return url + (url.indexOf('?') >= 0 ? '&' : '?') + 'return_url=' + encodeURIComponent(back);
  }

  input('real_name').addEventListener('input', syncMask);
  input('limit_yuan').addEventListener('input', syncFen);
  syncMask();
  syncFen();

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearIssues();
    var b = body();
    if (!b) return;
    submit.disabled = true;
    fetch(api + '/contracts/h5-presign', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(b)
    })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (json) {
          if ((res.status === 201 || res.status === 200) && json.redirect_url) {
            document.getElementById('presigned-code').textContent = json.out_contract_code;
            done.hidden = false;
            location.assign(withReturnUrl(json.redirect_url));
            return;
          }
          showError(res.status, json);
          submit.disabled = false;
        });
      })
      .catch(function (err) {
        showError(0, { code: 'NETWORK_ERROR', message: String(err) });
        submit.disabled = false;
      });
  });
})();
`;

export interface FormPageOptions {
  /** Origin of the API ('' = this page's origin). */
  apiBase: string;
  apiUrl: string;
  outContractCode: string;
}

const intro = `<div class="card">
<p>开通自动还款后，每月还款日将从您的微信支付账户自动扣款。<span class="en">Enable auto-repayment: each month's instalment is deducted from your WeChat Pay account on the repayment day.</span></p>
</div>`;

const presigned = `<div class="notice" id="presigned" hidden>
已预签约，协议号 <strong id="presigned-code"></strong>，正在前往微信支付签约页…
<span class="en">Pre-signed; opening WeChat Pay's signing page…</span>
</div>`;

function applicantFields(): string {
  return [
    field({
      name: 'real_name',
      pointer: '/real_identity/real_name',
      label: '姓名',
      labelEn: 'Real name',
      value: SAMPLE.realName,
    }),
    field({
      name: 'identity_id',
      pointer: '/real_identity/identity_id',
      label: '身份证号',
      labelEn: 'Resident ID number',
      value: SAMPLE.identityId,
    }),
    field({
      name: 'display_name',
      pointer: '/display_name',
      label: '展示姓名',
      labelEn: 'Display name (masked automatically)',
      value: '',
      readonly: true,
    }),
  ].join('\n');
}

function contractFields(code: string): string {
  return [
    field({
      name: 'plan_id',
      pointer: '/plan_id',
      label: '模板ID',
      labelEn: 'Plan ID',
      value: SAMPLE.planId,
    }),
    field({
      name: 'limit_yuan',
      pointer: '/repayment_amount_limit',
      label: '单次还款上限（元）',
      labelEn: 'Repayment limit per deduction (yuan)',
      value: SAMPLE.limitYuan,
      inputmode: 'decimal',
      hint: ' ',
    }),
    field({
      name: 'repayment_day',
      pointer: '/repayment_day',
      label: '还款日',
      labelEn: 'Repayment day of month (1–31, optional)',
      value: SAMPLE.repaymentDay,
      type: 'number',
      inputmode: 'numeric',
    }),
    field({
      name: 'out_contract_code',
      pointer: '/out_contract_code',
      label: '协议号',
      labelEn: 'Contract code (new on every page load; never reusable)',
      value: code,
    }),
    field({
      name: 'appid',
      pointer: '/appid',
      label: '服务商AppID',
      labelEn: 'Service provider AppID',
      value: SAMPLE.appid,
    }),
    field({
      name: 'sub_mchid',
      pointer: '/sub_mchid',
      label: '子商户号',
      labelEn: 'Sub-merchant id (optional)',
      value: SAMPLE.subMchid,
    }),
  ].join('\n');
}

export function formPage(options: FormPageOptions): string {
  const body = `${intro}
${presigned}
<div id="error" role="alert" hidden></div>
<form id="presign-form" class="card" novalidate data-api="${escapeHtml(options.apiBase)}">
${applicantFields()}
${contractFields(options.outContractCode)}
<button id="submit" type="submit">开通自动还款<span class="en">Enable auto-repayment</span></button>
</form>`;
  return layout({
    title: '开通自动还款',
    titleEn: 'Auto-repayment sign-up (demo lender page)',
    body,
    script: FORM_SCRIPT,
    footer: footer(options.apiUrl),
  });
}
