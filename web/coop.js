// The co-op dashboard, /coop: sign in with a merchant token (kept in sessionStorage), the SKUs with their stock
// counters (GET /v1/merchant/skus), restock (POST /v1/skus/{id}/restock), add a product (POST /v1/products), the
// orders (GET /v1/merchant/orders) and group-buy progress (GET /v1/group-buys/{id}; POST /v1/group-buys).
'use strict';

(() => {
  const { api, errorOf, yuan, cents, duration, dateTime, now, el } = LB;

  const TOKEN_KEY = 'livebuy.merchant_token';
  const GROUPS_KEY = 'livebuy.coop.group_buys';
  const PAGE = 100;
  const GROUP_REFRESH_MS = 5000;

  const $ = (id) => document.getElementById(id);
  let token = null;
  const skus = new Map(); // id -> sku
  let skusNext = null;
  let ordersNext = null;
  let groupTimer = null;

  function say(id, text, ok) {
    const m = $(id);
    m.textContent = text;
    m.className = 'msg ' + (ok === undefined ? '' : ok ? 'ok' : 'bad');
  }

  function failure(answer) {
    if (!answer) return '网络不通 No connection';
    const e = errorOf(answer);
    return '(' + answer.status + ' ' + (e.code || '') + ') ' + (e.message || '');
  }

  // An API call with the merchant's token; a 401 signs out.
  async function call(method, path, body) {
    let answer;
    try {
      answer = await api(method, path, { body, token });
    } catch (e) {
      return null;
    }
    if (answer.status === 401) signOut('令牌无效 The merchant token was refused');
    return answer;
  }

  // ---- sign-in --------------------------------------------------------------------------------------------------------

  async function signIn(t) {
    token = t;
    const answer = await call('GET', '/v1/merchant/skus?limit=' + PAGE);
    if (!answer || answer.status !== 200) {
      if (answer && answer.status === 403) signOut('这个令牌不是合作社或主播的 Not a co-op or host token');
      else if (answer && answer.status !== 401) signOut('登录失败 Sign-in failed ' + failure(answer));
      else if (!answer) signOut('网络不通 No connection');
      return false;
    }
    sessionStorage.setItem(TOKEN_KEY, t);
    $('login').classList.add('hidden');
    $('app').classList.remove('hidden');
    $('signout').classList.remove('hidden');
    $('who').replaceChildren('已登录 ', el('span', { class: 'en', text: 'Signed in' }));
    skus.clear();
    $('skus-table').tBodies[0].replaceChildren();
    showSkus(answer.body, false);
    renderGroups();
    return true;
  }

  function signOut(message) {
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('app').classList.add('hidden');
    $('login').classList.remove('hidden');
    $('signout').classList.add('hidden');
    $('who').replaceChildren('未登录 ', el('span', { class: 'en', text: 'Signed out' }));
    say('login-msg', message || '', false);
  }

  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    say('login-msg', '');
    await signIn($('login-token').value.trim());
  });
  $('signout').addEventListener('click', (e) => {
    e.preventDefault();
    signOut('');
  });

  // ---- tabs -----------------------------------------------------------------------------------------------------------

  function showTab(name) {
    for (const b of $('tabs').querySelectorAll('button')) b.classList.toggle('active', b.dataset.tab === name);
    for (const s of document.querySelectorAll('.tab')) s.classList.toggle('hidden', s.id !== 'tab-' + name);
    if (name === 'orders') loadOrders(false);
    if (name === 'skus') loadSkus();
    if (name === 'groups') {
      fillGroupForm();
      refreshGroups();
    }
    clearInterval(groupTimer);
    groupTimer = name === 'groups' ? setInterval(refreshGroups, GROUP_REFRESH_MS) : null;
  }

  $('tabs').addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (b) showTab(b.dataset.tab);
  });

  // ---- products and stock -------------------------------------------------------------------------------------------

  function skuRow(s) {
    const qty = el('input', { type: 'number', min: '1', step: '1', value: '10', 'aria-label': '补货数量 Restock qty' });
    const btn = el('button', { class: 'btn small', type: 'button', title: 'Restock' }, '补货 ', el('span', { class: 'en', text: 'Restock' }));
    btn.addEventListener('click', () => restock(s.id, qty, btn));
    const num = (v, role) => el('td', { class: 'num', 'data-role': role, text: String(v) });
    return el('tr', { 'data-sku-id': String(s.id) },
      el('td', { text: '#' + s.id }),
      el('td', { class: 'wrap' }, el('div', { text: s.title }),
        el('div', { class: 'muted', text: s.name + (s.unit ? ' · ' + s.unit : '') + (s.cold_chain ? ' · 冷链 cold chain' : '') })),
      el('td', { class: 'num', text: yuan(s.price_cents) }),
      num(s.stock, 'stock'), num(s.reserved, 'reserved'), num(s.sold, 'sold'), num(s.held, 'held'),
      el('td', { class: 'num', 'data-role': 'available' }, el('b', { text: String(s.available) })),
      el('td', {}, el('div', { class: 'restock' }, qty, btn)));
  }

  function showSkus(page, append) {
    const body = $('skus-table').tBodies[0];
    if (!append) body.replaceChildren();
    for (const s of page.skus) {
      skus.set(s.id, s);
      const row = skuRow(s);
      const old = body.querySelector('tr[data-sku-id="' + s.id + '"]');
      if (old) old.replaceWith(row);
      else body.append(row);
    }
    skusNext = page.next;
    $('skus-more').classList.toggle('hidden', page.next === null || page.next === undefined);
    if (body.rows.length === 0)
      body.append(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: '还没有商品，去“新增商品”添加 No products yet: add one' })));
  }

  async function loadSkus() {
    const answer = await call('GET', '/v1/merchant/skus?limit=' + PAGE);
    if (answer && answer.status === 200) {
      skus.clear();
      showSkus(answer.body, false);
    } else if (answer && answer.status !== 401) say('skus-msg', '读取失败 Could not load ' + failure(answer), false);
  }

  $('skus-refresh').addEventListener('click', loadSkus);
  $('skus-more').addEventListener('click', async () => {
    if (skusNext === null) return;
    const answer = await call('GET', '/v1/merchant/skus?limit=' + PAGE + '&after=' + skusNext);
    if (answer && answer.status === 200) showSkus(answer.body, true);
  });

  async function restock(id, input, btn) {
    const qty = Number(input.value);
    if (!Number.isInteger(qty) || qty < 1) {
      say('skus-msg', '补货数量要是正整数 The quantity must be a whole number above 0', false);
      return;
    }
    btn.disabled = true;
    const answer = await call('POST', '/v1/skus/' + id + '/restock', { qty });
    btn.disabled = false;
    if (answer && answer.status === 200) {
      const s = Object.assign(skus.get(id) || {}, answer.body);
      skus.set(id, s);
      document.querySelector('tr[data-sku-id="' + id + '"]').replaceWith(skuRow(s));
      say('skus-msg', '已补货 Restocked #' + id + ' +' + qty + ' → 库存 stock ' + s.stock, true);
    } else if (!answer || answer.status !== 401) say('skus-msg', '补货失败 Restock failed ' + failure(answer), false);
  }

  // ---- add a product ------------------------------------------------------------------------------------------------

  function skuFormRow() {
    const row = el('div', { class: 'sku-row' },
      el('div', {}, el('label', { text: '规格名称 Name' }), el('input', { name: 'sku-name', maxlength: '200', required: true, placeholder: '2.5kg 袋装' })),
      el('div', {}, el('label', { text: '价格(元) Price' }), el('input', { name: 'sku-price', inputmode: 'decimal', required: true, placeholder: '39.80' })),
      el('div', {}, el('label', { text: '库存 Stock' }), el('input', { name: 'sku-stock', type: 'number', min: '0', required: true, value: '100' })),
      el('div', {}, el('label', { text: '重量(克) Grams' }), el('input', { name: 'sku-weight', type: 'number', min: '0', required: true, value: '500' })),
      el('button', { class: 'btn ghost small', type: 'button', text: '删除', title: 'Remove', onclick: () => {
        if ($('add-skus').children.length > 1) row.remove();
      } }));
    return row;
  }

  function resetAddForm() {
    $('add-form').reset();
    $('add-skus').replaceChildren(skuFormRow());
  }

  $('add-sku').addEventListener('click', () => $('add-skus').append(skuFormRow()));

  $('add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const product = {
      title: $('add-title').value.trim(),
      unit: $('add-unit').value.trim(),
      origin: $('add-origin').value.trim(),
      cold_chain: $('add-cold').checked,
      skus: [],
    };
    for (const row of $('add-skus').children) {
      const v = (n) => row.querySelector('[name="' + n + '"]').value.trim();
      const price = cents(v('sku-price'));
      if (price === null) {
        say('add-msg', '价格格式不对 Price must be yuan like 39.80', false);
        return;
      }
      product.skus.push({ name: v('sku-name'), price_cents: price, stock: Number(v('sku-stock')), weight_grams: Number(v('sku-weight')) });
    }
    $('add-submit').disabled = true;
    const answer = await call('POST', '/v1/products', product);
    $('add-submit').disabled = false;
    if (answer && answer.status === 201) {
      say('add-msg', '已添加 Added: ' + product.title + ' (#' + answer.body.id + ')', true);
      resetAddForm();
      showTab('skus');
      say('skus-msg', '已添加商品 Added product “' + product.title + '”', true);
    } else if (!answer || answer.status !== 401) say('add-msg', '保存失败 Not saved ' + failure(answer), false);
  });

  // ---- orders ---------------------------------------------------------------------------------------------------------

  const statusNames = {
    reserved: '待付款', paid: '已付款', handed_off: '已交物流', shipped: '运输中', delivered: '已送达',
    expired: '已过期', cancelled: '已取消', refund_required: '待退款', refunded: '已退款',
  };

  function orderRow(o) {
    const where = o.ship_to
      ? o.ship_to.name + ' ' + o.ship_to.phone + ' · ' + o.ship_to.address
      : o.pickup_point_id ? '自提点 Pickup #' + o.pickup_point_id : '';
    const sku = skus.get(o.sku_id);
    const via = o.live_item_id ? '直播 live item #' + o.live_item_id : o.group_buy_id ? '团购 group-buy #' + o.group_buy_id : '';
    return el('tr', { 'data-order-id': String(o.id) },
      el('td', { text: '#' + o.id }),
      el('td', { class: 'wrap' }, el('div', { text: sku ? sku.title + ' ' + sku.name : '#' + o.sku_id }), el('div', { class: 'muted', text: via })),
      el('td', { class: 'num', text: String(o.qty) }),
      el('td', { class: 'num', text: yuan(o.amount_cents) }),
      el('td', {}, el('span', { class: 'status ' + o.status, text: (statusNames[o.status] || '') + ' ' + o.status })),
      el('td', { text: '#' + o.buyer_id }),
      el('td', { class: 'wrap', text: where }),
      el('td', { text: dateTime(o.created_at) }));
  }

  async function loadOrders(more) {
    const status = $('orders-status').value;
    let path = '/v1/merchant/orders?limit=' + PAGE + (status ? '&status=' + status : '');
    if (more && ordersNext !== null) path += '&after=' + ordersNext;
    const answer = await call('GET', path);
    if (!answer || answer.status !== 200) {
      if (!answer || answer.status !== 401) say('orders-msg', '读取失败 Could not load ' + failure(answer), false);
      return;
    }
    const body = $('orders-table').tBodies[0];
    if (!more) body.replaceChildren();
    for (const o of answer.body.orders) body.append(orderRow(o));
    ordersNext = answer.body.next;
    $('orders-more').classList.toggle('hidden', ordersNext === null || ordersNext === undefined);
    say('orders-msg', body.rows.length === 0 ? '还没有订单 No orders yet' : '共显示 ' + body.rows.length + ' 笔 Showing ' + body.rows.length);
  }

  $('orders-status').addEventListener('change', () => loadOrders(false));
  $('orders-refresh').addEventListener('click', () => loadOrders(false));
  $('orders-more').addEventListener('click', () => loadOrders(true));

  // ---- group-buys -----------------------------------------------------------------------------------------------------

  function trackedGroups() {
    try {
      const ids = JSON.parse(sessionStorage.getItem(GROUPS_KEY) || '[]');
      return Array.isArray(ids) ? ids.filter((x) => Number.isInteger(x) && x > 0) : [];
    } catch (e) {
      return [];
    }
  }

  function track(id) {
    const ids = trackedGroups();
    if (!ids.includes(id)) ids.unshift(id);
    sessionStorage.setItem(GROUPS_KEY, JSON.stringify(ids.slice(0, 50)));
  }

  function untrack(id) {
    sessionStorage.setItem(GROUPS_KEY, JSON.stringify(trackedGroups().filter((x) => x !== id)));
    renderGroups();
  }

  const groupStatus = { open: ['进行中', 'open'], succeeded: ['已成团', 'succeeded'], failed: ['未成团', 'failed'] };

  function groupCard(id, gb, error) {
    const card = el('div', { class: 'card', 'data-group-id': String(id), style: 'background:#fafafa' });
    const remove = el('button', { class: 'btn ghost small', type: 'button', text: '移除', title: 'Stop tracking', onclick: () => untrack(id) });
    if (!gb) {
      card.append(el('div', { class: 'row', style: 'display:flex;justify-content:space-between' },
        el('b', { text: '团购 Group-buy #' + id }), remove), el('div', { class: 'muted', text: error || '加载中 Loading…' }));
      return card;
    }
    const pct = gb.min_qty > 0 ? Math.min(100, (100 * gb.joined_qty) / gb.min_qty) : 0;
    const [zh, en] = groupStatus[gb.status] || [gb.status, gb.status];
    const left = gb.closes_at - now();
    const sku = skus.get(gb.sku_id);
    card.append(
      el('div', { style: 'display:flex;justify-content:space-between;gap:8px;align-items:center' },
        el('b', {}, '团购 #' + gb.id + ' ', el('span', { class: 'status ' + gb.status, 'data-role': 'status', text: zh + ' ' + en })),
        remove),
      el('div', { class: 'muted', text: (sku ? sku.title + ' ' + sku.name : 'SKU #' + gb.sku_id) + ' · 团购价 ' + yuan(gb.price_cents) +
        ' · 自提点 pickup #' + gb.pickup_point_id + ' · 每人限购 limit ' + gb.per_buyer_limit }),
      el('div', { class: 'progress' }, el('div', { style: 'width:' + pct.toFixed(1) + '%' })),
      el('div', { 'data-role': 'progress', text: '已参团 ' + gb.joined_qty + ' / 成团 ' + gb.min_qty + ' · joined ' + gb.joined_qty + ' of ' + gb.min_qty }),
      el('div', { class: 'muted', text: '截止 Closes ' + dateTime(gb.closes_at) + (gb.status === 'open' && left > 0 ? ' · 还剩 ' + duration(left) + ' left' : '') }));
    return card;
  }

  const groupData = new Map();

  function renderGroups() {
    const box = $('groups');
    const ids = trackedGroups();
    box.replaceChildren(...ids.map((id) => groupCard(id, groupData.get(id), null)));
    if (ids.length === 0) box.append(el('p', { class: 'muted', text: '输入团购编号查看进度，或在下方发起团购 Enter a group-buy id, or open one below' }));
  }

  async function refreshGroups() {
    const ids = trackedGroups();
    await Promise.all(ids.map(async (id) => {
      const answer = await call('GET', '/v1/group-buys/' + id);
      const card = () => $('groups').querySelector('[data-group-id="' + id + '"]');
      if (answer && answer.status === 200) {
        groupData.set(id, answer.body);
        if (card()) card().replaceWith(groupCard(id, answer.body, null));
      } else if (card()) card().replaceWith(groupCard(id, null, answer && answer.status === 404 ? '没有这个团购 No such group-buy' : failure(answer)));
    }));
  }

  $('track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = Number($('track-id').value.trim());
    if (!Number.isInteger(id) || id < 1) {
      say('track-msg', '编号是正整数 The id is a whole number', false);
      return;
    }
    say('track-msg', '');
    track(id);
    $('track-id').value = '';
    renderGroups();
    refreshGroups();
  });

  async function fillGroupForm() {
    const skuSelect = $('gb-sku');
    const chosen = skuSelect.value;
    skuSelect.replaceChildren(...Array.from(skus.values(), (s) => el('option', { value: String(s.id), text: '#' + s.id + ' ' + s.title + ' ' + s.name })));
    if (chosen) skuSelect.value = chosen;
    if (!$('gb-closes').value) {
      const t = new Date(Date.now() + 86400 * 1000);
      t.setMinutes(t.getMinutes() - t.getTimezoneOffset());
      $('gb-closes').value = t.toISOString().slice(0, 16);
    }
    const answer = await call('GET', '/v1/pickup-points?limit=200');
    if (answer && answer.status === 200) {
      const pointSelect = $('gb-point');
      const was = pointSelect.value;
      pointSelect.replaceChildren(...answer.body.pickup_points.map((p) =>
        el('option', { value: String(p.id), text: '#' + p.id + ' ' + p.name + '（' + p.county + p.township + p.village + '）' })));
      if (was) pointSelect.value = was;
    }
  }

  $('gb-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const price = cents($('gb-price').value);
    const closes = Math.floor(new Date($('gb-closes').value).getTime() / 1000);
    if (price === null) {
      say('gb-msg', '价格格式不对 Price must be yuan like 59.80', false);
      return;
    }
    if (!Number.isFinite(closes)) {
      say('gb-msg', '请选择截止时间 Choose when it closes', false);
      return;
    }
    const body = {
      sku_id: Number($('gb-sku').value),
      pickup_point_id: Number($('gb-point').value),
      price_cents: price,
      min_qty: Number($('gb-min').value),
      per_buyer_limit: Number($('gb-limit').value),
      closes_at: closes,
    };
    const answer = await call('POST', '/v1/group-buys', body);
    if (answer && answer.status === 201) {
      say('gb-msg', '已发起团购 Opened group-buy #' + answer.body.id, true);
      track(answer.body.id);
      renderGroups();
      refreshGroups();
    } else if (!answer || answer.status !== 401) say('gb-msg', '发起失败 Not opened ' + failure(answer), false);
  });

  $('pp-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = {};
    for (const f of ['name', 'county', 'township', 'village', 'address']) body[f] = $('pp-' + f).value.trim();
    const answer = await call('POST', '/v1/pickup-points', body);
    if (answer && answer.status === 201) {
      say('pp-msg', '已添加自提点 Added pickup point #' + answer.body.id, true);
      $('pp-form').reset();
      await fillGroupForm();
      $('gb-point').value = String(answer.body.id);
    } else if (!answer || answer.status !== 401) say('pp-msg', '保存失败 Not saved ' + failure(answer), false);
  });

  // ---- start ----------------------------------------------------------------------------------------------------------

  resetAddForm();
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
})();
