// The villager's group-buy page, /group/{id}: the produce and its price, 已参团 N / 成团 M with a progress bar, the
// countdown to the cut-off, the pickup station, joining with a quantity within the per-buyer limit (POST /v1/orders
// {group_buy_id} with an Idempotency-Key per tap, the same for its retries), the result once the campaign closes
// (成团, or 未成团 with the refund notice) and a link to share.
'use strict';

(() => {
  const { api, errorOf, failure, say, yuan, duration, chinaDateTime, now, el, BUYER_TOKEN_KEY, SHIP_TO_KEY,
    buyerToken, linkBuyerToken, startBuyer, buyerNotice, transient, attemptFor, sendAttempt } = LB;

  // The link's ?token=… leaves the address bar first of all (links get shared).
  const linkToken = linkBuyerToken();

  const POLL_MS = 3000;
  const AUTO_RETRIES = 3;

  const $ = (id) => document.getElementById(id);
  const groupId = (/^\/group\/(\d+)\/?$/.exec(location.pathname) || [])[1] || new URLSearchParams(location.search).get('id');

  let buyer = null; // {token, user}
  let previousToken = null; // the sign-in a link's token replaced, until the server takes the new one
  let gb = null; // the campaign as GET /v1/group-buys/{id} answers it
  let qty = 1;
  let attempt = null; // {key, body, settled} of the last tap, sent again by its retries
  let busy = false;
  let cashier = false; // whether this server has the sandbox cashier (/pay/{id})

  // ---- the buyer's token (the shop's: ?token=… in the link, else remembered, else the sign-in form) ---------------

  // b: {token, user} (LB.buyerToken). previous: the remembered token a link's replaced; switched: another buyer's.
  function signIn(b, { previous = null, switched = false } = {}) {
    buyer = b;
    previousToken = previous;
    localStorage.setItem(BUYER_TOKEN_KEY, b.token);
    if (switched) localStorage.removeItem(SHIP_TO_KEY); // the shop's ship-to was the other buyer's
    $('buyer-label').textContent = '买家 Buyer #' + b.user;
    $('login').classList.add('hidden');
    $('signout-wrap').classList.remove('hidden');
  }

  function signOut(message) {
    buyer = null;
    previousToken = null;
    localStorage.removeItem(BUYER_TOKEN_KEY);
    $('buyer-label').textContent = '';
    $('signout-wrap').classList.add('hidden');
    $('login').classList.toggle('hidden', !isOpen());
    $('login-msg').textContent = message || '';
  }

  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const b = buyerToken($('login-token').value.trim());
    if (b) signIn(b);
    else $('login-msg').textContent = '令牌格式不对或已过期 Not a valid buyer token (b1.USER.EXPIRY.SIG), or expired';
  });
  // 退出登录 also forgets the ship-to the shop saved: the next person on this phone does not see the address.
  $('signout').addEventListener('click', (e) => {
    e.preventDefault();
    signOut('');
    localStorage.removeItem(SHIP_TO_KEY);
  });

  // A 401: the token is no good. One a link just put in place of another goes back to that one; else signed out.
  function refused(message) {
    const back = buyerToken(previousToken);
    if (back && (!buyer || back.token !== buyer.token)) {
      signIn(back);
      buyerNotice(false, '链接中的令牌被拒绝，已恢复买家 #' + back.user + ' 的登录',
        "The link's token was refused: back to buyer #" + back.user);
      return;
    }
    signOut(message);
  }

  // ---- the campaign -------------------------------------------------------------------------------------------------

  function isOpen() {
    return !!gb && gb.status === 'open' && gb.closes_at > now();
  }

  function countdownText() {
    const left = gb.closes_at - now();
    if (gb.status !== 'open') return ['已截团 Closed at ' + chinaDateTime(gb.closes_at) + ' 北京时间', ''];
    if (left <= 0) return ['已截团，结果统计中… Closed, counting…', ''];
    return ['距截团 ' + duration(left), 'Closes in ' + duration(left) + ' · ' + chinaDateTime(gb.closes_at) + ' 北京时间'];
  }

  // What the closer decided on: the units joined at the cut-off (joined_qty goes on to count only joins not refunded).
  function atClose() {
    if (gb.joined_qty_at_close == null) return null;
    return el('div', { 'data-role': 'at-close' }, '截团时已参团 ' + gb.joined_qty_at_close + ' / 成团 ' + gb.min_qty + ' ' + gb.unit,
      el('span', { class: 'en', text: ' at the cut-off: ' + gb.joined_qty_at_close + ' of ' + gb.min_qty }));
  }

  // What became of the campaign, once it closed: 成团 (the goods go to the station) or 未成团 (money back).
  function outcome() {
    if (gb.status === 'succeeded')
      return el('div', { class: 'result reserved show', 'data-role': 'outcome' },
        el('strong', { text: '已成团 ✓ Succeeded' }),
        '货物将送到 ' + gb.pickup_point.name + '，到货后凭订单号领取。',
        el('span', { class: 'en', text: ' The goods go to the pickup station; collect them with your order number.' }), atClose());
    if (gb.status === 'failed')
      return el('div', { class: 'result error show', 'data-role': 'outcome' },
        el('strong', { text: '未成团 Not reached' }),
        '参团数量未达到成团数量。已付款将原路退回，未付款的订单已取消。',
        el('span', { class: 'en', text: ' The minimum was not reached: what you paid goes back the way it came, unpaid joins are cancelled.' }),
        atClose());
    return null;
  }

  // The countdown's text, put in place only when it changes. It ticks every second: it is a timer, whose changes a
  // screen reader does not read out (role=timer, aria-live=off inside the card's polite live region).
  function countdownNodes() {
    const [zh, en] = countdownText();
    return [zh, en ? el('span', { class: 'en', text: ' ' + en }) : null];
  }

  let drawn = ''; // the campaign (and whether it was open) as the card shows it, JSON
  let countdown = null; // the card's countdown element
  let countdownShown = ''; // and its text

  // The card: drawn again only when the campaign changed (or closed at its cut-off), not every second; tick() keeps
  // its countdown going. Returns whether it drew.
  function renderCampaign() {
    const state = JSON.stringify([gb, isOpen()]);
    if (state === drawn) return false;
    drawn = state;
    countdownShown = countdownText().join(' ');
    const p = gb.pickup_point;
    const pct = gb.min_qty > 0 ? Math.min(100, (100 * gb.joined_qty) / gb.min_qty) : 0;
    countdown = el('div', { class: 'countdown' + (isOpen() ? ' open' : ''), 'data-role': 'countdown', role: 'timer',
      'aria-live': 'off' }, countdownNodes());
    $('campaign').replaceChildren(
      el('div', { class: 'item' },
        gb.photo_url ? el('img', { class: 'photo', 'data-role': 'photo', src: gb.photo_url, alt: gb.title }) : null,
        el('div', { class: 'title', 'data-role': 'title', text: gb.title + ' ' + gb.sku_name }),
        el('div', { class: 'row' },
          el('span', {}, el('span', { class: 'price', 'data-role': 'price', text: yuan(gb.price_cents) }),
            el('span', { class: 'muted', text: ' / ' + gb.unit })),
          el('span', { class: 'status ' + gb.status, text: { open: '拼团中 open', succeeded: '已成团 succeeded', failed: '未成团 failed' }[gb.status] || gb.status })),
        el('div', { class: 'group-progress' },
          el('div', { 'data-role': 'progress' }, '已参团 ', el('b', { text: String(gb.joined_qty) }), ' / 成团 ', el('b', { text: String(gb.min_qty) }),
            ' ' + gb.unit, el('span', { class: 'en', text: ' joined ' + gb.joined_qty + ' of ' + gb.min_qty })),
          el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(gb.min_qty), 'aria-valuenow': String(gb.joined_qty) },
            el('div', { style: 'width:' + pct.toFixed(1) + '%' }))),
        countdown,
        el('div', { class: 'pickup' },
          el('div', {}, '自提点 ', el('span', { class: 'en', text: 'Pickup station' })),
          el('b', { 'data-role': 'pickup', text: p.name }),
          el('div', { class: 'muted', text: p.county + ' ' + p.township + ' ' + p.village }),
          el('div', { text: p.address })),
        outcome()));
    return true;
  }

  // Every second: the countdown's text; at the cut-off, the card and the join form (closed).
  function tick() {
    if (!gb) return;
    if (renderCampaign()) {
      renderJoin();
      return;
    }
    const text = countdownText().join(' ');
    if (text === countdownShown) return;
    countdownShown = text;
    countdown.replaceChildren(...countdownNodes());
  }

  // The join form, the sign-in and the quantity picker.
  function renderJoin() {
    $('join').classList.toggle('hidden', !isOpen());
    $('login').classList.toggle('hidden', !!buyer || !isOpen());
    $('limit').textContent = '每人限购 ' + gb.per_buyer_limit + ' ' + gb.unit + ' · limit ' + gb.per_buyer_limit;
    qty = Math.max(1, Math.min(qty, gb.per_buyer_limit));
    $('qty').textContent = String(qty);
    $('qty-minus').disabled = qty <= 1;
    $('qty-plus').disabled = qty >= gb.per_buyer_limit;
    $('join-button').disabled = busy || !isOpen();
  }

  async function load() {
    let answer;
    try {
      answer = await api('GET', '/v1/group-buys/' + groupId);
    } catch (e) {
      answer = null;
    }
    if (answer && answer.status === 200) {
      gb = answer.body;
      document.title = gb.title + ' · 社区团购 — livebuy';
      renderCampaign();
      renderJoin();
    } else if (!gb) {
      const text = answer && answer.status === 404 ? '没有这个团购 No such group-buy' : '加载失败 Could not load ' + failure(answer);
      $('campaign').replaceChildren(el('div', { class: 'msg bad', text }));
    }
  }

  // ---- joining ------------------------------------------------------------------------------------------------------

  function showResult(kind, title, lines, retry) {
    const box = $('join-result');
    box.className = 'result show ' + kind;
    box.dataset.kind = kind;
    box.replaceChildren(el('strong', { text: title }), ...lines.map((l) => el('div', { text: l })));
    if (retry) box.append(el('button', { class: 'btn small', type: 'button', onclick: retry, text: '重试 Retry' }));
    return box;
  }

  async function join() {
    if (busy) return;
    if (!buyer) {
      signOut('请先登录 Please sign in first');
      $('login').scrollIntoView({ behavior: 'smooth' });
      return;
    }
    // One tap, one key: retries of this tap (automatic or the Retry button) send the same key and body. While the last
    // tap's outcome is unknown (no answer, 429, 5xx: it may have joined), a tap with the same body is that tap again.
    attempt = attemptFor(attempt, { group_buy_id: gb.id, qty });
    await send(attempt);
  }

  async function send(a) {
    busy = true;
    renderJoin();
    showResult('pending', '提交中… Joining…', []);
    const answer = await sendAttempt(a, (x) => api('POST', '/v1/orders', { body: x.body, token: buyer.token,
      headers: { 'Idempotency-Key': x.key } }), AUTO_RETRIES);
    busy = false;
    renderJoin();
    if (attempt === a) await report(a, answer);
    await load();
  }

  async function report(a, answer) {
    if (transient(answer)) {
      showResult('busy', '请重试 Busy — please retry',
        [answer ? '服务繁忙 (' + answer.status + ') The server is busy.' : '网络不通 No connection.'], () => send(a));
      return;
    }
    const err = errorOf(answer);
    if (answer.status === 201) {
      previousToken = null; // the server took the token
      const o = answer.body;
      const box = showResult('reserved', '已参团 ✓ Joined', [
        '订单号 Order #' + o.id + ' · 数量 qty ' + o.qty + ' · 金额 ' + yuan(o.amount_cents),
        '请在 ' + chinaDateTime(o.expires_at) + ' 前付款 Pay by ' + chinaDateTime(o.expires_at),
      ]);
      box.dataset.orderId = String(o.id);
      if (cashier)
        box.append(el('a', { class: 'btn small', href: '/pay/' + o.id + '?back=' + encodeURIComponent(location.pathname), 'data-action': 'pay' },
          '去付款 ', el('span', { class: 'en', text: 'Pay' })));
      return;
    }
    if (err.code === 'limit_exceeded') {
      const held = err.held > 0 ? '，您已参团 ' + err.held + ' ' + gb.unit : '';
      showResult('limit_exceeded', '超出限购 Over the limit', ['每人限购 ' + gb.per_buyer_limit + ' ' + gb.unit + held + ' · ' + err.message]);
      return;
    }
    if (err.code === 'sold_out') {
      showResult('sold_out', '库存不足 Not enough left', [err.message]);
      return;
    }
    // A 409 conflict: the campaign closed, or its product stopped selling; the campaign, read again, tells which.
    if (answer.status === 409) {
      await load();
      if (!isOpen()) showResult('not_open', '已截团 Closed', ['这个团购已经截止 This group-buy has closed · ' + err.message]);
      else showResult('error', '暂不能参团 Not open to joins now', ['这件商品已停止销售 · ' + err.message]);
      return;
    }
    if (answer.status === 401) {
      showResult('error', '请重新登录 Please sign in again', [err.message]);
      refused('令牌无效或已过期 The buyer token is invalid or expired');
      return;
    }
    showResult('error', '参团失败 Not joined (' + answer.status + ')', [err.message || err.code]);
  }

  $('qty-minus').addEventListener('click', () => {
    qty = Math.max(1, qty - 1);
    renderJoin();
  });
  $('qty-plus').addEventListener('click', () => {
    qty = Math.min(gb.per_buyer_limit, qty + 1);
    renderJoin();
  });
  $('join-button').addEventListener('click', join);

  // ---- sharing: the page's own link, without a token ------------------------------------------------------------------

  const shareUrl = location.origin + '/group/' + groupId;
  $('share-url').value = shareUrl;
  $('share-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(shareUrl);
    } catch (e) {
      // No clipboard (plain http, an old browser): select the link so a long press copies it.
      $('share-url').select();
      say('share-msg', '请长按链接复制 Long-press the link to copy it');
      return;
    }
    say('share-msg', '已复制，发给邻居吧 Copied: send it to your neighbours', true);
  });

  async function findCashier() {
    try {
      cashier = (await fetch('/pay/', { method: 'HEAD', cache: 'no-store' })).status === 200;
    } catch (e) {
      cashier = false;
    }
  }

  // ---- start ----------------------------------------------------------------------------------------------------------

  if (!groupId) {
    $('campaign').replaceChildren(el('div', { class: 'msg bad', text: '链接里没有团购编号 The link names no group-buy' }));
    return;
  }
  startBuyer(linkToken, { signIn, signOut });
  findCashier();
  load();
  setInterval(tick, 1000);
  setInterval(load, POLL_MS);
})();
