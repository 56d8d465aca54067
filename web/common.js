// Shared by livebuy's pages: API calls, money and time formatting, random keys, the live stock stream, and the merchant
// pages' sign-in, tabs and offers list.
// Plain browser JavaScript, no build step; everything the pages need is served by livebuyd from web/.
'use strict';

const LB = (() => {
  // The server's clock minus ours, in seconds, from the Date header of API answers (countdowns, token expiry and the
  // times put in forms use server time). Remembered in localStorage, so that a page's first look (a link's buyer token,
  // before any API call) already has it; each answer's Date header brings it up to date.
  const CLOCK_OFFSET_KEY = 'livebuy.clock_offset';
  let clockOffset = rememberedOffset();

  function rememberedOffset() {
    try {
      const v = Number(localStorage.getItem(CLOCK_OFFSET_KEY));
      return Number.isFinite(v) ? Math.round(v) : 0;
    } catch (e) {
      return 0; // storage refused (a private window): this page's answers set it
    }
  }

  function noteServerDate(headers) {
    const date = headers.get('Date');
    if (!date) return;
    const server = Date.parse(date);
    if (Number.isNaN(server)) return;
    const offset = Math.round((server - Date.now()) / 1000);
    if (offset === clockOffset) return;
    clockOffset = offset;
    try {
      localStorage.setItem(CLOCK_OFFSET_KEY, String(offset));
    } catch (e) {
      // not remembered: this page still uses it
    }
  }

  function now() {
    return Math.floor(Date.now() / 1000) + clockOffset;
  }

  // One API call. Resolves {status, body, headers} for every HTTP answer (errors included); rejects only when the
  // network fails (no answer at all). A body that is a file (a Blob: a photo from <input type=file>) is sent as its
  // raw bytes, any other as JSON.
  async function api(method, path, { body, token, headers = {} } = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store' };
    if (token) init.headers.Authorization = 'Bearer ' + token;
    if (typeof Blob !== 'undefined' && body instanceof Blob) {
      init.headers['Content-Type'] = body.type || 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    noteServerDate(res.headers);
    let data = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = { raw: text };
      }
    }
    return { status: res.status, body: data, headers: res.headers };
  }

  function errorOf(answer) {
    const e = answer && answer.body && answer.body.error;
    // The refusal's own fields too (left, limit, held, reason, opens_at, ...: docs/api.md, Errors), for words of the page's own.
    return e ? { ...e, code: e.code || '', message: readableTimes(e.message || '') } : { code: '', message: '' };
  }

  // The server's messages give times in Unix seconds ("not open yet: opens at 1796691873", "cut-off 1796658306",
  // "offer 7 runs from A to B"): a buyer reads them in China time. Only after those words: "from 1 to 1000000000" in a
  // range's message is not a time.
  function readableTimes(message) {
    const time = (unix) => chinaDateTime(unix) + ' 北京时间';
    return message
      .replace(/\b(runs from) (\d{9,10}) to (\d{9,10})\b/g, (m, words, from, to) => words + ' ' + time(from) + ' to ' + time(to))
      .replace(/\b(opens at|ended at|cut-off|[a-z]+_at) (\d{9,10})\b/g, (m, words, unix) => words + ' ' + time(unix));
  }

  // What went wrong, for a person: "(422 below_floor) price_cents 1 is under ...", the server's own words; null is
  // an API call that got no answer.
  function failure(answer) {
    if (!answer) return '网络不通 No connection';
    const e = errorOf(answer);
    return '(' + answer.status + ' ' + (e.code || '') + ') ' + (e.message || '');
  }

  // A route this server does not have (an older livebuyd): the page leaves that part out.
  function missing(answer) {
    return !!answer && (answer.status === 404 || answer.status === 405);
  }

  // An answer that decides nothing: none at all (a dropped network), 429 (the edge or livebuyd is busy: during a flash
  // sale) or 5xx (503 unavailable). The request may or may not have been done: send it again, the same (same key).
  function transient(answer) {
    return !answer || answer.status === 429 || answer.status >= 500;
  }

  // How long to wait before retry number attempt (0, 1, ...) of a call that got a transient answer: its Retry-After
  // (seconds, or an HTTP date), but at least base x (attempt + 1) ms, and never more than cap ms.
  function retryAfterMs(answer, attempt, { base = 300, cap = 3000 } = {}) {
    const header = answer && answer.headers && answer.headers.get('Retry-After');
    let seconds = 0;
    if (header && /^\s*\d+\s*$/.test(header)) seconds = Number(header);
    else if (header && !Number.isNaN(Date.parse(header))) seconds = Math.max(0, (Date.parse(header) - Date.now()) / 1000);
    return Math.min(cap, Math.max(base * (attempt + 1), seconds * 1000));
  }

  // Shows text in a .msg element (an id or the node): ok true green, false red, undefined plain.
  function say(target, text, ok) {
    const m = typeof target === 'string' ? document.getElementById(target) : target;
    m.textContent = text;
    m.className = 'msg ' + (ok === undefined ? '' : ok ? 'ok' : 'bad');
  }

  // ¥ from integer cents (fen): 2990 -> "¥29.90".
  function yuan(cents) {
    const n = Number(cents) || 0;
    const sign = n < 0 ? '-' : '';
    const a = Math.abs(n);
    return sign + '¥' + Math.floor(a / 100) + '.' + String(a % 100).padStart(2, '0');
  }

  // Parses "29.9" or "29.90" yuan into cents, or null.
  function cents(text) {
    const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text));
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
  }

  function pad2(n) {
    return String(n).padStart(2, '0');
  }

  // 3725 -> "01:02:05"; a day or more -> "2天 03:04:05".
  function duration(seconds) {
    let s = Math.max(0, Math.floor(seconds));
    const d = Math.floor(s / 86400);
    s %= 86400;
    const hms = pad2(Math.floor(s / 3600)) + ':' + pad2(Math.floor((s % 3600) / 60)) + ':' + pad2(s % 60);
    return d > 0 ? d + '天 ' + hms : hms;
  }

  // Every time the pages show or read is China time (Asia/Shanghai: UTC+8 all year, no daylight saving), whatever
  // the device's time zone: the API's from/to days and the CSV export are China time, and a phone in Xinjiang
  // (Asia/Urumqi, UTC+6) or a laptop on UTC must not move a cut-off typed as 20:00 to 22:00 Beijing time.
  const CHINA_OFFSET_S = 8 * 3600;

  // Unix seconds -> a Date whose UTC getters give the China wall clock.
  function chinaClock(unix) {
    return new Date((Math.floor(Number(unix)) + CHINA_OFFSET_S) * 1000);
  }

  // Unix seconds -> "2026-11-23 20:05:00", China time.
  function chinaDateTime(unix) {
    const t = chinaClock(unix);
    return (
      t.getUTCFullYear() + '-' + pad2(t.getUTCMonth() + 1) + '-' + pad2(t.getUTCDate()) + ' ' +
      pad2(t.getUTCHours()) + ':' + pad2(t.getUTCMinutes()) + ':' + pad2(t.getUTCSeconds())
    );
  }

  // Unix seconds -> the value of an <input type=datetime-local>, China wall time: "2026-11-23T20:05".
  function toChinaInput(unix) {
    return chinaClock(unix).toISOString().slice(0, 16);
  }

  // The value of an <input type=datetime-local> ("2026-11-23T20:05", seconds optional) or <input type=date>
  // ("2026-11-23": its midnight), read as China wall time -> Unix seconds; NaN when empty or not a time.
  function fromChinaInput(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/.exec(String(value || '').trim());
    if (!m) return NaN;
    const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x || 0));
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return NaN;
    return Math.floor(Date.UTC(y, mo - 1, d, h, mi, s) / 1000) - CHINA_OFFSET_S;
  }

  // Basis points as a percentage: 1000 -> "10%", 850 -> "8.5%".
  function percent(bp) {
    return Number((Number(bp) / 100).toFixed(2)) + '%';
  }

  // An offer's status as [Chinese, English], with who ended it and whether it is in force now.
  function offerStatus(o) {
    if (o.status === 'pending') return ['待接受', 'pending'];
    if (o.status === 'declined') return ['已拒绝', 'declined'];
    if (o.status === 'ended') return o.ended_by === 'host' ? ['主播已结束', 'ended by the host']
      : o.ended_by === 'coop' ? ['合作社已结束', 'ended by the co-op'] : ['已结束', 'ended'];
    if (o.current) return ['已接受', 'accepted'];
    return now() < o.starts_at ? ['已接受 未开始', 'accepted, not started'] : ['已接受 已过期', 'accepted, expired'];
  }

  // An offer's terms, one short phrase each: floor price, commission, quota, time window.
  function offerTerms(o) {
    return [
      '底价 floor ' + yuan(o.min_price_cents),
      '佣金 commission ' + percent(o.commission_bp),
      '数量 ' + o.max_quota + ' · 已上架 placed ' + o.placed + ' · 剩 left ' + o.left,
      chinaDateTime(o.starts_at) + ' 至 ' + chinaDateTime(o.ends_at),
    ];
  }

  // An order's status and a refund's, in Chinese (the API's own word goes beside it).
  const orderStatusNames = {
    reserved: '待付款', paid: '已付款', handed_off: '已交物流', shipped: '运输中', delivered: '已送达',
    expired: '已过期', cancelled: '已取消', refund_required: '待退款', refunded: '已退款', collected: '已取货',
  };
  const refundStatusNames = {
    requested: '退款申请待审核', rejected: '退款申请被拒绝', pending: '退款处理中', sent: '退款处理中',
    refunded: '已退款', failed: '退款失败', dead: '退款失败',
  };

  // A random key for Idempotency-Key: 32 hex characters (crypto.getRandomValues works on plain http too).
  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // document.createElement with attributes, properties and children in one call.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k in node && typeof v !== 'string') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // The public stock stream of a live (GET /v1/lives/{id}/stock, Server-Sent Events): onStock([{item_id, available}])
  // for the snapshot and for each change; onDown(closed) when it fails, closed true when the browser gave up on it (a
  // 404 from a server without the route, a refusal): reconnect later. Returns the EventSource, or null when the browser
  // has none.
  function stockStream(liveId, onStock, onDown) {
    if (typeof EventSource === 'undefined') return null;
    const stream = new EventSource('/v1/lives/' + liveId + '/stock');
    const receive = (e, many) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch (x) {
        return;
      }
      onStock(many ? d.items || [] : [d]);
    };
    stream.addEventListener('snapshot', (e) => receive(e, true));
    stream.addEventListener('stock', (e) => receive(e, false));
    stream.onerror = () => onDown(stream.readyState === EventSource.CLOSED);
    return stream;
  }

  // ---- the buyer pages: the buyer token ---------------------------------------------------------------------------------

  const byId = (id) => document.getElementById(id);

  // Where the buyer pages remember the buyer's token (the shop and the group-buy page share it).
  const BUYER_TOKEN_KEY = 'livebuy.buyer_token';

  // A buyer token b1.USER.EXPIRY.SIG that has not expired by the server's clock (now()): {token, user}; else null.
  function buyerToken(t) {
    const m = /^b1\.(\d+)\.(\d+)\.[0-9a-f]{64}$/.exec(t || '');
    return m && Number(m[2]) > now() ? { token: t, user: m[1] } : null;
  }

  // Where the shop remembers the ship-to form; 退出登录 forgets it with the token (a shared phone).
  const SHIP_TO_KEY = 'livebuy.ship_to';

  // The token of a buyer page's link, ?token=…, taken out of the address bar at once (links get shared, addresses go
  // into the history): call it before anything else, before any await. {token, user}; null when the link has none;
  // {refused: true} when its token is malformed or expired.
  function linkBuyerToken() {
    const params = new URLSearchParams(location.search);
    const fromUrl = params.get('token');
    if (fromUrl === null) return null;
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    return buyerToken(fromUrl.trim()) || { refused: true };
  }

  // How a buyer page signs in at its start, from its link's token (linkBuyerToken()) and the one remembered:
  //   - none in the link: the remembered one, if any, else signOut('') (the sign-in form);
  //   - the link's malformed or expired: the remembered one stays signed in, and the notice says the link's is no good;
  //   - the link's the remembered one, or a new one of the same buyer: signed in with it;
  //   - another buyer's: the remembered buyer stays signed in, and the notice asks before switching (a shared phone,
  //     a link someone else sent); switching calls signIn(link, {switched: true}).
  // signIn(b, {previous}) gets, in previous, the remembered token the link's replaced: the page goes back to it when the
  // server refuses the new one (a 401), rather than signing out.
  function startBuyer(link, { signIn, signOut }) {
    const saved = buyerToken(localStorage.getItem(BUYER_TOKEN_KEY));
    if (link && link.refused) {
      if (!saved) {
        signOut('链接中的令牌无效或已过期 The token in the link is invalid or expired');
        return;
      }
      signIn(saved);
      buyerNotice(false, '链接中的令牌无效或已过期，仍是买家 #' + saved.user + ' 登录',
        "The link's token is invalid or expired: buyer #" + saved.user + ' stays signed in');
      return;
    }
    if (!link) {
      if (saved) signIn(saved);
      else signOut('');
      return;
    }
    if (!saved || saved.token === link.token) {
      signIn(link);
      return;
    }
    if (saved.user === link.user) {
      signIn(link, { previous: saved.token });
      return;
    }
    signIn(saved);
    const box = buyerNotice(undefined, '切换账号？', 'Switch account?');
    box.append(el('div', { class: 'confirm', 'data-role': 'switch-confirm' },
      el('p', { text: '这个链接会以买家 #' + link.user + ' 登录，现在登录的是买家 #' + saved.user + '。切换后，本机保存的收货信息会清空。' }),
      el('p', { class: 'en', text: 'This link signs in as buyer #' + link.user + '; buyer #' + saved.user +
        ' is signed in now. Switching clears the ship-to saved on this phone.' }),
      el('button', { class: 'btn small', type: 'button', 'data-role': 'switch-yes', onclick: () => {
        box.remove();
        signIn(link, { previous: saved.token, switched: true });
      } }, '切换到买家 #' + link.user + ' ', el('span', { class: 'en', text: 'Switch' })),
      ' ',
      el('button', { class: 'btn ghost small', type: 'button', 'data-role': 'switch-no', onclick: () => box.remove() },
        '保持买家 #' + saved.user + ' ', el('span', { class: 'en', text: 'Keep' }))));
  }

  // A notice at the top of a buyer page, about its sign-in (#token-notice): ok as say() takes it. Returns the box.
  function buyerNotice(ok, zh, en) {
    const old = byId('token-notice');
    if (old) old.remove();
    const tone = ok === undefined ? '' : ok ? ' ok' : ' bad';
    const box = el('section', { class: 'card', id: 'token-notice', role: 'status' },
      el('div', { class: 'msg' + tone, 'data-role': 'notice' }, zh + ' ', el('span', { class: 'en', text: en })));
    document.querySelector('main').prepend(box);
    return box;
  }

  // ---- the merchant pages (the co-op dashboard, the host console): sign-in, tabs, the offers list ---------------------

  // The sign-in of a merchant page: the #login form with #login-token and #login-msg (hidden in the page, so that
  // nothing can be sent before this script runs; shown here when signed out), the #app behind it, the #who pill and the
  // #signout link. The token is kept in storage under key. check() is the page's own first look with the token: it
  // resolves true when signed in, else the answer that refused it (null when no answer came at all). Only a 401 or a
  // 403 (forbidden: what a 403 means on this page) signs out and forgets the stored token. A 429, a 5xx or no answer (a
  // busy server during a flash sale, a dropped network) keeps it: the page says so and checks again (Retry-After,
  // backing off, at most SIGN_IN_RETRY_CAP_MS apart). Any other answer is shown, and the stored token stays too.
  // onSignOut() is the page's cleanup. call(method, path, body, headers) is an API call with the token: null when no
  // answer came at all; a 401 signs out.
  const SIGN_IN_RETRY_CAP_MS = 5000;

  function merchantSession({ storage, key, check, onSignOut, forbidden = '这个令牌不能在这里使用 Not a token for this page' }) {
    let token = null;
    let signIns = 0; // bumped by each sign-in and sign-out: an older sign-in's retries stop
    // Says that the server is busy and the sign-in is tried again; above the sign-in form.
    const note = el('div', { class: 'msg card hidden', id: 'session-msg', role: 'status' });
    byId('login').before(note);

    function tell(text) {
      note.textContent = text;
      note.classList.toggle('hidden', !text);
    }

    // state: 'in', 'out', or 'waiting' (a sign-in waits for a busy server: the sign-in form stays as it was, and 退出
    // drops the remembered token).
    function show(state) {
      if (state !== 'waiting') byId('login').classList.toggle('hidden', state === 'in');
      byId('app').classList.toggle('hidden', state !== 'in');
      byId('signout').classList.toggle('hidden', state === 'out');
      const [zh, en] = { in: ['已登录', 'Signed in'], out: ['未登录', 'Signed out'], waiting: ['连接中', 'Connecting'] }[state];
      byId('who').replaceChildren(zh + ' ', el('span', { class: 'en', text: en }));
    }

    function signOut(message) {
      token = null;
      ++signIns;
      storage.removeItem(key);
      tell('');
      show('out');
      onSignOut();
      say('login-msg', message || '', false);
    }

    async function signIn(t) {
      const mine = ++signIns;
      token = t;
      for (let i = 0; ; ++i) {
        const result = await check();
        if (mine !== signIns) return false; // signed out meanwhile (call() on a 401, 退出), or signing in again
        if (result === true) {
          storage.setItem(key, t);
          tell('');
          show('in');
          return true;
        }
        const answer = result || null;
        if (answer && (answer.status === 401 || answer.status === 403)) {
          signOut(answer.status === 403 ? forbidden + ' ' + failure(answer) : '令牌无效 The token was refused');
          return false;
        }
        if (!transient(answer)) {
          // An answer that says nothing about the token: shown; a remembered token stays for the next visit.
          token = null;
          ++signIns;
          tell('');
          show('out');
          say('login-msg', '登录失败 Sign-in failed ' + failure(answer), false);
          return false;
        }
        const wait = retryAfterMs(answer, i, { base: 1000, cap: SIGN_IN_RETRY_CAP_MS });
        show('waiting');
        tell('服务器繁忙，' + Math.ceil(wait / 1000) + ' 秒后自动重试 Busy, retrying in ' + Math.ceil(wait / 1000) + ' s · ' + failure(answer));
        await sleep(wait);
        if (mine !== signIns) return false;
      }
    }

    async function call(method, path, body, headers) {
      let answer;
      try {
        answer = await api(method, path, { body, token, headers });
      } catch (e) {
        return null;
      }
      if (answer.status === 401) signOut('令牌无效 The token was refused');
      return answer;
    }

    byId('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      say('login-msg', '');
      signIn(byId('login-token').value.trim());
    });
    byId('signout').addEventListener('click', (e) => {
      e.preventDefault();
      signOut('');
    });

    return {
      call,
      signOut,
      token: () => token,
      // Signs in with the remembered token, if any; else shows the sign-in form.
      resume() {
        const saved = storage.getItem(key);
        if (saved) signIn(saved);
        else show('out');
      },
    };
  }

  // The tabs of a merchant page: a button of #tabs shows the section #tab-NAME and hides the other .tab sections, then
  // onShow(name). Returns show(name).
  function tabs(onShow) {
    function show(name) {
      for (const b of byId('tabs').querySelectorAll('button')) b.classList.toggle('active', b.dataset.tab === name);
      for (const section of document.querySelectorAll('.tab')) section.classList.toggle('hidden', section.id !== 'tab-' + name);
      onShow(name);
    }
    byId('tabs').addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (b) show(b.dataset.tab);
    });
    return show;
  }

  // The offers list of a merchant page (GET /v1/offers: a co-op's offers, or those made to a host), paged, drawn into
  // #offers-list: a status filter, #offers-msg, the rows in #offers. row(offer, list) draws an offer (offerRow, with
  // list.button for its actions); changed(offer) follows an action. load(more) resolves false when the server has no
  // offers at all (404/405).
  function offersList({ call, row, empty, changed }) {
    let next = null;
    const statuses = [['', '全部 All'], ['pending', '待接受 pending'], ['accepted', '已接受 accepted'],
      ['declined', '已拒绝 declined'], ['ended', '已结束 ended']];
    const filter = el('select', { id: 'offers-status', style: 'width:auto', 'aria-label': '状态 Status' },
      statuses.map(([value, text]) => el('option', { value, text })));
    const refresh = el('button', { class: 'btn ghost small', type: 'button', id: 'offers-refresh' }, '刷新 ', el('span', { class: 'en', text: 'Refresh' }));
    const box = el('div', { id: 'offers', class: 'list' });
    const moreButton = el('button', { class: 'btn ghost small hidden', type: 'button', id: 'offers-more' }, '加载更多 ', el('span', { class: 'en', text: 'Load more' }));
    byId('offers-list').replaceChildren(el('div', { class: 'inline-form' }, filter, refresh), el('div', { class: 'msg', id: 'offers-msg' }), box, moreButton);
    const list = {
      async load(more) {
        const status = filter.value;
        let path = '/v1/offers?limit=50' + (status ? '&status=' + status : '');
        if (more && next) path += '&after=' + next;
        const answer = await call('GET', path);
        if (missing(answer)) {
          box.replaceChildren();
          say('offers-msg', '这个服务器还没有合作邀约 This server has no offers yet ' + failure(answer), false);
          return false;
        }
        if (!answer || answer.status !== 200) {
          if (!answer || answer.status !== 401) say('offers-msg', '读取失败 Could not load ' + failure(answer), false);
          return true;
        }
        if (!more) box.replaceChildren();
        for (const o of answer.body.offers) box.append(row(o, list));
        next = answer.body.next;
        moreButton.classList.toggle('hidden', next === null || next === undefined);
        say('offers-msg', box.children.length === 0 ? empty : '');
        return true;
      },
      show(o) {
        const old = box.querySelector('[data-offer-id="' + o.id + '"]');
        if (old) old.replaceWith(row(o, list));
        else box.prepend(row(o, list));
        say('offers-msg', '');
      },
      // A button that posts POST /v1/offers/{id}/{verb} (accept, decline, end) and redraws the offer.
      button(o, verb, zh, en, ghost) {
        const b = el('button', { class: 'btn small' + (ghost ? ' ghost' : ''), type: 'button', 'data-action': verb },
          zh + ' ', el('span', { class: 'en', text: en }));
        b.addEventListener('click', async () => {
          b.disabled = true;
          const answer = await call('POST', '/v1/offers/' + o.id + '/' + verb);
          b.disabled = false;
          if (answer && answer.status === 200) {
            list.show(answer.body);
            const done = { accept: '已接受 Accepted', decline: '已拒绝 Declined', end: '已结束 Ended' }[verb] || zh;
            say('offers-msg', done + ' #' + o.id + ' ' + o.title, true);
            if (changed) changed(answer.body);
          } else if (!answer || answer.status !== 401) say('offers-msg', zh + '失败 Failed ' + failure(answer), false);
        });
        return b;
      },
    };
    filter.addEventListener('change', () => list.load(false));
    refresh.addEventListener('click', () => list.load(false));
    moreButton.addEventListener('click', () => list.load(true));
    return list;
  }

  // An offer as a row of the offers list: title and status, the other side (party), the terms, the action buttons.
  function offerRow(o, party, actions) {
    const [zh, en] = offerStatus(o);
    return el('div', { class: 'list-row offer', 'data-offer-id': String(o.id), 'data-status': o.status },
      el('div', {},
        el('div', {}, el('b', { text: '#' + o.id + ' ' + o.title }), ' ',
          el('span', { class: 'status ' + o.status, 'data-role': 'status', text: zh + ' ' + en })),
        el('div', { class: 'muted', text: party }),
        el('div', { class: 'terms', text: offerTerms(o).join(' · ') })),
      el('div', { class: 'actions' }, actions));
  }

  // One tap, one key: what to send for body is the last attempt again while its outcome is unknown (no answer, a 429 or
  // a 5xx: it may have been taken) and the body is the same, else a new attempt with a new Idempotency-Key.
  function attemptFor(last, body) {
    return last && !last.settled && JSON.stringify(last.body) === JSON.stringify(body) ? last
      : { key: randomKey(), body, settled: false };
  }

  // Sends attempt with send(attempt) (its answer; a throw is no answer), again after a transient answer, retries times
  // at most (onWait(answer), if given, before each wait of retryAfterMs); a definite answer settles the attempt, so
  // that the next tap is a new one. Returns the last answer (null: none).
  async function sendAttempt(attempt, send, retries, onWait) {
    let answer = null;
    for (let i = 0; i <= retries; ++i) {
      try {
        answer = await send(attempt);
      } catch (e) {
        answer = null; // no answer at all: the same key again is safe
      }
      if (!transient(answer)) break;
      if (i < retries) {
        if (onWait) onWait(answer);
        await sleep(retryAfterMs(answer, i));
      }
    }
    if (!transient(answer)) attempt.settled = true;
    return answer;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  return {
    api, errorOf, failure, missing, say, yuan, cents, duration, chinaDateTime, toChinaInput, fromChinaInput, now, percent,
    offerStatus, offerTerms, orderStatusNames, refundStatusNames, randomKey, el, stockStream, merchantSession, tabs, offersList, offerRow, sleep,
    BUYER_TOKEN_KEY, SHIP_TO_KEY, buyerToken, linkBuyerToken, startBuyer, buyerNotice, transient, retryAfterMs,
    attemptFor, sendAttempt,
  };
})();
