// The sandbox cashier, /pay/{order_id} (livebuyd --payment-sandbox): the order, its amount and time to pay; 确认支付 asks
// the server for the signed payment notify of the order (POST /sandbox/pay/{id}) and posts it to /v1/payments/notify
// exactly as a payment provider would; 模拟支付失败 pays nothing. Then back to the shop (?back=/shop/{live_id}) or the
// group-buy.
'use strict';

(() => {
  const { api, errorOf, failure, yuan, duration, chinaDateTime, now, el, orderStatusNames } = LB;

  const TOKEN_KEY = 'livebuy.buyer_token';
  const $ = (id) => document.getElementById(id);
  const orderId = (/^\/pay\/(\d+)\/?$/.exec(location.pathname) || [])[1];

  let token = null;
  let order = null;
  let busy = false;
  let back = null; // where 返回商店 goes, from the address or the referrer (backUrl)

  // Where 返回商店 goes: ?back= when it is a page of this site, else the shop or group-buy page the buyer came from; else
  // (a link from a chat) null, until the order tells its group-buy (backFromOrder). The site's root is no page.
  // ?back= is read as the browser reads a link (tabs and newlines dropped, \ as /: "/\t/evil.example" is
  // //evil.example), and only a link that stays on this origin is kept, as its path, with one leading slash (a path of
  // "//evil.example", from "/.//evil.example", would be another site's address again).
  function backUrl() {
    const back = new URLSearchParams(location.search).get('back');
    if (back) {
      try {
        const u = new URL(back, location.origin);
        if (u.origin === location.origin) return u.pathname.replace(/^\/+/, '/') + u.search + u.hash;
      } catch (e) {
        // not a link at all
      }
    }
    try {
      const ref = new URL(document.referrer);
      if (ref.origin === location.origin && /^\/(shop|group)\/\d+\/?$/.test(ref.pathname)) return ref.pathname;
    } catch (e) {
      // no referrer
    }
    return null;
  }

  // A group-buy join goes back to its campaign's page. An order of a live item cannot: the order does not say which
  // live, and the button stays hidden rather than lead nowhere (history.back() could leave the site, to the chat).
  function backFromOrder(o) {
    return o.group_buy_id ? '/group/' + o.group_buy_id : null;
  }

  // url null: the buttons are hidden.
  function showBack(url) {
    for (const id of ['back', 'signin-back']) {
      const link = $(id);
      if (url) link.href = url;
      else link.removeAttribute('href');
      link.classList.toggle('hidden', !url);
      const [zh, en] = url && url.startsWith('/group/') ? ['返回团购', 'Back to the group-buy'] : ['返回商店', 'Back to the shop'];
      link.replaceChildren(zh + ' ', el('span', { class: 'en', text: en }));
    }
  }

  function showResult(outcome, title, lines) {
    const r = $('pay-result');
    r.className = 'result show ' + outcome;
    r.dataset.outcome = outcome;
    r.replaceChildren(el('strong', { text: title }), ...lines.map((l) => el('div', { text: l })));
  }

  function render() {
    const o = order;
    $('order-no').replaceChildren('订单 #' + o.id + ' ', el('span', { class: 'en', text: 'Order #' + o.id }));
    $('order-title').textContent = o.title;
    $('amount').textContent = yuan(o.amount_cents);
    $('qty').textContent = String(o.qty);
    $('status').replaceChildren(el('span', { class: 'status ' + o.status, text: (orderStatusNames[o.status] || o.status) + ' ' + o.status }));
    $('status').dataset.status = o.status;
    tick();
    const payable = o.status === 'reserved' && o.pay_by > now();
    $('pay-confirm').disabled = busy || !payable;
    $('pay-fail').disabled = busy || !payable;
  }

  function tick() {
    if (!order) return;
    const node = $('pay-by');
    if (order.status !== 'reserved' || !order.pay_by) {
      node.textContent = '—';
      return;
    }
    const left = order.pay_by - now();
    node.textContent = left > 0 ? '剩 ' + duration(left) + ' · ' + chinaDateTime(order.pay_by) : '已超时 Expired · ' + chinaDateTime(order.pay_by);
    if (left <= 0) {
      $('pay-confirm').disabled = true;
      $('pay-fail').disabled = true;
    }
  }

  async function load() {
    let answer;
    try {
      answer = await api('GET', '/v1/orders/' + orderId, { token });
    } catch (e) {
      answer = null;
    }
    if (!answer || answer.status !== 200) {
      $('order-title').textContent = answer && answer.status === 404 ? '找不到这个订单 No such order of yours' : '读取失败 Could not load ' + failure(answer);
      return false;
    }
    order = answer.body;
    if (!back) showBack(backFromOrder(order));
    render();
    return true;
  }

  // 确认支付: the server signs the provider's notify; this page posts it where a provider would.
  async function pay() {
    busy = true;
    render();
    showResult('pending', '支付中… Paying…', []);
    let answer = null;
    try {
      answer = await api('POST', '/sandbox/pay/' + orderId, { body: { outcome: 'success' }, token });
      if (answer.status === 200) {
        const res = await fetch(answer.body.url, { method: 'POST', headers: answer.body.headers, body: answer.body.body, cache: 'no-store' });
        const text = await res.text();
        answer = { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
      }
    } catch (e) {
      answer = null;
    }
    busy = false;
    await load();
    if (answer && answer.status === 200 && answer.body.status === 'paid' && !answer.body.payment) {
      showResult('paid', '支付成功 Paid ✓', ['金额 Amount ' + yuan(order.amount_cents), '商家会尽快发货 The co-op ships it soon.']);
      $('back').classList.add('primary');
    } else if (answer && answer.status === 200) {
      showResult('error', '付款将退回 The money goes back',
        ['订单状态 ' + (orderStatusNames[answer.body.status] || '') + ' ' + answer.body.status + ': 这笔付款会原路退回 this payment will be refunded.']);
    } else {
      showResult('error', '支付失败 Payment failed', [failure(answer)]);
    }
  }

  // 模拟支付失败: nothing is sent; the order stays reserved until its pay-by time.
  async function fail() {
    busy = true;
    render();
    let answer = null;
    try {
      answer = await api('POST', '/sandbox/pay/' + orderId, { body: { outcome: 'failure' }, token });
    } catch (e) {
      answer = null;
    }
    busy = false;
    await load();
    if (answer && answer.status === 200)
      showResult('failed', '支付失败 Payment failed', ['订单仍待付款, 可在截止前重试 The order is still reserved: try again before the pay-by time.']);
    else showResult('error', '出错了 Something went wrong', [failure(answer) || errorOf(answer).message]);
  }

  function start() {
    back = backUrl();
    showBack(back);
    token = localStorage.getItem(TOKEN_KEY); // the shop page's sign-in (same site)
    if (!orderId) {
      $('order-title').textContent = '地址里没有订单号 No order id in the address (/pay/{order_id})';
      return;
    }
    if (!token) {
      $('signin').classList.remove('hidden');
      $('cashier').classList.add('hidden');
      return;
    }
    $('pay-confirm').addEventListener('click', pay);
    $('pay-fail').addEventListener('click', fail);
    load();
    setInterval(tick, 1000);
  }

  start();
})();
