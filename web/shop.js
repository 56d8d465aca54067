// The host's shop page, /shop/{live_id}: the live's items with flash price, a countdown to opening, the live stock
// count (Server-Sent Events from GET /v1/lives/{id}/stock, or polling GET /v1/lives/{id} every 2 s when the stream is
// not there), a quantity picker within the per-buyer limit and a buy button (POST /v1/orders with an Idempotency-Key);
// 我的订单, the buyer's orders (GET /v1/orders): pay (the sandbox cashier, when the server has one), cancel, ask for a
// refund, follow the refund and the parcel.
'use strict';

(() => {
  const { api, errorOf, failure, missing, say, yuan, duration, chinaDateTime, now, el, stockStream, sleep,
    orderStatusNames, refundStatusNames, BUYER_TOKEN_KEY, SHIP_TO_KEY, buyerToken, linkBuyerToken, startBuyer, buyerNotice,
    transient, attemptFor, sendAttempt } = LB;

  // The link's ?token=… leaves the address bar first of all, before any await (links get shared).
  const linkToken = linkBuyerToken();

  const POLL_MS = 2000;
  const STREAM_RETRY_MS = 15000;
  const AUTO_RETRIES = 3;

  const $ = (id) => document.getElementById(id);
  const liveId = (/^\/shop\/(\d+)\/?$/.exec(location.pathname) || [])[1] || new URLSearchParams(location.search).get('live');

  let token = null;
  let previousToken = null; // the sign-in a link's token replaced, until the server takes the new one
  const items = new Map(); // live item id -> {data, qty, attempt, busy, nodes}
  let pollTimer = null;
  let streamLive = false;

  // ---- the buyer's token: ?token=b1.… in the link, else remembered, else the demo sign-in form ------------------------

  // b: {token, user} (LB.buyerToken). previous: the remembered token a link's replaced; switched: another buyer's.
  function signIn(b, { previous = null, switched = false } = {}) {
    token = b.token;
    previousToken = previous;
    localStorage.setItem(BUYER_TOKEN_KEY, b.token);
    if (switched) forgetShipTo();
    $('buyer-label').textContent = '买家 Buyer #' + b.user;
    $('login').classList.add('hidden');
    $('signout-wrap').classList.remove('hidden');
    showOrders(false);
    showOrders(true);
  }

  function signOut(message) {
    token = null;
    previousToken = null;
    localStorage.removeItem(BUYER_TOKEN_KEY);
    $('buyer-label').textContent = '';
    $('signout-wrap').classList.add('hidden');
    $('login').classList.remove('hidden');
    $('login-msg').textContent = message || '';
    showOrders(false);
  }

  // A 401: the token is no good. One a link just put in place of another goes back to that one; else signed out.
  function refused(message) {
    const back = buyerToken(previousToken);
    if (back && back.token !== token) {
      signIn(back);
      buyerNotice(false, '链接中的令牌被拒绝，已恢复买家 #' + back.user + ' 的登录',
        "The link's token was refused: back to buyer #" + back.user);
      return;
    }
    signOut(message);
  }

  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const b = buyerToken($('login-token').value.trim());
    if (b) signIn(b);
    else $('login-msg').textContent = '令牌格式不对或已过期 Not a valid buyer token (b1.USER.EXPIRY.SIG), or expired';
  });
  // 退出登录 also forgets the ship-to: the next person on this phone does not see the address.
  $('signout').addEventListener('click', (e) => {
    e.preventDefault();
    signOut('');
    forgetShipTo();
  });

  // ---- ship-to, remembered in localStorage ----------------------------------------------------------------------------

  const shipFields = ['name', 'phone', 'address'];

  function loadShip() {
    let saved = {};
    try {
      saved = JSON.parse(localStorage.getItem(SHIP_TO_KEY) || '{}') || {};
    } catch (e) {
      saved = {};
    }
    for (const f of shipFields) $('ship-' + f).value = saved[f] || '';
    summarizeShip(true);
  }

  function forgetShipTo() {
    localStorage.removeItem(SHIP_TO_KEY);
    loadShip();
    $('ship').setAttribute('open', '');
    $('ship-msg').textContent = '';
  }

  function readShip() {
    const ship = {};
    for (const f of shipFields) ship[f] = $('ship-' + f).value.trim();
    return ship;
  }

  // fold: a complete ship-to folds the form (when the page loads). Not while the buyer types: the form folding as its
  // last field loses focus would move the page under the finger that is tapping 立即抢购, and the tap is lost.
  function summarizeShip(fold) {
    const s = readShip();
    $('ship-summary').textContent = s.name && s.phone && s.address ? '· ' + s.name + ' ' + s.phone : '';
    if (fold && s.name && s.phone && s.address) $('ship').removeAttribute('open');
  }

  $('ship-form').addEventListener('input', () => {
    localStorage.setItem(SHIP_TO_KEY, JSON.stringify(readShip()));
    $('ship-msg').textContent = '已保存 Saved';
  });
  $('ship-form').addEventListener('change', () => summarizeShip(false));
  $('ship-form').addEventListener('submit', (e) => e.preventDefault());

  // ---- items ----------------------------------------------------------------------------------------------------------

  function renderItem(data) {
    const it = { data, qty: 1, attempt: null, busy: false, nodes: {} };
    const n = it.nodes;
    n.stock = el('b', { text: '—' });
    n.stockBox = el('span', { class: 'stock', 'data-role': 'stock' }, '剩余 ', n.stock, ' 件', el('span', { class: 'en', text: 'left' }));
    n.bar = el('div', { style: 'width:0%' });
    n.countdown = el('div', { class: 'countdown', 'data-role': 'countdown' });
    n.minus = el('button', { type: 'button', 'aria-label': '减少 Fewer', text: '−', onclick: () => setQty(it, it.qty - 1) });
    n.plus = el('button', { type: 'button', 'aria-label': '增加 More', text: '+', onclick: () => setQty(it, it.qty + 1) });
    n.qty = el('output', { 'data-role': 'qty', text: '1' });
    n.buy = el('button', { class: 'buy', type: 'button', 'data-role': 'buy', onclick: () => buy(it) });
    n.result = el('div', { class: 'result', 'data-role': 'result', role: 'status' });
    n.card = el(
      'section',
      { class: 'card item', 'data-item-id': String(data.id) },
      data.photo_url ? el('img', { class: 'photo', 'data-role': 'photo', src: data.photo_url, alt: data.title }) : null,
      el('h2', { class: 'title', text: data.title }),
      el('div', { class: 'row' },
        el('span', {}, el('span', { class: 'price', 'data-role': 'price', text: yuan(data.price_cents) }),
          el('span', { class: 'en', text: '直播价 flash price' })),
        n.stockBox),
      el('div', { class: 'progress', title: '已抢 Taken' }, n.bar),
      n.countdown,
      el('div', { class: 'row' },
        el('span', {}, el('span', { class: 'qty' }, n.minus, n.qty, n.plus), ' ',
          el('span', { class: 'limit', 'data-role': 'limit', text: '限购 ' + data.per_buyer_limit + ' 件 · limit ' + data.per_buyer_limit })),
        n.buy),
      n.result
    );
    items.set(data.id, it);
    return it;
  }

  function maxQty(it) {
    const avail = it.data.available;
    return Math.max(1, Math.min(it.data.per_buyer_limit, avail > 0 ? avail : it.data.per_buyer_limit));
  }

  function setQty(it, q) {
    it.qty = Math.max(1, Math.min(maxQty(it), q));
    refreshItem(it);
  }

  function setAvailable(itemId, available) {
    const it = items.get(itemId);
    if (!it) return false;
    it.data.available = available;
    refreshItem(it);
    return true;
  }

  // closed (taken off air: it takes no more orders, whatever its stock and opening time), upcoming, sold_out, selling.
  function itemState(data) {
    if (data.closed) return 'closed';
    if (data.opens_at > now()) return 'upcoming';
    return data.available > 0 ? 'selling' : 'sold_out';
  }

  function refreshItem(it) {
    const { data, nodes: n } = it;
    const state = itemState(data);
    if (it.qty > maxQty(it)) it.qty = maxQty(it);
    n.stock.textContent = String(data.available);
    n.stockBox.dataset.available = String(data.available);
    n.stockBox.classList.toggle('low', state !== 'closed' && data.available <= Math.max(3, data.quota / 10));
    const taken = data.quota > 0 ? Math.min(100, Math.max(0, (100 * (data.quota - data.available)) / data.quota)) : 0;
    n.bar.style.width = taken.toFixed(1) + '%';
    n.qty.textContent = String(it.qty);
    // The quantity can be picked before the opening, not for an item that sells no more.
    const picking = state === 'selling' || state === 'upcoming';
    n.minus.disabled = !picking || it.qty <= 1;
    n.plus.disabled = !picking || it.qty >= maxQty(it);

    n.countdown.classList.toggle('open', state === 'selling');
    n.countdown.classList.toggle('ended', state === 'closed' || state === 'sold_out');
    if (state === 'upcoming')
      n.countdown.textContent = '距开抢 Opens in ' + duration(data.opens_at - now()) + ' · ' + chinaDateTime(data.opens_at) + ' 北京时间';
    else n.countdown.textContent = { closed: '已下架，不再接受订单 Off air', sold_out: '已抢光 Sold out', selling: '已开抢 On sale now' }[state];
    n.card.dataset.state = state;
    n.card.dataset.open = state === 'upcoming' ? '0' : '1';

    let label;
    if (it.busy) label = ['抢购中…', 'Placing…'];
    else if (state === 'closed') label = ['已下架', 'Off air'];
    else if (state === 'upcoming') label = ['未开始', 'Not open yet'];
    else if (state === 'sold_out') label = ['已售罄', 'Sold out'];
    else label = ['立即抢购', 'Buy'];
    if (n.buy.dataset.label !== label[1]) {
      n.buy.dataset.label = label[1];
      n.buy.replaceChildren(label[0] + ' ', el('span', { class: 'en', text: label[1] }));
    }
    n.buy.disabled = it.busy || state !== 'selling';
  }

  // ---- placing an order ---------------------------------------------------------------------------------------------

  function showResult(it, outcome, title, lines, retry) {
    const r = it.nodes.result;
    r.className = 'result show ' + outcome;
    r.dataset.outcome = outcome;
    // A line is its text, or [Chinese, English]: the server's English words come second, smaller.
    r.replaceChildren(el('strong', { text: title }),
      ...lines.map((l) => (Array.isArray(l) ? el('div', {}, l[0] + ' ', el('span', { class: 'en', text: l[1] })) : el('div', { text: l }))));
    if (retry)
      r.append(el('button', { class: 'btn small', type: 'button', 'data-role': 'retry', onclick: retry },
        '重试 ', el('span', { class: 'en', text: 'Retry' })));
  }

  async function buy(it) {
    if (it.busy) return;
    if (!token) {
      signOut('请先登录 Please sign in first');
      $('login').scrollIntoView({ behavior: 'smooth' });
      return;
    }
    const ship = readShip();
    if (!ship.name || !ship.phone || !ship.address) {
      $('ship').setAttribute('open', '');
      $('ship-msg').textContent = '请先填写收货信息 Please fill in where to ship';
      $('ship-msg').className = 'msg bad';
      showResult(it, 'error', '请填写收货信息', ['Please fill in the ship-to form below.']);
      $('ship').scrollIntoView({ behavior: 'smooth' });
      return;
    }
    $('ship-msg').className = 'msg ok';
    // One tap, one key: retries of this tap (automatic or the Retry button) send the same key and body. While the last
    // tap's outcome is unknown (no answer, 429, 5xx: it may have reserved), a tap with the same body is that tap again.
    it.attempt = attemptFor(it.attempt, { live_item_id: it.data.id, qty: it.qty, ship_to: ship });
    await send(it, it.attempt);
  }

  async function send(it, attempt) {
    it.busy = true;
    refreshItem(it);
    showResult(it, 'pending', '提交中… Placing the order…', []);
    const answer = await sendAttempt(attempt, (a) => api('POST', '/v1/orders', { body: a.body, token,
      headers: { 'Idempotency-Key': a.key } }), AUTO_RETRIES);
    it.busy = false;
    if (it.attempt === attempt) await report(it, attempt, answer);
    refreshItem(it);
    if (!streamLive) poll();
  }

  async function report(it, attempt, answer) {
    const retry = () => send(it, attempt);
    if (transient(answer)) {
      showResult(it, 'busy', '请重试 Busy — please retry',
        [answer ? '服务繁忙 (' + answer.status + ') The server is busy.' : '网络不通 No connection.'], retry);
      return;
    }
    const err = errorOf(answer);
    if (answer.status === 201 || answer.status === 200) {
      const o = answer.body;
      const lines = [
        '订单号 Order #' + o.id + ' · 数量 qty ' + (o.qty || attempt.body.qty),
        '金额 Amount ' + yuan(o.amount_cents),
      ];
      if (o.expires_at) lines.push('付款截止 Pay by ' + chinaDateTime(o.expires_at));
      showResult(it, 'reserved', '已抢到 Reserved ✓', lines);
      it.nodes.result.dataset.orderId = String(o.id);
      if (cashier) it.nodes.result.append(payLink(o.id));
      loadOrders(false);
      return;
    }
    if (err.code === 'sold_out') {
      showResult(it, 'sold_out', '已售罄 Sold out', [err.message && err.message !== 'sold out'
        ? ['库存不足，请减少数量', err.message] : ['下次早点来', 'Better luck next time']]);
      return;
    }
    if (err.code === 'limit_exceeded') {
      const held = err.held > 0 ? '，您已买 ' + err.held + ' 件' : '';
      showResult(it, 'limit_exceeded', '超出限购 Over the limit', [['每人限购 ' + it.data.per_buyer_limit + ' 件' + held, err.message]]);
      return;
    }
    // A 409 conflict says the item is off air or not open yet (or its SKU retired): the live, read again, tells which.
    if (answer.status === 409 && err.code === 'conflict') {
      await poll();
      const state = itemState(it.data);
      if (state === 'upcoming')
        showResult(it, 'not_open', '未开始 Not open yet', [['开抢时间 ' + chinaDateTime(it.data.opens_at) + ' 北京时间', 'opens then']]);
      else if (state === 'closed') showResult(it, 'closed', '已下架 Off air', [['这件商品已停止销售', err.message]]);
      else showResult(it, 'error', '暂不能购买 Not for sale now', [['请稍后再试', err.message]]);
      return;
    }
    if (answer.status === 401) {
      showResult(it, 'error', '请重新登录 Please sign in again', [['令牌无效或已过期', err.message]]);
      refused('令牌无效或已过期 The buyer token is invalid or expired');
      return;
    }
    showResult(it, 'error', '下单失败 Order failed (' + answer.status + ')', [['请稍后再试', err.message || err.code]]);
  }

  // ---- 我的订单: the buyer's orders, newest first ---------------------------------------------------------------------

  const ORDERS_PAGE = 20;
  const ORDERS_POLL_MS = 3000;
  const PAID_OR_FURTHER = ['paid', 'handed_off', 'shipped', 'delivered', 'collected'];
  const orders = new Map(); // order id -> {data, node}
  let ordersNext = null;
  let ordersShown = false;
  let cashier = false; // whether this server has the sandbox cashier (/pay/{id})
  let ordersTicks = 0;

  function showOrders(on) {
    ordersShown = on;
    $('orders').classList.toggle('hidden', !on);
    $('orders-link').classList.toggle('hidden', !on);
    if (!on) {
      orders.clear();
      $('orders-list').replaceChildren();
    } else loadOrders(false);
  }

  // The shop goes back here after paying.
  function payLink(id) {
    return el('a', { class: 'btn small', href: '/pay/' + id + '?back=' + encodeURIComponent(location.pathname), 'data-action': 'pay' },
      '去付款 ', el('span', { class: 'en', text: 'Pay' }));
  }

  // An order's refund, for people: what happens to the money.
  function refundLine(r) {
    const zh = refundStatusNames[r.status] || r.status;
    const lines = [zh + ' · ' + yuan(r.amount_cents)];
    if (r.status === 'rejected' && r.reason) lines.push('原因 ' + r.reason);
    return el('div', { class: 'refund ' + r.status, 'data-role': 'refund', 'data-refund-status': r.status },
      lines.join(' · '), el('span', { class: 'en', text: 'refund ' + r.status }));
  }

  function orderButton(zh, en, action, onclick, ghost) {
    return el('button', { class: 'btn small' + (ghost ? ' ghost' : ''), type: 'button', 'data-action': action, onclick },
      zh + ' ', el('span', { class: 'en', text: en }));
  }

  function orderNode(o) {
    const status = el('span', { class: 'status ' + o.status, 'data-role': 'status', text: (orderStatusNames[o.status] || o.status) + ' ' + o.status });
    const node = el('div', { class: 'order', 'data-order-id': String(o.id), 'data-status': o.status },
      el('div', { class: 'order-top' }, el('b', { class: 'order-title', text: o.title }), status),
      el('div', { class: 'muted', text: '订单 #' + o.id + ' · ' + o.qty + ' 件 · ' + yuan(o.amount_cents) + ' · ' + chinaDateTime(o.created_at) }));
    if (o.status === 'reserved' && o.pay_by)
      node.append(el('div', { class: 'countdown', 'data-role': 'pay-by', 'data-pay-by': String(o.pay_by) }));
    if (o.pickup_point)
      node.append(el('div', { class: 'order-line', 'data-role': 'pickup' }, '自提点 ', el('b', { text: o.pickup_point.name }), ' · ' + o.pickup_point.address));
    if (o.shipment && o.shipment.tracking_no)
      node.append(el('div', { class: 'order-line', 'data-role': 'tracking' }, '运单号 ', el('b', { text: o.shipment.tracking_no }),
        el('span', { class: 'en', text: 'tracking · ' + o.shipment.delivery_status })));
    if (o.refund) node.append(refundLine(o.refund));
    const actions = el('div', { class: 'order-actions' });
    if (o.status === 'reserved') {
      if (cashier) actions.append(payLink(o.id));
      actions.append(orderButton('取消订单', 'Cancel', 'cancel', (e) => cancelOrder(o.id, e.currentTarget), true));
    }
    if (PAID_OR_FURTHER.includes(o.status) && !o.refund)
      actions.append(orderButton('申请退款', 'Refund', 'refund', () => openRefund(o.id), true));
    const msg = el('div', { class: 'msg', 'data-role': 'order-msg' });
    node.append(actions, msg);
    return node;
  }

  function showOrder(o, atTop) {
    const old = orders.get(o.id);
    if (old && JSON.stringify(old.data) === JSON.stringify(o)) return old.node; // unchanged: keep what the buyer typed
    const node = orderNode(o);
    orders.set(o.id, { data: o, node });
    if (old) old.node.replaceWith(node);
    else if (atTop) $('orders-list').prepend(node);
    else $('orders-list').append(node);
    tickOrder(orders.get(o.id));
    return node;
  }

  function tickOrder(entry) {
    const c = entry.node.querySelector('[data-role=pay-by]');
    if (!c) return;
    const left = entry.data.pay_by - now();
    const [zh, en] = left > 0 ? ['付款剩余 ' + duration(left), 'left to pay'] : ['已超时未付款', 'not paid in time'];
    if (c.dataset.text === zh) return;
    c.dataset.text = zh;
    c.replaceChildren(zh, el('span', { class: 'en', text: en }));
  }

  function orderMessage(id, text, ok) {
    const entry = orders.get(id);
    if (entry) say(entry.node.querySelector('[data-role=order-msg]'), text, ok);
  }

  async function orderCall(method, path, body) {
    try {
      return await api(method, path, { body, token });
    } catch (e) {
      return null;
    }
  }

  // more: the next page; else the first page again, merged into what is shown (new orders on top).
  async function loadOrders(more) {
    if (!token || !ordersShown) return;
    let path = '/v1/orders?limit=' + ORDERS_PAGE;
    if (more && ordersNext !== null) path += '&after=' + ordersNext;
    const answer = await orderCall('GET', path);
    if (!answer || answer.status !== 200) {
      if (answer && answer.status === 401) refused('令牌无效或已过期 The buyer token is invalid or expired');
      else say('orders-msg', '读取订单失败 Could not load the orders ' + failure(answer), false);
      return;
    }
    previousToken = null; // the server took the token
    const list = answer.body.orders;
    if (more || orders.size === 0) {
      for (const o of list) showOrder(o, false);
      ordersNext = answer.body.next;
    } else {
      for (const o of list.slice().reverse()) showOrder(o, !orders.has(o.id));
    }
    $('orders-more').classList.toggle('hidden', ordersNext === null || ordersNext === undefined);
    say('orders-msg', orders.size === 0 ? '还没有订单 No orders yet' : '');
  }

  // 取消订单: the button is off while the request is out (a second tap sends nothing). A 409 says the order is not
  // reserved any more, not why: its state now tells whether it is cancelled already (a tap whose answer was lost, the
  // order cancelled on another phone), which is what was asked.
  async function cancelOrder(id, button) {
    if (button.disabled) return;
    button.disabled = true;
    const answer = await orderCall('POST', '/v1/orders/' + id + '/cancel');
    let cancelled = answer && answer.status === 200 ? answer.body : null;
    let current = null;
    if (answer && answer.status === 409) {
      current = await orderCall('GET', '/v1/orders/' + id);
      if (current && current.status === 200 && current.body.status === 'cancelled') cancelled = current.body;
    }
    if (cancelled) {
      showOrder(cancelled);
      orderMessage(id, '已取消 Cancelled', true);
      if (!streamLive) poll();
      return;
    }
    button.disabled = false;
    if (current && current.status === 200) showOrder(current.body); // paid or expired meanwhile: shown as it is
    orderMessage(id, '取消失败 Not cancelled ' + failure(answer), false);
  }

  // 申请退款: an optional reason, then POST /v1/orders/{id}/refund.
  function openRefund(id) {
    const entry = orders.get(id);
    if (!entry || entry.node.querySelector('form.refund-form')) return;
    const reason = el('input', { name: 'reason', maxlength: '200', placeholder: '退款原因 (选填) Reason (optional)', 'aria-label': '退款原因 Reason' });
    const form = el('form', { class: 'refund-form' }, reason,
      el('button', { class: 'btn small', type: 'submit', 'data-action': 'refund-submit' }, '提交申请 ', el('span', { class: 'en', text: 'Ask' })));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      form.querySelector('button').disabled = true;
      const text = reason.value.trim();
      const answer = await orderCall('POST', '/v1/orders/' + id + '/refund', text ? { reason: text } : {});
      if (answer && answer.status === 200) {
        showOrder(answer.body);
        const r = answer.body.refund;
        orderMessage(id, r && r.status === 'requested' ? '已提交, 等待合作社审核 Asked: the co-op decides' : '退款已受理 Refund accepted', true);
      } else {
        form.querySelector('button').disabled = false;
        const why = missing(answer) ? '这个服务器还不能退款 This server takes no refunds yet' : failure(answer);
        orderMessage(id, '申请失败 Not accepted ' + why, false);
      }
    });
    entry.node.querySelector('.order-actions').after(form);
    reason.focus();
  }

  // Money or goods on the way: the list is read again every few seconds until they arrive.
  function inFlight(o) {
    return o.status === 'refund_required' || (o.refund && ['pending', 'sent'].includes(o.refund.status));
  }

  function tickOrders() {
    orders.forEach(tickOrder);
    if (++ordersTicks % (ORDERS_POLL_MS / 250) !== 0) return;
    const busy = [...orders.values()].some((e) => inFlight(e.data));
    if (busy || ordersTicks % ((5 * ORDERS_POLL_MS) / 250) === 0) loadOrders(false);
  }

  // The sandbox cashier is served only by a server started with --payment-sandbox.
  async function findCashier() {
    try {
      const res = await fetch('/pay/', { method: 'HEAD', cache: 'no-store' });
      cashier = res.status === 200;
    } catch (e) {
      cashier = false;
    }
  }

  $('orders-refresh').addEventListener('click', () => loadOrders(false));
  $('orders-more').addEventListener('click', () => loadOrders(true));

  // ---- the live stock: SSE, else polling ------------------------------------------------------------------------------

  function setMode(mode) {
    const feed = $('feed');
    if (feed.dataset.mode === mode) return;
    feed.dataset.mode = mode;
    const labels = { sse: ['实时', 'Live'], poll: ['每2秒刷新', 'Polling'], offline: ['连接中断', 'Offline'] };
    const [zh, en] = labels[mode] || ['连接中', 'Connecting'];
    feed.replaceChildren(zh + ' ', el('span', { class: 'en', text: en }));
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }

  async function poll() {
    let answer;
    try {
      answer = await api('GET', '/v1/lives/' + liveId);
    } catch (e) {
      if (!streamLive) setMode('offline');
      return;
    }
    if (answer.status !== 200) return;
    if (!streamLive) setMode('poll');
    applyLive(answer.body);
  }

  function connectStream() {
    const stream = stockStream(liveId, (list) => {
      streamLive = true;
      setMode('sse');
      stopPolling();
      let unknown = false;
      for (const s of list) if (!setAvailable(s.item_id, s.available) || s.available <= 0) unknown = true;
      // An item put on air since the page loaded; or one at 0, which is sold out or was taken off air (the stream
      // says neither): the live's answer tells.
      if (unknown) poll();
    }, (closed) => {
      streamLive = false;
      startPolling();
      poll();
      if (closed) {
        // Not there (404 before the stream route existed) or refused: poll, and try the stream again later.
        setTimeout(connectStream, STREAM_RETRY_MS);
      }
    });
    if (stream === null) startPolling();
  }

  // ---- start ----------------------------------------------------------------------------------------------------------

  function applyLive(live) {
    const title = $('live-title');
    if (title.dataset.title !== live.title) {
      title.dataset.title = live.title;
      title.replaceChildren(live.title, ' ', el('span', { class: 'en', text: 'Live shop' }));
      document.title = live.title + ' · 直播间抢购';
    }
    const box = $('items');
    for (const data of live.items || []) {
      const it = items.get(data.id);
      if (it) {
        Object.assign(it.data, data);
        refreshItem(it);
      } else {
        box.append(renderItem(data).nodes.card);
        refreshItem(items.get(data.id));
      }
    }
    if ($('loading')) $('loading').remove();
    if (!live.items || live.items.length === 0)
      box.replaceChildren(el('section', { class: 'card muted', text: '还没有上架商品 Nothing on air yet' }));
  }

  async function start() {
    loadShip();
    // The cashier first: the orders' 去付款 buttons need to know whether there is one.
    await findCashier();
    startBuyer(linkToken, { signIn, signOut });
    if (!liveId) {
      $('items').replaceChildren(el('section', { class: 'card', text: '地址里没有直播间编号 No live id in the address (/shop/{id})' }));
      return;
    }
    let answer = null;
    for (let i = 0; answer === null || answer.status >= 500 || answer.status === 429; ++i) {
      try {
        answer = await api('GET', '/v1/lives/' + liveId);
      } catch (e) {
        answer = null;
      }
      if (answer && answer.status < 500 && answer.status !== 429) break;
      setMode('offline');
      await sleep(Math.min(5000, 500 * (i + 1)));
    }
    if (answer.status !== 200) {
      $('items').replaceChildren(el('section', { class: 'card', text: '找不到这个直播间 No such live (' + answer.status + ')' }));
      setMode('offline');
      return;
    }
    applyLive(answer.body);
    setInterval(() => {
      items.forEach(refreshItem);
      tickOrders();
    }, 250);
    connectStream();
  }

  start();
})();
