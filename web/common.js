// Shared by livebuy's pages: API calls, money and time formatting, random keys, the live stock stream.
// Plain browser JavaScript, no build step; everything the pages need is served by livebuyd from web/.
'use strict';

const LB = (() => {
  // The server's clock minus ours, in seconds, from the Date header of API answers (countdowns use server time).
  let clockOffset = 0;

  function noteServerDate(headers) {
    const date = headers.get('Date');
    if (!date) return;
    const server = Date.parse(date);
    if (!Number.isNaN(server)) clockOffset = Math.round((server - Date.now()) / 1000);
  }

  function now() {
    return Math.floor(Date.now() / 1000) + clockOffset;
  }

  // One API call. Resolves {status, body, headers} for every HTTP answer (errors included); rejects only when the
  // network fails (no answer at all).
  async function api(method, path, { body, token, headers = {} } = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers }, cache: 'no-store' };
    if (token) init.headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) {
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
    return e ? { code: e.code || '', message: e.message || '' } : { code: '', message: '' };
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

  // Unix seconds -> "2026-11-23 20:05:00" in local time.
  function dateTime(unix) {
    const t = new Date(unix * 1000);
    return (
      t.getFullYear() + '-' + pad2(t.getMonth() + 1) + '-' + pad2(t.getDate()) + ' ' +
      pad2(t.getHours()) + ':' + pad2(t.getMinutes()) + ':' + pad2(t.getSeconds())
    );
  }

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

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  return { api, errorOf, yuan, cents, duration, dateTime, now, randomKey, el, stockStream, sleep };
})();
