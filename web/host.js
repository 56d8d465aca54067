// The host console, /host, phone first: sign in with the host's merchant token; its lives (GET /v1/lives?mine=1) and a
// new live (POST /v1/lives); the offers co-ops made to it (GET /v1/offers; accept, decline, end); put an offered SKU,
// or one of its own, on air (POST /v1/lives/{id}/items) and take it off (POST /v1/live-items/{id}/close); and during
// the live, per item: what is left of the quota, units sold and unpaid, revenue, commission and the units ordered in
// the last 10 s. Live figures come from the host's sales stream (GET /v1/lives/{id}/sales/stream, read with fetch():
// EventSource cannot send the token); without it, from the public stock stream and GET /v1/merchant/sales every 5 s.
// A route the server lacks (404/405 from an older server) leaves its part of the page empty, never the rest.
'use strict';

(() => {
  const { errorOf, failure, missing, say, yuan, cents, duration, chinaDateTime, now, toChinaInput, fromChinaInput, percent } = LB;
  const { offerTerms, el, stockStream, merchantSession, tabs, offersList, offerRow, sleep } = LB;

  const LIVES_KEY = 'livebuy.host.lives'; // lives opened here: the list when the server has no GET /v1/lives?mine=1
  const PAGE = 50;
  const RECENT_S = 10;
  const SALES_POLL_MS = 5000;
  const LIVE_POLL_MS = 2000;
  const STREAM_RETRY_MS = 2000;
  const MISSING_RETRY_MS = 30000;

  const $ = (id) => document.getElementById(id);
  let livesNext = null;
  let offersRoute = true; // false once GET /v1/offers answered 404/405
  let usable = []; // what the put-on-air form offers: {key, label, offer | sku}
  let live = null; // the live being run (openLive)

  // ---- sign-in and tabs -----------------------------------------------------------------------------------------------

  // localStorage, not sessionStorage as on the co-op dashboard: a phone drops background tabs, and a host in the middle
  // of a live should not have to paste the token again. 退出 (sign out) forgets it.
  const session = merchantSession({
    storage: localStorage,
    key: 'livebuy.host_token',
    // Resolves true, or the answer that refused the token (merchantSession: a 401/403 signs out, a busy server retries).
    check: async () => {
      const answer = await call('GET', '/v1/lives?mine=1&limit=' + PAGE);
      if (answer && answer.status === 200) showLives(answer.body, false);
      else if (answer && (missing(answer) || answer.status === 422)) {
        // A server without the host's list of lives: the token is checked on the merchant's SKUs instead.
        const probe = await call('GET', '/v1/merchant/skus?limit=1');
        if (!probe || probe.status !== 200) return probe;
        showRememberedLives();
      } else return answer;
      countPending();
      const wanted = /^#live\/(\d+)$/.exec(location.hash);
      if (wanted) openLive(Number(wanted[1]));
      return true;
    },
    onSignOut: leaveLive,
    forbidden: '这个令牌不是主播的 Not a host token',
  });
  const call = session.call;

  const showTab = tabs((name) => {
    if (name === 'offers') offers.load(false).then((there) => (offersRoute = there));
    if (name === 'live') fillOnAir();
  });

  // ---- lives ----------------------------------------------------------------------------------------------------------

  function liveRow(l) {
    const about = ['#' + l.id];
    if (l.starts_at !== undefined) about.push('开播 ' + chinaDateTime(l.starts_at));
    if (l.num_items !== undefined) about.push(l.num_items + ' 件商品 items');
    return el('div', { class: 'list-row', 'data-live-id': String(l.id) },
      el('div', {}, el('b', { text: l.title || '直播 Live #' + l.id }), el('div', { class: 'muted', text: about.join(' · ') })),
      el('button', { class: 'btn small', type: 'button', onclick: () => openLive(l.id) }, '进入 ', el('span', { class: 'en', text: 'Open' })));
  }

  function showLives(page, append) {
    const box = $('lives');
    if (!append) box.replaceChildren();
    for (const l of page.lives) {
      const old = box.querySelector('[data-live-id="' + l.id + '"]');
      if (old) old.replaceWith(liveRow(l));
      else box.append(liveRow(l));
    }
    livesNext = page.next;
    $('lives-more').classList.toggle('hidden', livesNext === null || livesNext === undefined);
    say('lives-msg', box.children.length === 0 ? '还没有直播，在下面新建一场 No lives yet: create one below' : '');
  }

  async function loadLives(more) {
    const answer = await call('GET', '/v1/lives?mine=1&limit=' + PAGE + (more && livesNext ? '&after=' + livesNext : ''));
    if (answer && answer.status === 200) showLives(answer.body, more);
    else if (answer && (missing(answer) || answer.status === 422)) showRememberedLives();
    else if (!answer || answer.status !== 401) say('lives-msg', '读取失败 Could not load ' + failure(answer), false);
  }

  function rememberedLives() {
    try {
      const ids = JSON.parse(localStorage.getItem(LIVES_KEY) || '[]');
      return Array.isArray(ids) ? ids.filter((x) => Number.isInteger(x) && x > 0) : [];
    } catch (e) {
      return [];
    }
  }

  function rememberLive(id) {
    const ids = rememberedLives().filter((x) => x !== id);
    ids.unshift(id);
    localStorage.setItem(LIVES_KEY, JSON.stringify(ids.slice(0, 20)));
  }

  // An older server cannot list a host's lives: the ones opened on this phone, and a form to open one by id.
  async function showRememberedLives() {
    $('open-form').classList.remove('hidden');
    const ids = rememberedLives();
    const lives = await Promise.all(ids.map(async (id) => {
      const answer = await call('GET', '/v1/lives/' + id);
      return answer && answer.status === 200 ? answer.body : { id };
    }));
    showLives({ lives, next: null }, false);
    say('lives-msg', '这个服务器不能列出你的直播，这里是在本机打开过的 This server cannot list your lives: these were opened here');
  }

  $('lives-refresh').addEventListener('click', () => loadLives(false));
  $('lives-more').addEventListener('click', () => loadLives(true));
  $('open-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = Number($('open-id').value.trim());
    if (Number.isInteger(id) && id > 0) openLive(id);
    else say('lives-msg', '编号是正整数 The id is a whole number', false);
  });

  $('live-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const startsAt = fromChinaInput($('live-starts').value);
    if (!Number.isFinite(startsAt)) {
      say('live-msg', '请选择开播时间 Choose when it starts', false);
      return;
    }
    const submit = $('live-form').querySelector('button[type=submit]');
    submit.disabled = true; // one tap, one live
    const answer = await call('POST', '/v1/lives', { title: $('live-title-input').value.trim(), starts_at: startsAt });
    submit.disabled = false;
    if (answer && answer.status === 201) {
      say('live-msg', '已创建 Created live #' + answer.body.id, true);
      $('live-form').reset();
      $('live-starts').value = toChinaInput(now());
      $('lives').prepend(liveRow(answer.body));
      say('lives-msg', '');
      openLive(answer.body.id);
    } else if (!answer || answer.status !== 401) say('live-msg', '创建失败 Not created ' + failure(answer), false);
  });

  // ---- offers ---------------------------------------------------------------------------------------------------------

  const offers = offersList({
    call,
    empty: '没有邀约 No offers',
    row: (o, list) => {
      const actions = [];
      if (o.status === 'pending') actions.push(list.button(o, 'accept', '接受', 'Accept'), list.button(o, 'decline', '拒绝', 'Decline', true));
      if (o.status === 'accepted') {
        if (o.current && o.left > 0 && live)
          actions.push(el('button', { class: 'btn small', type: 'button', 'data-action': 'on-air', onclick: () => chooseOnAir('offer:' + o.id) },
            '上架到 #' + live.id + ' ', el('span', { class: 'en', text: 'Put on air' })));
        actions.push(list.button(o, 'end', '结束', 'End', true));
      }
      return offerRow(o, '合作社 ' + o.coop_name + ' · co-op #' + o.coop_id, actions);
    },
    changed: () => {
      countPending();
      if (live) fillOnAir();
    },
  });

  async function countPending() {
    const answer = await call('GET', '/v1/offers?status=pending&limit=200');
    const badge = $('offers-count');
    const n = answer && answer.status === 200 ? answer.body.offers.length : 0;
    badge.textContent = n >= 200 ? '200+' : String(n);
    badge.classList.toggle('hidden', n === 0);
  }

  // ---- putting an item on air -----------------------------------------------------------------------------------------

  // What can go on air: SKUs under accepted, current offers with units left, and the host's own SKUs (no offer).
  async function fillOnAir() {
    const [offered, own] = await Promise.all([
      offersRoute ? call('GET', '/v1/offers?status=accepted&limit=200') : null,
      call('GET', '/v1/merchant/skus?limit=200'),
    ]);
    if (offered && missing(offered)) offersRoute = false;
    usable = [];
    if (offered && offered.status === 200)
      for (const o of offered.body.offers)
        if (o.current && o.left > 0)
          usable.push({ key: 'offer:' + o.id, offer: o, title: o.title, label: '#' + o.id + ' ' + o.title + ' · 剩 ' + o.left + ' · 底价 ' + yuan(o.min_price_cents) });
    if (own && own.status === 200)
      for (const s of own.body.skus)
        if (s.available > 0) usable.push({ key: 'sku:' + s.id, sku: s, title: s.title + ' ' + s.name, label: s.title + ' ' + s.name + ' · 可售 ' + s.available });
    const select = $('onair-source');
    const was = select.value;
    const group = (label, kind) => {
      const options = usable.filter((u) => u.key.startsWith(kind)).map((u) => el('option', { value: u.key, text: u.label }));
      return options.length ? el('optgroup', { label }, options) : null;
    };
    select.replaceChildren(...[group('合作社邀约 Offers', 'offer:'), group('自有商品 My SKUs', 'sku:')].filter(Boolean));
    if (usable.length === 0) select.append(el('option', { value: '', text: '没有可上架的商品 Nothing to sell' }));
    if (usable.some((u) => u.key === was)) select.value = was;
    showTerms();
  }

  function chosen() {
    return usable.find((u) => u.key === $('onair-source').value) || null;
  }

  function showTerms() {
    const u = chosen();
    const terms = $('onair-terms');
    $('onair-submit').disabled = !u;
    if (!u) {
      terms.replaceChildren('先在“合作邀约”接受合作社的邀约，或添加自有商品。',
        el('span', { class: 'en', text: 'Accept a co-op\'s offer first (Offers), or add SKUs of your own.' }));
      return;
    }
    if (u.offer) {
      const o = u.offer;
      terms.replaceChildren(el('b', { text: '邀约条款 Offer terms' }), el('div', { text: '合作社 ' + o.coop_name }),
        el('div', { 'data-role': 'terms', text: offerTerms(o).join(' · ') }));
      $('onair-price').placeholder = (o.min_price_cents / 100).toFixed(2);
      $('onair-quota').max = String(o.left);
      if (!$('onair-quota').value || Number($('onair-quota').value) > o.left) $('onair-quota').value = String(o.left);
    } else {
      const s = u.sku;
      terms.replaceChildren(el('b', { text: '自有商品 My own SKU' }),
        el('div', { text: '可售 ' + s.available + ' 件 available · 原价 ' + yuan(s.price_cents) + ' · 无佣金 no commission' }));
      $('onair-price').placeholder = (s.price_cents / 100).toFixed(2);
      $('onair-quota').max = String(s.available);
      if (!$('onair-quota').value || Number($('onair-quota').value) > s.available) $('onair-quota').value = String(s.available);
    }
  }

  function chooseOnAir(key) {
    showTab('live');
    $('onair').open = true;
    $('onair-source').value = key;
    showTerms(); // the terms shown always belong to the source shown, also before the list is read again
    fillOnAir().then(() => {
      $('onair-source').value = key;
      showTerms();
      $('onair').scrollIntoView({ behavior: 'smooth' });
    });
  }

  $('onair-source').addEventListener('change', () => {
    $('onair-quota').value = '';
    showTerms();
  });
  $('onair-opens').addEventListener('change', () => {
    const at = $('onair-opens').value === 'at';
    $('onair-at').classList.toggle('hidden', !at);
    if (at && !$('onair-at').value) $('onair-at').value = toChinaInput(now() + 120);
  });

  // What the server's refusals mean, in Chinese first; its own message follows.
  const onAirRefusals = {
    no_offer: '没有可用的邀约',
    offer_exceeded: '超出邀约剩余数量',
    below_floor: '低于邀约底价',
    conflict: '库存不足',
    invalid: '填写有误',
    forbidden: '没有权限',
  };

  $('onair-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = chosen();
    if (!u || !live) return;
    const price = cents($('onair-price').value);
    if (price === null) {
      say('onair-msg', '直播价格式不对 The price must be yuan like 29.90', false);
      return;
    }
    const opens = $('onair-opens').value === 'at' ? fromChinaInput($('onair-at').value) : now() + Number($('onair-opens').value);
    if (!Number.isFinite(opens)) {
      say('onair-msg', '请选择开抢时间 Choose when it opens', false);
      return;
    }
    const body = {
      sku_id: u.offer ? u.offer.sku_id : u.sku.id,
      price_cents: price,
      quota: Number($('onair-quota').value),
      per_buyer_limit: Number($('onair-limit').value),
      opens_at: opens,
    };
    if (u.offer) body.offer_id = u.offer.id;
    $('onair-submit').disabled = true;
    const lv = live;
    const answer = await call('POST', '/v1/lives/' + lv.id + '/items', body);
    $('onair-submit').disabled = false;
    if (answer && answer.status === 201) {
      say('onair-msg', '已上架 On air: ' + u.title + ' · 商品 item #' + answer.body.id, true);
      $('onair-price').value = '';
      $('onair-quota').value = '';
      if (live === lv) {
        // Its offer and commission from the answer and the offer: GET /v1/merchant/sales may be older or missing.
        Object.assign(itemOf(lv, answer.body.id), { offer_id: answer.body.offer_id || null, commission_bp: u.offer ? u.offer.commission_bp : 0 });
        await refreshLive(lv);
        refreshSales(lv);
      }
      fillOnAir();
    } else if (!answer || answer.status !== 401) {
      const code = errorOf(answer).code;
      say('onair-msg', (onAirRefusals[code] || '上架失败') + ' Not put on air ' + failure(answer), false);
    }
  });

  // ---- the live being run ---------------------------------------------------------------------------------------------

  function setMode(mode) {
    const feed = $('feed');
    if (feed.dataset.mode === mode) return;
    feed.dataset.mode = mode;
    const labels = {
      sales: ['实时销售', 'Live sales', 'paid'],
      stock: ['实时库存', 'Live stock', 'reserved'],
      poll: ['每2秒刷新', 'Polling', 'reserved'],
      offline: ['连接中断', 'Offline', 'failed'],
    };
    const [zh, en, look] = labels[mode] || ['连接中', 'Connecting', ''];
    feed.className = 'status ' + look;
    feed.replaceChildren(zh + ' ', el('span', { class: 'en', text: en }));
  }

  async function openLive(id) {
    leaveLive();
    const lv = { id, items: new Map(), abort: new AbortController(), salesLive: false, salesRoute: true, stock: null, stockLive: false, fallback: false,
      fallbackTimers: [], timers: [] };
    live = lv;
    rememberLive(id);
    history.replaceState(null, '', location.pathname + location.search + '#live/' + id);
    $('tab-live-button').classList.remove('hidden');
    $('live-title').textContent = '直播 #' + id;
    $('live-when').textContent = '';
    $('live-items').replaceChildren();
    $('live-totals').replaceChildren();
    $('live-shop').href = '/shop/' + id;
    $('live-overlay').href = '/overlay/' + id;
    say('live-items-msg', '加载中… Loading…');
    setMode('connecting');
    showTab('live');
    if (!(await refreshLive(lv))) return;
    await refreshSales(lv);
    salesLoop(lv);
    lv.timers.push(setInterval(() => renderLive(lv), 1000));
  }

  function leaveLive() {
    if (!live) return;
    live.abort.abort();
    stopFallback(live);
    for (const t of live.timers) clearInterval(t);
    live = null;
  }

  // GET /v1/lives/{id}: the items and their terms (closed ones too); their stock only while no stream is live.
  async function refreshLive(lv) {
    const answer = await call('GET', '/v1/lives/' + lv.id);
    if (live !== lv) return false;
    if (!answer || answer.status !== 200) {
      if (!answer || answer.status !== 401)
        say('live-items-msg', (answer && answer.status === 404 ? '没有这个直播 No such live ' : '读取失败 Could not load ') + failure(answer), false);
      return false;
    }
    const data = answer.body;
    $('live-title').textContent = data.title;
    $('live-when').textContent = '#' + data.id + ' · 开播 ' + chinaDateTime(data.starts_at) + ' · starts';
    for (const d of data.items || []) {
      const it = itemOf(lv, d.id);
      const streamed = it.available;
      Object.assign(it, { title: d.title, sku_id: d.sku_id, price_cents: d.price_cents, quota: d.quota, per_buyer_limit: d.per_buyer_limit, opens_at: d.opens_at });
      it.available = streamed !== null && (lv.salesLive || lv.stockLive) ? streamed : d.available;
      sample(lv, it);
    }
    say('live-items-msg', lv.items.size === 0 ? '还没有上架商品，在下面上架 Nothing on air yet: put an item on air below' : '');
    renderLive(lv);
    return true;
  }

  // GET /v1/merchant/sales?live_id=: sold, revenue and commission per item (all pages).
  async function refreshSales(lv) {
    if (!lv.salesRoute) return;
    let after = null;
    do {
      const answer = await call('GET', '/v1/merchant/sales?live_id=' + lv.id + '&limit=200' + (after ? '&after=' + after : ''));
      if (live !== lv || !answer) return;
      if (missing(answer)) {
        lv.salesRoute = false;
        return;
      }
      if (answer.status !== 200) {
        if (answer.status !== 401) say('live-items-msg', '销售数据读取失败 Could not load sales ' + failure(answer), false);
        return;
      }
      for (const row of answer.body.items) {
        const it = itemOf(lv, row.live_item_id);
        Object.assign(it, { offer_id: row.offer_id, commission_bp: row.commission_bp, closed: row.closed, quota: row.quota, title: row.title });
        if (!lv.salesLive) Object.assign(it, { available: row.available, reserved: row.reserved, sold: row.sold, revenue_cents: row.revenue_cents });
        sample(lv, it);
      }
      after = answer.body.next;
    } while (after);
    renderLive(lv);
  }

  function itemOf(lv, id) {
    let it = lv.items.get(id);
    if (!it) {
      it = { id, title: '#' + id, quota: 0, available: null, reserved: null, sold: null, revenue_cents: null, commission_bp: null,
        offer_id: null, closed: false, opens_at: 0, price_cents: 0, per_buyer_limit: 0, samples: [], nodes: null };
      lv.items.set(id, it);
    }
    return it;
  }

  // Units taken (reserved + sold) over time, for the units ordered in the last RECENT_S seconds.
  function taken(it) {
    if (it.reserved !== null && it.sold !== null) return it.reserved + it.sold;
    return it.available === null ? null : it.quota - it.available;
  }

  function sample(lv, it) {
    const value = taken(it);
    if (value === null) return;
    const t = Date.now();
    it.samples.push([t, value]);
    // Keep one sample at or before the window's start: the baseline.
    while (it.samples.length > 1 && it.samples[1][0] <= t - RECENT_S * 1000) it.samples.shift();
  }

  function recent(it) {
    if (it.samples.length === 0) return 0;
    const start = Date.now() - RECENT_S * 1000;
    let base = it.samples[0][1];
    for (const [t, v] of it.samples) if (t <= start) base = v;
    return Math.max(0, it.samples[it.samples.length - 1][1] - base);
  }

  // The host's commission on an item: sold x floor(price x commission_bp / 10000), the money rule of docs/api.md.
  function commission(it) {
    if (it.sold === null || it.commission_bp === null) return null;
    return it.sold * Math.floor((it.price_cents * it.commission_bp) / 10000);
  }

  function stat(role, zh, en) {
    const value = el('b', { 'data-role': role, text: '—' });
    return [value, el('div', { class: 'stat' }, value, el('small', {}, zh + ' ', el('span', { class: 'en', text: en })))];
  }

  function setStat(node, value, text) {
    const v = value === null || value === undefined ? '' : String(value);
    if (node.dataset.value === v && node.textContent !== '—') return;
    node.dataset.value = v;
    node.textContent = v === '' ? '—' : text;
  }

  function itemCard(lv, it) {
    const n = {};
    const stats = [['available', '剩余', 'Left'], ['recent', '近10秒', 'Last 10 s'], ['sold', '已售', 'Paid'],
      ['reserved', '待付款', 'Unpaid'], ['revenue', '销售额', 'Revenue'], ['commission', '佣金', 'Commission']];
    const cells = stats.map(([role, zh, en]) => {
      const [value, cell] = stat(role, zh, en);
      n[role] = value;
      return cell;
    });
    n.title = el('h2', { class: 'title' });
    n.state = el('span', { class: 'status', 'data-role': 'state' });
    n.terms = el('div', { class: 'muted', 'data-role': 'terms' });
    n.close = el('button', { class: 'btn ghost small', type: 'button', 'data-role': 'close', onclick: () => closeItem(lv, it) },
      '下架 ', el('span', { class: 'en', text: 'Take off air' }));
    n.msg = el('div', { class: 'msg' });
    n.card = el('section', { class: 'card item', 'data-item-id': String(it.id) },
      el('div', { class: 'row' }, n.title, n.state), n.terms, el('div', { class: 'stats' }, cells), n.close, n.msg);
    it.nodes = n;
    return n.card;
  }

  function itemState(it) {
    if (it.closed) return ['closed', '已下架', 'Off air', 'cancelled'];
    if (it.opens_at > now()) return ['upcoming', '距开抢 ' + duration(it.opens_at - now()), 'Opens soon', 'reserved'];
    if (it.available !== null && it.available <= 0) return ['sold_out', '已售罄', 'Sold out', 'failed'];
    return ['selling', '抢购中', 'On sale', 'paid'];
  }

  function renderItem(lv, it) {
    if (!it.nodes) $('live-items').prepend(itemCard(lv, it));
    const n = it.nodes;
    if (n.title.textContent !== it.title) n.title.textContent = it.title;
    const [state, zh, en, look] = itemState(it);
    n.card.dataset.state = state;
    n.state.className = 'status ' + look;
    n.state.textContent = zh + ' ' + en;
    const terms = ['直播价 ' + yuan(it.price_cents), '限购 ' + it.per_buyer_limit, '数量 quota ' + it.quota];
    if (it.offer_id) terms.push('邀约 offer #' + it.offer_id + (it.commission_bp !== null ? ' · 佣金 ' + percent(it.commission_bp) : ''));
    n.terms.textContent = terms.join(' · ');
    setStat(n.available, it.available, it.available + ' / ' + it.quota);
    const r = recent(it);
    setStat(n.recent, r, (r > 0 ? '+' : '') + r + ' 件');
    setStat(n.sold, it.sold, String(it.sold));
    setStat(n.reserved, it.reserved, String(it.reserved));
    setStat(n.revenue, it.revenue_cents, yuan(it.revenue_cents));
    const c = commission(it);
    setStat(n.commission, c, yuan(c));
    n.close.classList.toggle('hidden', it.closed);
  }

  function renderLive(lv) {
    if (live !== lv) return;
    const total = { sold: 0, revenue: 0, commission: 0, recent: 0 };
    const known = { sold: false, revenue: false, commission: false };
    for (const it of [...lv.items.values()].sort((a, b) => a.id - b.id)) {
      renderItem(lv, it);
      total.recent += recent(it);
      if (it.sold !== null) (total.sold += it.sold), (known.sold = true);
      if (it.revenue_cents !== null) (total.revenue += it.revenue_cents), (known.revenue = true);
      const c = commission(it);
      if (c !== null) (total.commission += c), (known.commission = true);
    }
    const box = $('live-totals');
    if (!box.firstChild) {
      for (const [role, zh, en] of [['total-recent', '近10秒', 'Last 10 s'], ['total-sold', '已售', 'Paid'],
        ['total-revenue', '销售额', 'Revenue'], ['total-commission', '佣金', 'Commission']])
        box.append(stat(role, zh, en)[1]);
    }
    const node = (role) => box.querySelector('[data-role="' + role + '"]');
    setStat(node('total-recent'), total.recent, (total.recent > 0 ? '+' : '') + total.recent + ' 件');
    setStat(node('total-sold'), known.sold ? total.sold : null, String(total.sold));
    setStat(node('total-revenue'), known.revenue ? total.revenue : null, yuan(total.revenue));
    setStat(node('total-commission'), known.commission ? total.commission : null, yuan(total.commission));
  }

  async function closeItem(lv, it) {
    const n = it.nodes;
    n.close.disabled = true;
    const answer = await call('POST', '/v1/live-items/' + it.id + '/close');
    n.close.disabled = false;
    if (answer && answer.status === 200) {
      Object.assign(it, { closed: true, quota: answer.body.quota, available: answer.body.available });
      it.samples = [];
      sample(lv, it);
      say(n.msg, '已下架，退回 ' + answer.body.released + ' 件 Off air, ' + answer.body.released + ' units returned', true);
      renderLive(lv);
      refreshSales(lv);
      fillOnAir();
    } else if (answer && answer.status === 409) {
      it.closed = true;
      say(n.msg, '已经下架了 Already off air ' + failure(answer), false);
      renderLive(lv);
    } else if (!answer || answer.status !== 401) say(n.msg, '下架失败 Not taken off ' + failure(answer), false);
  }

  // ---- the live figures: the host's sales stream, else the public stock stream and polling ----------------------------

  // Reads GET /v1/lives/{id}/sales/stream until it ends. Answers 'ended' (reconnect soon), 'offline' (no answer),
  // 'missing' (a server without the route: 404/405) or 'refused' (403 and the like).
  async function readSalesStream(lv) {
    let res;
    try {
      res = await fetch('/v1/lives/' + lv.id + '/sales/stream', {
        headers: { Authorization: 'Bearer ' + session.token(), Accept: 'text/event-stream' }, cache: 'no-store', signal: lv.abort.signal,
      });
    } catch (e) {
      return 'offline';
    }
    if (res.status !== 200 || !res.body) {
      let body = null;
      try {
        body = await res.json();
      } catch (e) {
        body = null;
      }
      const answer = { status: res.status, body };
      if (res.status === 401) session.signOut('令牌无效 The token was refused');
      else if (!missing(answer)) say('live-items-msg', '实时销售不可用 No live sales ' + failure(answer), false);
      return missing(answer) ? 'missing' : 'refused';
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const event = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (event && event.type === 'sales') onSales(lv, event.data);
        }
      }
    } catch (e) {
      // aborted (another live opened) or the connection dropped
    }
    lv.salesLive = false;
    return 'ended';
  }

  // One Server-Sent Event: {type, data}, or null for a comment or a retry line.
  function parseEvent(block) {
    let type = 'message';
    const data = [];
    for (const raw of block.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    return data.length ? { type, data: data.join('\n') } : null;
  }

  function onSales(lv, text) {
    let d;
    try {
      d = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (live !== lv) return;
    if (!lv.salesLive) {
      lv.salesLive = true;
      stopFallback(lv);
      setMode('sales');
    }
    let unknown = false;
    for (const s of d.items || []) {
      if (!lv.items.has(s.id)) unknown = true;
      const it = itemOf(lv, s.id);
      Object.assign(it, { available: s.available, reserved: s.reserved, sold: s.sold, revenue_cents: s.revenue_cents });
      sample(lv, it);
    }
    if (unknown) refreshLive(lv).then(() => refreshSales(lv)); // put on air elsewhere (another phone)
    renderLive(lv);
  }

  async function salesLoop(lv) {
    while (live === lv) {
      const outcome = await readSalesStream(lv);
      if (live !== lv || session.token() === null) return;
      startFallback(lv);
      await sleep(outcome === 'missing' || outcome === 'refused' ? MISSING_RETRY_MS : STREAM_RETRY_MS);
    }
  }

  function startFallback(lv) {
    if (lv.fallback) return;
    lv.fallback = true;
    setMode('poll');
    const connect = () => {
      lv.stock = stockStream(lv.id, (list) => {
        if (live !== lv || lv.salesLive) return;
        lv.stockLive = true;
        setMode('stock');
        let unknown = false;
        for (const s of list) {
          if (!lv.items.has(s.item_id)) unknown = true;
          const it = itemOf(lv, s.item_id);
          it.available = s.available;
          // reserved + sold follows available until the next GET /v1/merchant/sales says how it splits
          if (it.reserved !== null && it.sold !== null) it.reserved = Math.max(0, it.quota - it.available - it.sold);
          sample(lv, it);
        }
        if (unknown) refreshLive(lv);
        renderLive(lv);
      }, (closed) => {
        lv.stockLive = false;
        if (live !== lv || lv.salesLive) return;
        setMode('poll');
        if (closed) {
          lv.stock = null;
          lv.timers.push(setTimeout(() => lv.fallback && connect(), MISSING_RETRY_MS));
        }
      });
    };
    connect();
    lv.fallbackTimers = [
      setInterval(() => refreshSales(lv), SALES_POLL_MS),
      setInterval(() => !lv.stockLive && refreshLive(lv), LIVE_POLL_MS),
    ];
  }

  function stopFallback(lv) {
    lv.fallback = false;
    lv.stockLive = false;
    if (lv.stock) lv.stock.close();
    lv.stock = null;
    for (const t of lv.fallbackTimers || []) clearInterval(t);
    lv.fallbackTimers = [];
  }

  // ---- start ----------------------------------------------------------------------------------------------------------

  $('live-starts').value = toChinaInput(now());
  session.resume();
})();
