import { escapeHtml } from './html';

/*
 * The result page's repayment card, shown once the contract is SIGNED: the contract's bookings, a booking form
 * (POST /contracts/{code}/repayments), and per booking a button that moves the test clock to its date
 * (POST /local/clock) and one that deducts it (POST /repayments/{id}/deduct). It refreshes every second, so
 * the simulator's DEDUCTION_PAY is seen landing. Only the public API and the local stack's own routes are used.
 */

/** Runs in the browser. Text is set through textContent only, so API messages cannot inject markup. */
export const REPAYMENTS_SCRIPT = `
(function () {
  'use strict';
  var card = document.getElementById('repayments');
  var api = card.getAttribute('data-api');
  var code = card.getAttribute('data-code');
  var form = document.getElementById('booking-form');
  var list = document.getElementById('bookings');
  var clockEl = document.getElementById('clock');
  var errorEl = document.getElementById('repayment-error');
  var DAY_MS = 86400000;
  var BEIJING_MS = 8 * 3600000;
  var LABELS = {
    SCHEDULING: '预约中 / Booking',
    SCHEDULED: '已预约 / Booked',
    SCHEDULE_FAILED: '预约失败 / Booking refused',
    SCHEDULE_UNKNOWN: '预约结果未知，查询中 / Outcome unknown, querying',
    DEDUCTING: '扣款中 / Collecting',
    SUCCEEDED: '还款成功 / Repaid',
    FAILED: '扣款失败 / Deduction failed'
  };
  var known = [];
  var clockNow = Date.now();
  var started = false;

  function beijingDate(ms, days) {
    return new Date(ms + BEIJING_MS + (days || 0) * DAY_MS).toISOString().slice(0, 10);
  }
  function yuan(fen) {
    var s = String(fen || '0');
    while (s.length < 3) s = '0' + s;
    return s.slice(0, -2) + '.' + s.slice(-2);
  }
  function toFen(value) {
    var m = /^(\\d{1,14})(?:\\.(\\d{1,2}))?$/.exec(value.trim());
    if (!m) return value.trim();
    return (m[1] + ((m[2] || '') + '00').slice(0, 2)).replace(/^0+(?=\\d)/, '');
  }
  function newId(prefix) {
    var bytes = new Uint8Array(6);
    crypto.getRandomValues(bytes);
    return prefix + Date.now().toString(36).toUpperCase() +
      Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('').toUpperCase();
  }
  function call(method, path, body) {
    var init = { method: method, cache: 'no-store' };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    return fetch(api + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        return { status: res.status, body: json };
      });
    });
  }
  function showError(answer) {
    var b = answer.body || {};
    var text = (b.code || 'HTTP ' + answer.status) + ': ' + (b.message || '');
    (b.errors || []).forEach(function (e) { text += ' · ' + e.field + ' ' + e.issue; });
    errorEl.textContent = text;
    errorEl.setAttribute('data-code', b.code || '');
    errorEl.hidden = false;
  }
  function clearError() {
    errorEl.hidden = true;
    errorEl.textContent = '';
    errorEl.removeAttribute('data-code');
  }
  function act(promise) {
    clearError();
    return promise.then(function (answer) {
      if (answer.status >= 400) showError(answer);
      return refresh();
    });
  }

  function button(cls, text, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = cls;
    b.textContent = text;
    b.addEventListener('click', function () {
      b.disabled = true;
      onClick().finally(function () { b.disabled = false; });
    });
    return b;
  }
  function advanceTo(date) {
    // Seven in the morning of the booked date, Beijing time: the deduction is due, and the day's repayment-day run
    // (08:00) has not taken it yet, so the page's own deduct button is the one that deducts it.
    var seconds = Math.ceil((Date.parse(date + 'T07:00:00+08:00') - clockNow) / 1000);
    return act(call('POST', '/local/clock', { advance_s: Math.max(seconds, 1) }));
  }
  function deduct(id) {
    return act(call('POST', '/repayments/' + encodeURIComponent(id) + '/deduct', { out_trade_no: newId('D') }));
  }
  function row(record) {
    var li = document.createElement('li');
    li.className = 'booking';
    li.setAttribute('data-record', record.out_record_id);
    var head = document.createElement('p');
    var state = document.createElement('strong');
    state.className = 'booking-state';
    state.setAttribute('data-state', record.state);
    state.textContent = record.state;
    var label = document.createElement('span');
    label.className = 'en';
    label.textContent = LABELS[record.state] || '';
    head.appendChild(state);
    head.appendChild(label);
    li.appendChild(head);
    var orders = record.orders || [];
    var order = orders[orders.length - 1];
    var facts = [
      record.out_record_id,
      '¥' + yuan(record.repayment_amount) + ' · ' + record.repayment_date,
      order ? order.out_trade_no + ' ' + order.order_state : '',
      order && order.pay_success_amount ? '已还 / repaid ¥' + yuan(order.pay_success_amount) : ''
    ];
    var p = document.createElement('p');
    p.className = 'hint booking-facts';
    p.textContent = facts.filter(Boolean).join(' · ');
    li.appendChild(p);
    var due = beijingDate(clockNow) >= record.repayment_date;
    if (!due && record.state === 'SCHEDULED') {
      li.appendChild(button('advance', '拨到还款日 / Move the clock to ' + record.repayment_date, function () {
        return advanceTo(record.repayment_date);
      }));
    }
    if (due && (record.state === 'SCHEDULED' || record.state === 'FAILED')) {
      li.appendChild(button('deduct', '发起扣款 / Deduct', function () { return deduct(record.out_record_id); }));
    }
    return li;
  }

  function refresh() {
    return Promise.all([
      call('GET', '/local/clock'),
      call('GET', '/demo/bookings?out_contract_code=' + encodeURIComponent(code))
    ]).then(function (r) {
      if (r[0].status === 200) {
        clockNow = Date.parse(r[0].body.now);
        clockEl.textContent = new Date(clockNow + BEIJING_MS).toISOString().slice(0, 16).replace('T', ' ');
        // Once the clock passed the proposed date, propose the new tomorrow (the earliest date WeChat Pay books).
        var date = form.elements.namedItem('repayment_date');
        if (date.value <= beijingDate(clockNow)) date.value = beijingDate(clockNow, 1);
      }
      ((r[1].body && r[1].body.out_record_ids) || []).forEach(function (id) {
        if (known.indexOf(id) < 0) known.push(id);
      });
      return Promise.all(known.map(function (id) { return call('GET', '/repayments/' + encodeURIComponent(id)); }));
    }).then(function (answers) {
      list.textContent = '';
      answers.forEach(function (a) { if (a.status === 200) list.appendChild(row(a.body)); });
      document.getElementById('no-bookings').hidden = list.children.length > 0;
    });
  }
  function loop() {
    refresh().catch(function (err) { errorEl.textContent = String(err); errorEl.hidden = false; })
      .then(function () { setTimeout(loop, 1000); });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var get = function (name) { return form.elements.namedItem(name).value; };
    var body = {
      out_record_id: newId('R'),
      repayment_amount: toFen(get('amount_yuan')),
      min_repayment_amount: toFen(get('min_amount_yuan')),
      repayment_date: get('repayment_date').trim()
    };
    var submit = document.getElementById('book');
    submit.disabled = true;
    act(call('POST', '/contracts/' + encodeURIComponent(code) + '/repayments', body).then(function (answer) {
      if (answer.status === 200 || answer.status === 201) known.push(body.out_record_id);
      return answer;
    })).finally(function () { submit.disabled = false; });
  });

  // The result page's script announces the signature; bookings need a SIGNED contract.
  document.addEventListener('contract-signed', function () {
    if (started) return;
    started = true;
    card.hidden = false;
    call('GET', '/local/clock').then(function (a) {
      if (a.status === 200) clockNow = Date.parse(a.body.now);
      form.elements.namedItem('repayment_date').value = beijingDate(clockNow, 1);
      loop();
    });
  });
})();
`;

export function repaymentsCard(options: { apiBase: string; outContractCode: string }): string {
  const input = (name: string, label: string, labelEn: string, value: string) =>
    `<div class="field"><label for="f-${name}">${label}<span class="en">${labelEn}</span></label>
<input id="f-${name}" name="${name}" value="${escapeHtml(value)}" autocomplete="off"></div>`;
  return `<div class="card" id="repayments" hidden data-api="${escapeHtml(options.apiBase)}" data-code="${escapeHtml(options.outContractCode)}">
<h2>还款 <span class="en">Repayments</span></h2>
<p class="hint">测试时钟（北京时间）/ Test clock (Beijing): <span id="clock">…</span></p>
<form id="booking-form">
${input('amount_yuan', '还款金额（元）', 'Amount (yuan)', '50.00')}
${input('min_amount_yuan', '最低还款金额（元）', 'Minimum (yuan)', '10.00')}
${input('repayment_date', '还款日期', 'Repayment date (Beijing, from tomorrow to 14 days ahead)', '')}
<button id="book" type="submit">预约还款<span class="en">Book a repayment</span></button>
</form>
<div id="repayment-error" role="alert" hidden></div>
<p class="hint" id="no-bookings">暂无预约 / No bookings yet</p>
<ul id="bookings"></ul>
</div>`;
}
