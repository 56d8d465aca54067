// The co-op dashboard, /coop: sign in with a merchant token (kept in sessionStorage), the SKUs with their stock
// counters (GET /v1/merchant/skus) and under each the hosts' live items holding it (GET /v1/merchant/holds; 下架:
// POST /v1/live-items/{id}/close), restock (POST /v1/skus/{id}/restock), add a product (POST /v1/products), the
// orders (GET /v1/merchant/orders), the group-buys (GET /v1/group-buys: progress, pickup station, collected at the
// station; POST /v1/group-buys, the pickup point picked from a list) and the offers to hosts (POST /v1/offers, GET /v1/offers, POST /v1/offers/{id}/end).
// Each SKU's 管理 button opens the catalogue panel under it (catalogue.js: edit, stock corrections, ledger, retiring).
// Low stock is marked on its row and counted at the top of the SKU tab; under each SKU, where its units are: the hosts'
// live items and its open group-buys. Orders by status and date, and 导出 CSV: every page of the filter as one file.
'use strict';

(() => {
  const { failure, missing, say, yuan, cents, duration, chinaDateTime, now, toChinaInput, fromChinaInput, el } = LB;
  const { merchantSession, tabs, offersList, offerRow, transient, attemptFor, sendAttempt } = LB;

  const PAGE = 100;
  const GROUP_REFRESH_MS = 5000;

  const $ = (id) => document.getElementById(id);
  const skus = new Map(); // id -> sku
  let skusNext = null;
  let ordersNext = null;
  const holds = new Map(); // sku id -> its holds (live items on air), from GET /v1/merchant/holds
  const campaigns = new Map(); // sku id -> its open group-buys, from GET /v1/group-buys?status=open
  let groupTimer = null;
  let groupsNext = null;

  // ---- sign-in and tabs -----------------------------------------------------------------------------------------------

  const session = merchantSession({
    storage: sessionStorage,
    key: 'livebuy.merchant_token',
    // Resolves true, or the answer that refused the token (merchantSession: a 401/403 signs out, a busy server retries).
    check: async () => {
      const answer = await call('GET', '/v1/merchant/skus?limit=' + PAGE);
      if (!answer || answer.status !== 200) return answer;
      skus.clear();
      $('skus-table').tBodies[0].replaceChildren();
      showSkus(answer.body, false);
      loadHolds();
      return true;
    },
    onSignOut: () => {},
    forbidden: '这个令牌不是合作社或主播的 Not a co-op or host token',
  });
  const call = session.call;

  const SKU_COLUMNS = 9;
  const catalogue = LB.catalogue({
    call,
    onSku: (s) => redrawSku(Object.assign(skus.get(s.id) || {}, s)),
    // A product's title, unit or cold chain is shown in each of its SKUs' rows.
    onProduct: (p) => {
      for (const s of skus.values())
        if (s.product_id === p.id) {
          const own = p.skus.find((k) => k.id === s.id);
          redrawSku(Object.assign(s, { title: p.title, unit: p.unit, cold_chain: p.cold_chain }, own || {}));
        }
    },
  });

  const showTab = tabs((name) => {
    if (name === 'orders') loadOrders(false);
    if (name === 'skus') loadSkus();
    if (name === 'groups') {
      fillGroupForm();
      loadGroups(false);
    }
    if (name === 'offers') {
      fillOfferForm();
      offers.load(false);
    }
    if (name === 'refunds') loadRefunds(false);
    clearInterval(groupTimer);
    groupTimer = name === 'groups' ? setInterval(() => loadGroups(false), GROUP_REFRESH_MS) : null;
  });

  // ---- products and stock -------------------------------------------------------------------------------------------

  function skuRow(s) {
    const qty = el('input', { type: 'number', min: '1', step: '1', value: '10', 'aria-label': '补货数量 Restock qty' });
    const btn = el('button', { class: 'btn small', type: 'button', title: 'Restock' }, '补货 ', el('span', { class: 'en', text: 'Restock' }));
    btn.addEventListener('click', () => restock(s.id, qty, btn));
    const manage = el('button', { class: 'btn ghost small', type: 'button', 'data-role': 'manage' }, '管理 ',
      el('span', { class: 'en', text: 'Manage' }));
    manage.addEventListener('click', () => toggleManage(s.id, manage));
    // data-label: the column's name, shown beside the value where the table is stacked (a phone)
    const num = (v, role, label) => el('td', { class: 'num', 'data-role': role, 'data-label': label, text: String(v) });
    const low = lowStock(s);
    return el('tr', { 'data-sku-id': String(s.id), class: s.retired ? 'retired' : low ? 'low' : null, 'data-low': low ? '1' : null },
      el('td', { class: 'id', text: '#' + s.id }, low ? el('span', { class: 'status low', 'data-role': 'low-stock' },
        s.available === 0 ? '已售罄' : '库存紧张', el('span', { class: 'en', text: s.available === 0 ? 'Sold out' : 'Low' })) : null),
      el('td', { class: 'wrap' }, el('div', {}, s.title, s.retired ? el('span', { class: 'status retired', 'data-role': 'retired' },
        '已停售 ', el('span', { class: 'en', text: 'Retired' })) : null),
        el('div', { class: 'muted', text: s.name + (s.unit ? ' · ' + s.unit : '') + (s.cold_chain ? ' · 冷链 cold chain' : '') })),
      el('td', { class: 'num', 'data-label': '单价', text: yuan(s.price_cents) }),
      num(s.stock, 'stock', '库存'), num(s.reserved, 'reserved', '已预留'), num(s.sold, 'sold', '已售'), num(s.held, 'held', '直播锁定'),
      el('td', { class: 'num', 'data-role': 'available', 'data-label': '可售' }, el('b', { text: String(s.available) })),
      el('td', {}, el('div', { class: 'sku-actions' }, el('div', { class: 'restock' }, qty, btn), manage)));
  }

  // Low stock (docs/api.md, Web pages): at most LOW_UNITS available, or at most a tenth of the stock; sold out is low
  // too. A retired SKU sells no more: never low.
  const LOW_UNITS = 5;
  function lowStock(s) {
    return !s.retired && (s.available <= LOW_UNITS || s.available * 10 <= s.stock);
  }

  // The count of low SKUs at the top of the tab and on the tab itself.
  function showLowCount() {
    const low = Array.from(skus.values()).filter(lowStock);
    const box = $('skus-low');
    box.dataset.count = String(low.length);
    // With more SKUs than a page, the count is of those loaded so far (加载更多 loads the rest).
    const partial = skusNext !== null && skusNext !== undefined;
    box.replaceChildren(...(low.length === 0 ? [] : [
      el('b', { text: (partial ? '已加载的规格中 ' : '') + '库存紧张 ' + low.length + ' 个规格' }),
      el('span', { class: 'en', text: low.length + ' SKU' + (low.length > 1 ? 's' : '') + ' low on stock' + (partial ? ' (of those loaded)' : '') }),
      el('div', { class: 'muted', text: low.map((s) => '#' + s.id + ' ' + s.title + ' ' + s.name + ' 可售 ' + s.available).join('；') })]));
    $('tab-low').textContent = String(low.length);
    $('tab-low').classList.toggle('hidden', low.length === 0);
  }

  // Draws a SKU's row again where it is (its holds and panel rows stay under it).
  function redrawSku(s) {
    skus.set(s.id, s);
    const old = document.querySelector('tr[data-sku-id="' + s.id + '"]');
    if (old) old.replaceWith(skuRow(s));
    showLowCount();
  }

  // Opens the SKU's catalogue panel under it (below its holds), or closes it.
  async function toggleManage(id, button) {
    const open = document.querySelector('tr[data-manage-for="' + id + '"]');
    if (open) {
      open.remove();
      return;
    }
    button.disabled = true;
    const panel = await catalogue.open(skus.get(id), SKU_COLUMNS);
    button.disabled = false;
    const row = document.querySelector('tr[data-sku-id="' + id + '"]');
    if (!row || document.querySelector('tr[data-manage-for="' + id + '"]')) return;
    const holdRow = row.nextElementSibling && row.nextElementSibling.matches('.holds-row') ? row.nextElementSibling : null;
    (holdRow || row).after(panel);
  }

  // An open group-buy of a SKU, under its row: the units its joins take, its minimum, its station and cut-off.
  function campaignLine(gb) {
    const left = gb.closes_at - now();
    return el('div', { class: 'hold campaign', 'data-role': 'campaign', 'data-group-id': String(gb.id) },
      el('div', {},
        el('b', { text: '团购 #' + gb.id }), ' ', el('span', { class: 'muted', text: '自提点 ' + gb.pickup_point.name }),
        el('div', { 'data-role': 'campaign-figures', text: '团购价 ' + yuan(gb.price_cents) + ' · 已参团 joined ' + gb.joined_qty +
          ' / 成团 min ' + gb.min_qty + ' · 截止 closes ' + chinaDateTime(gb.closes_at) + (left > 0 ? '（还剩 ' + duration(left) + '）' : '') })),
      el('a', { class: 'btn ghost small', href: '/group/' + gb.id, target: '_blank', rel: 'noopener' }, '团购页 ', el('span', { class: 'en', text: 'Page' })));
  }

  // Where a SKU's units are, under its row: the live items holding them, one line each, then its open group-buys;
  // nothing when it has neither.
  function holdsRow(skuId) {
    const list = holds.get(skuId) || [];
    const open = campaigns.get(skuId) || [];
    if (list.length === 0 && open.length === 0) return null;
    return el('tr', { class: 'holds-row', 'data-holds-for': String(skuId) },
      el('td', { colspan: '9' }, el('div', { class: 'holds' }, list.map((h) => {
        const close = el('button', { class: 'btn ghost small', type: 'button', 'data-role': 'close-hold' },
          '下架 ', el('span', { class: 'en', text: 'Close' }));
        close.addEventListener('click', () => closeHold(h, close));
        return el('div', { class: 'hold', 'data-live-item-id': String(h.live_item_id) },
          el('div', {},
            el('b', { text: h.host_name }), ' ', el('span', { class: 'muted', text: '主播 host #' + h.host_id }),
            el('div', { class: 'muted', text: '直播 #' + h.live_id + ' ' + h.live_title + ' · 商品 item #' + h.live_item_id +
              (h.offer_id ? ' · 邀约 offer #' + h.offer_id : '') }),
            el('div', { 'data-role': 'hold-figures', text: '直播价 ' + yuan(h.price_cents) + ' · 数量 quota ' + h.quota + ' · 已售 sold ' + h.sold +
              ' · 待付款 unpaid ' + h.reserved + ' · 剩 left ' + h.available +
              (h.opens_at > now() ? ' · 开抢 opens ' + chinaDateTime(h.opens_at) : '') })),
          close);
      }), open.map(campaignLine))));
  }

  function showHolds(skuId) {
    const body = $('skus-table').tBodies[0];
    const old = body.querySelector('tr[data-holds-for="' + skuId + '"]');
    if (old) old.remove();
    const row = body.querySelector('tr[data-sku-id="' + skuId + '"]');
    const holdRow = holdsRow(skuId);
    if (row && holdRow) row.after(holdRow);
  }

  // Every page of a listing (path with its query, key the answer's array), grouped by sku_id into a Map; null when a
  // page could not be read (the answer given to failed(answer)).
  async function allBySku(path, key, failed) {
    const found = new Map();
    let after = null;
    do {
      const answer = await call('GET', path + (path.includes('?') ? '&' : '?') + 'limit=200' + (after ? '&after=' + after : ''));
      if (!answer || answer.status !== 200) {
        failed(answer);
        return null;
      }
      for (const x of answer.body[key]) {
        if (!found.has(x.sku_id)) found.set(x.sku_id, []);
        found.get(x.sku_id).push(x);
      }
      after = answer.body.next;
    } while (after);
    return found;
  }

  // Where each SKU's units are: every page of GET /v1/merchant/holds (the hosts' live items) and of the open group-buys
  // (a co-op's only: a host has none, and a server without a route leaves the rows as they are).
  async function loadHolds() {
    const [live, open] = await Promise.all([
      allBySku('/v1/merchant/holds', 'holds', (answer) => {
        if (answer && answer.status !== 401 && !missing(answer)) say('skus-msg', '直播锁定读取失败 Could not load holds ' + failure(answer), false);
      }),
      allBySku('/v1/group-buys?status=open', 'group_buys', (answer) => {
        if (answer && answer.status !== 401 && answer.status !== 403 && !missing(answer))
          say('skus-msg', '团购读取失败 Could not load group-buys ' + failure(answer), false);
      }),
    ]);
    const skuIds = new Set([...holds.keys(), ...campaigns.keys()]);
    for (const [map, found] of [[holds, live], [campaigns, open]]) {
      if (found === null) continue;
      map.clear();
      for (const [id, list] of found) {
        map.set(id, list);
        skuIds.add(id);
      }
    }
    for (const id of skuIds) showHolds(id);
  }

  async function closeHold(h, button) {
    button.disabled = true;
    const answer = await call('POST', '/v1/live-items/' + h.live_item_id + '/close');
    button.disabled = false;
    if (answer && answer.status === 200) {
      say('skus-msg', '已下架 ' + h.host_name + ' 的直播商品 #' + h.live_item_id + '，退回 ' + answer.body.released + ' 件 · Closed item #' +
        h.live_item_id + ', ' + answer.body.released + ' units returned', true);
      await loadSkus();
    } else if (!answer || answer.status !== 401) say('skus-msg', '下架失败 Not closed ' + failure(answer), false);
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
      showHolds(s.id);
    }
    skusNext = page.next;
    $('skus-more').classList.toggle('hidden', page.next === null || page.next === undefined);
    showLowCount();
    if (body.rows.length === 0)
      body.append(el('tr', {}, el('td', { colspan: '9', class: 'muted', text: '还没有商品，去“新增商品”添加 No products yet: add one' })));
  }

  async function loadSkus() {
    const answer = await call('GET', '/v1/merchant/skus?limit=' + PAGE);
    if (answer && answer.status === 200) {
      skus.clear();
      showSkus(answer.body, false);
      await loadHolds();
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
      redrawSku(s);
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

  // One Idempotency-Key per product sent, the same for its retries: the automatic ones, and Save pressed again on the
  // same form after an unclear result (no answer, 429, 5xx: it may have been made). A retry then never makes a second
  // product. A definite answer (2xx, another 4xx) ends it: the next Save is a new product with a new key.
  const PRODUCT_RETRIES = 2;
  let productAttempt = null; // {key, body, settled} of the last 保存, sent again while its outcome is unknown (LB.attemptFor)

  $('add-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const product = {
      title: $('add-title').value.trim(),
      unit: $('add-unit').value.trim(),
      origin: $('add-origin').value.trim(),
      description: $('add-description').value.trim(),
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
    productAttempt = attemptFor(productAttempt, product);
    $('add-submit').disabled = true;
    const answer = await sendAttempt(productAttempt, (a) => call('POST', '/v1/products', a.body, { 'Idempotency-Key': a.key }),
      PRODUCT_RETRIES, (busy) => say('add-msg', '服务器繁忙，稍后自动重试 Busy, retrying… ' + failure(busy)));
    $('add-submit').disabled = false;
    if (transient(answer)) {
      say('add-msg', '不确定是否已保存，请再点保存（不会重复添加） Not sure it was saved: press Save again, it will not add it twice ' +
        failure(answer), false);
      return;
    }
    if (answer && answer.status === 201) {
      say('add-msg', '已添加 Added: ' + product.title + ' (#' + answer.body.id + ')', true);
      resetAddForm();
      showTab('skus');
      say('skus-msg', '已添加商品 Added product “' + product.title + '”', true);
    } else if (!answer || answer.status !== 401) say('add-msg', '保存失败 Not saved ' + failure(answer), false);
  });

  // ---- orders ---------------------------------------------------------------------------------------------------------

  const statusNames = LB.orderStatusNames;

  // A card on a phone (table.stack): each cell with its column's name.
  function orderRow(o) {
    const where = o.ship_to
      ? o.ship_to.name + ' ' + o.ship_to.phone + ' · ' + o.ship_to.address
      : o.pickup_point ? '自提点 ' + o.pickup_point.name : o.pickup_point_id ? '自提点 Pickup #' + o.pickup_point_id : '';
    const sku = skus.get(o.sku_id);
    const via = o.live_item_id ? '直播 live item #' + o.live_item_id : o.group_buy_id ? '团购 group-buy #' + o.group_buy_id : '';
    return el('tr', { 'data-order-id': String(o.id) },
      el('td', { class: 'id', text: '#' + o.id }),
      el('td', { class: 'wrap' }, el('div', { text: sku ? sku.title + ' ' + sku.name : o.title || '#' + o.sku_id }), el('div', { class: 'muted', text: via })),
      el('td', { class: 'num', 'data-label': '数量', text: String(o.qty) }),
      el('td', { class: 'num', 'data-label': '金额', text: yuan(o.amount_cents) }),
      el('td', {}, el('span', { class: 'status ' + o.status, text: (statusNames[o.status] || '') + ' ' + o.status })),
      el('td', { 'data-label': '买家', text: '#' + o.buyer_id }),
      el('td', { class: 'wrap', text: where }),
      el('td', { 'data-label': '下单', 'data-role': 'placed', text: chinaDateTime(o.created_at) }));
  }

  // The filter of the orders tab as a query: status, and the dates (China time, docs/api.md: to takes its whole day).
  function ordersFilter() {
    const q = new URLSearchParams();
    for (const [name, id] of [['status', 'orders-status'], ['from', 'orders-from'], ['to', 'orders-to']])
      if ($(id).value) q.set(name, $(id).value);
    return q;
  }

  function datesInOrder() {
    const from = $('orders-from').value;
    const to = $('orders-to').value;
    if (from && to && from > to) {
      say('orders-msg', '开始日期不能晚于结束日期 The first day must not be after the last', false);
      return false;
    }
    return true;
  }

  // The filter may change while a page is on its way: only the answer to the latest request is shown.
  let ordersAsked = 0;

  async function loadOrders(more) {
    if (!datesInOrder()) return;
    const q = ordersFilter();
    q.set('limit', String(PAGE));
    if (more && ordersNext !== null) q.set('after', String(ordersNext));
    const asked = ++ordersAsked;
    const answer = await call('GET', '/v1/merchant/orders?' + q);
    if (asked !== ordersAsked) return;
    if (!answer || answer.status !== 200) {
      if (!answer || answer.status !== 401) say('orders-msg', '读取失败 Could not load ' + failure(answer), false);
      return;
    }
    const body = $('orders-table').tBodies[0];
    if (!more) body.replaceChildren();
    for (const o of answer.body.orders) body.append(orderRow(o));
    ordersNext = answer.body.next;
    $('orders-more').classList.toggle('hidden', ordersNext === null || ordersNext === undefined);
    say('orders-msg', body.rows.length === 0 ? '没有订单 No orders' : '共显示 ' + body.rows.length + ' 笔 Showing ' + body.rows.length);
  }

  // Where a CSV page's rows start: past its first line (the byte order mark and the header), which has no line break
  // inside quotes.
  function afterHeader(bytes) {
    for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i + 2;
    return bytes.length;
  }

  // The rows of CSV bytes (after the header): line breaks outside quotes.
  function csvRows(bytes) {
    let rows = 0;
    let quoted = false;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 34) quoted = !quoted;
      else if (bytes[i] === 10 && !quoted) rows++;
    }
    return rows;
  }

  // 导出 CSV: every page of the current filter (Accept: text/csv, pages of 200 followed by their Link rel="next"), one
  // file: the first page whole, the others without their byte order mark and header. A download of the page's own.
  async function exportOrders() {
    if (!datesInOrder()) return;
    const button = $('orders-export');
    const parts = [];
    let rows = 0;
    let path = '/v1/merchant/orders?' + ordersFilter();
    button.disabled = true;
    say('orders-msg', '正在导出… Exporting…');
    try {
      while (path) {
        const res = await fetch(path, { headers: { Accept: 'text/csv', Authorization: 'Bearer ' + session.token() }, cache: 'no-store' });
        if (res.status !== 200) {
          let body = null;
          try {
            body = await res.json();
          } catch (e) {
            body = null;
          }
          if (res.status === 401) session.signOut('请重新登录 Please sign in again');
          else say('orders-msg', '导出失败 Export failed ' + failure({ status: res.status, body }), false);
          return;
        }
        const bytes = new Uint8Array(await res.arrayBuffer());
        const page = parts.length === 0 ? bytes : bytes.subarray(afterHeader(bytes));
        rows += csvRows(parts.length === 0 ? bytes.subarray(afterHeader(bytes)) : page);
        parts.push(page);
        const next = /<([^>]*)>;\s*rel="next"/.exec(res.headers.get('Link') || '');
        path = next ? next[1] : null;
      }
    } catch (e) {
      say('orders-msg', '导出失败 Export failed ' + failure(null), false);
      return;
    } finally {
      button.disabled = false;
    }
    const from = $('orders-from').value;
    const to = $('orders-to').value;
    const name = 'livebuy-orders' + (from ? '-' + from : '') + (to ? '-to-' + to : '') + '.csv';
    const link = el('a', { href: URL.createObjectURL(new Blob(parts, { type: 'text/csv;charset=utf-8' })), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    say('orders-msg', '已导出 ' + rows + ' 笔订单 Exported ' + rows + ' orders: ' + name, true);
  }

  $('orders-status').addEventListener('change', () => loadOrders(false));
  $('orders-from').addEventListener('change', () => loadOrders(false));
  $('orders-to').addEventListener('change', () => loadOrders(false));
  $('orders-dates-clear').addEventListener('click', () => {
    $('orders-from').value = '';
    $('orders-to').value = '';
    loadOrders(false);
  });
  $('orders-refresh').addEventListener('click', () => loadOrders(false));
  $('orders-more').addEventListener('click', () => loadOrders(true));
  $('orders-export').addEventListener('click', exportOrders);

  // ---- group-buys -----------------------------------------------------------------------------------------------------

  const groupStatus = { open: ['进行中', 'open'], succeeded: ['已成团', 'succeeded'], failed: ['未成团', 'failed'] };

  // A campaign: what it sells at what price, its pickup station, its progress and cut-off, and once it has closed how
  // many of its orders were collected at the station; a link to the villagers' page.
  function groupCard(gb) {
    const pct = gb.min_qty > 0 ? Math.min(100, (100 * gb.joined_qty) / gb.min_qty) : 0;
    const [zh, en] = groupStatus[gb.status] || [gb.status, gb.status];
    const left = gb.closes_at - now();
    const collected = gb.collected === null || gb.collected === undefined ? null
      : el('div', { 'data-role': 'collected' }, '已领取 ', el('b', { text: String(gb.collected) }), ' · 待领取 ', el('b', { text: String(gb.not_collected) }),
        el('span', { class: 'en', text: ' collected ' + gb.collected + ' · not yet ' + gb.not_collected }));
    return el('div', { class: 'list-row group', 'data-group-id': String(gb.id) },
      el('div', {},
        el('div', {}, el('b', { text: '#' + gb.id + ' ' + gb.title + ' ' + gb.sku_name }), ' ',
          el('span', { class: 'status ' + gb.status, 'data-role': 'status', text: zh + ' ' + en })),
        el('div', { class: 'muted', 'data-role': 'station', text: '自提点 ' + gb.pickup_point.name + ' · ' + gb.pickup_point.village +
          ' · 团购价 ' + yuan(gb.price_cents) + '/' + gb.unit + ' · 每人限购 ' + gb.per_buyer_limit }),
        el('div', { class: 'progress' }, el('div', { style: 'width:' + pct.toFixed(1) + '%' })),
        el('div', { 'data-role': 'progress', text: '已参团 ' + gb.joined_qty + ' / 成团 ' + gb.min_qty + ' · joined ' + gb.joined_qty + ' of ' + gb.min_qty }),
        el('div', { class: 'muted', text: '截止 Closes ' + chinaDateTime(gb.closes_at) + (gb.status === 'open' && left > 0 ? ' · 还剩 ' + duration(left) + ' left' : '') }),
        collected),
      el('div', { class: 'actions' },
        el('a', { class: 'btn ghost small', href: '/group/' + gb.id, target: '_blank', rel: 'noopener' }, '团购页 ', el('span', { class: 'en', text: 'Page' }))));
  }

  async function loadGroups(more) {
    const status = $('groups-status').value;
    let path = '/v1/group-buys?limit=' + PAGE + (status ? '&status=' + status : '');
    if (more && groupsNext) path += '&after=' + groupsNext;
    const answer = await call('GET', path);
    if (!answer || answer.status !== 200) {
      if (answer && answer.status === 403) say('groups-msg', '只有合作社能发起团购 Only a co-op runs group-buys', false);
      else if (!answer || answer.status !== 401) say('groups-msg', '读取失败 Could not load ' + failure(answer), false);
      return;
    }
    const box = $('groups');
    if (!more) box.replaceChildren();
    for (const gb of answer.body.group_buys) box.append(groupCard(gb));
    groupsNext = answer.body.next;
    $('groups-more').classList.toggle('hidden', groupsNext === null || groupsNext === undefined);
    say('groups-msg', box.children.length === 0 ? '还没有团购，在下方发起 No group-buys yet: open one below' : '');
  }

  $('groups-status').addEventListener('change', () => loadGroups(false));
  $('groups-refresh').addEventListener('click', () => loadGroups(false));
  $('groups-more').addEventListener('click', () => loadGroups(true));

  async function fillGroupForm() {
    skuOptions($('gb-sku'));
    if (!$('gb-closes').value) $('gb-closes').value = toChinaInput(now() + 86400);
    const answer = await call('GET', '/v1/pickup-points?limit=200');
    if (answer && answer.status === 200) {
      const pointSelect = $('gb-point');
      const was = pointSelect.value;
      pointSelect.replaceChildren(...answer.body.pickup_points.map((p) =>
        el('option', { value: String(p.id), text: p.name + '（' + p.county + p.township + p.village + '）' })));
      if (was) pointSelect.value = was;
    }
  }

  $('gb-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const price = cents($('gb-price').value);
    const closes = fromChinaInput($('gb-closes').value);
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
    const submit = $('gb-form').querySelector('button[type=submit]');
    submit.disabled = true; // one tap, one campaign
    const answer = await call('POST', '/v1/group-buys', body);
    submit.disabled = false;
    if (answer && answer.status === 201) {
      say('gb-msg', '已发起团购 Opened group-buy #' + answer.body.id, true);
      loadGroups(false);
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

  // ---- offers to hosts ------------------------------------------------------------------------------------------------

  function skuOptions(select) {
    const was = select.value;
    select.replaceChildren(...Array.from(skus.values(), (s) => el('option', { value: String(s.id), text: '#' + s.id + ' ' + s.title + ' ' + s.name })));
    if (was) select.value = was;
  }

  function fillOfferForm() {
    skuOptions($('offer-sku'));
    if (!$('offer-starts').value) $('offer-starts').value = toChinaInput(now());
    if (!$('offer-ends').value) $('offer-ends').value = toChinaInput(now() + 7 * 86400);
  }

  const offers = offersList({
    call,
    empty: '还没有邀约，在上面发起 No offers yet: make one above',
    row: (o, list) => offerRow(o, '主播 ' + o.host_name + ' · host #' + o.host_id,
      o.status === 'pending' || o.status === 'accepted' ? [list.button(o, 'end', '结束', 'End', true)] : []),
    changed: (o) => {
      if (o.status === 'ended')
        say('offers-msg', '已结束 Ended offer #' + o.id + '：已上架的商品继续销售，可在“商品库存”下架 Items on air stay until closed', true);
    },
  });

  $('offer-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const floor = cents($('offer-floor').value);
    const pct = Number($('offer-commission').value);
    const startsAt = fromChinaInput($('offer-starts').value);
    const endsAt = fromChinaInput($('offer-ends').value);
    if (floor === null) {
      say('offer-msg', '最低价格式不对 The floor price must be yuan like 25.00', false);
      return;
    }
    if (!Number.isFinite(pct) || !Number.isFinite(startsAt) || !Number.isFinite(endsAt)) {
      say('offer-msg', '请填写佣金和时间 Fill in the commission and the times', false);
      return;
    }
    const body = {
      sku_id: Number($('offer-sku').value),
      host_id: Number($('offer-host').value),
      max_quota: Number($('offer-quota').value),
      min_price_cents: floor,
      commission_bp: Math.round(pct * 100),
      starts_at: startsAt,
      ends_at: endsAt,
    };
    $('offer-submit').disabled = true;
    const answer = await call('POST', '/v1/offers', body);
    $('offer-submit').disabled = false;
    if (answer && answer.status === 201) {
      say('offer-msg', '已发出邀约 Offer #' + answer.body.id + ' sent to ' + answer.body.host_name + '，等待主播接受 waiting for the host', true);
      offers.show(answer.body);
    } else if (!answer || answer.status !== 401) say('offer-msg', '发出失败 Not sent ' + failure(answer), false);
  });

  // ---- refunds --------------------------------------------------------------------------------------------------------

  const refundStates = {
    requested: '待审核', rejected: '已拒绝', pending: '待退款', sent: '退款中', refunded: '已退款', failed: '退款失败',
    dead: '推送失败',
  };
  const refundCauses = {
    buyer: '买家申请 asked by the buyer', late_payment: '过期后付款、货已售出 paid after it expired, stock gone',
    paid_twice: '重复付款 paid twice', campaign_failed: '拼团未成团 the group-buy failed',
  };
  let refundsNext = null;

  function refundButton(r, verb, zh, en, ghost) {
    const b = el('button', { class: 'btn small' + (ghost ? ' ghost' : ''), type: 'button', 'data-action': verb },
      zh + ' ', el('span', { class: 'en', text: en }));
    b.addEventListener('click', async () => {
      let body;
      if (verb === 'reject') {
        const reason = prompt('拒绝理由（买家会看到） Why (the buyer sees it)', '');
        if (reason === null) return;
        body = { reason: reason.trim() };
      }
      b.disabled = true;
      const answer = await call('POST', '/v1/refunds/' + r.id + '/' + verb, body);
      b.disabled = false;
      if (answer && answer.status === 200) {
        $('refunds').querySelector('[data-refund-id="' + r.id + '"]').replaceWith(refundRow(answer.body));
        const done = { approve: '已同意 Approved', reject: '已拒绝 Rejected', retry: '已重新发送 Sent again' }[verb];
        say('refunds-msg', done + ' #' + r.id, true);
      } else if (!answer || answer.status !== 401) say('refunds-msg', zh + '失败 Failed ' + failure(answer), false);
    });
    return b;
  }

  function refundRow(r) {
    const actions = [];
    if (r.status === 'requested') {
      actions.push(refundButton(r, 'approve', '同意退款', 'Approve'), refundButton(r, 'reject', '拒绝', 'Reject', true));
    }
    if (r.status === 'failed' || r.status === 'dead') actions.push(refundButton(r, 'retry', '重新发送', 'Send again'));
    const sku = skus.get(r.sku_id);
    return el('div', { class: 'list-row refund', 'data-refund-id': String(r.id), 'data-status': r.status },
      el('div', {},
        el('div', {}, el('b', { text: '退款 #' + r.id + ' · 订单 order #' + r.order_id }), ' ',
          el('span', { class: 'status ' + r.status, 'data-role': 'status', text: (refundStates[r.status] || '') + ' ' + r.status })),
        el('div', { text: (sku ? sku.title + ' ' + sku.name : 'SKU #' + r.sku_id) + ' · ' + yuan(r.amount_cents) + ' · 买家 buyer #' + r.buyer_id }),
        el('div', { class: 'muted', text: (refundCauses[r.cause] || r.cause) + (r.reason ? ' · “' + r.reason + '”' : '') }),
        r.last_error ? el('div', { class: 'msg bad', text: '最近一次 Last try: ' + r.last_error + '（' + r.attempts + ' 次 tries）' }) : null,
        el('div', { class: 'muted', text: '申请于 Asked ' + chinaDateTime(r.created_at) + (r.provider_refund_id ? ' · 支付方退款号 ' + r.provider_refund_id : '') })),
      el('div', { class: 'actions' }, actions));
  }

  async function loadRefunds(more) {
    const status = $('refunds-status').value;
    let path = '/v1/merchant/refunds?limit=' + PAGE + (status ? '&status=' + status : '');
    if (more && refundsNext !== null) path += '&after=' + refundsNext;
    const answer = await call('GET', path);
    if (!answer || answer.status !== 200) {
      if (!answer || answer.status !== 401) say('refunds-msg', '读取失败 Could not load ' + failure(answer), false);
      return;
    }
    const box = $('refunds');
    if (!more) box.replaceChildren();
    for (const r of answer.body.refunds) box.append(refundRow(r));
    refundsNext = answer.body.next;
    $('refunds-more').classList.toggle('hidden', refundsNext === null || refundsNext === undefined);
    say('refunds-msg', box.children.length === 0 ? '没有退款 No refunds' : '');
  }

  $('refunds-status').addEventListener('change', () => loadRefunds(false));
  $('refunds-refresh').addEventListener('click', () => loadRefunds(false));
  $('refunds-more').addEventListener('click', () => loadRefunds(true));

  // ---- start ----------------------------------------------------------------------------------------------------------

  resetAddForm();
  session.resume();
})();
