// The stream overlay, /overlay/{live_id}: one card for streaming software to capture (an OBS browser source; the page
// is transparent): the item on air, its flash price, a remaining-stock counter kept live by the public stock stream
// (GET /v1/lives/{id}/stock, else polling GET /v1/lives/{id} every 2 s) and 已售罄 once it sells out.
// The item shown: the one opened last that still has stock; one that just sold out stays on screen a while so viewers
// see 已售罄; before anything opens, the next to open with a countdown. An item taken off air is not shown, except as
// 已下架 when ?item=ID pins it (?item=ID shows that item only).
'use strict';

(() => {
  const { api, yuan, duration, now, stockStream, sleep } = LB;

  const POLL_MS = 2000;
  const REFRESH_MS = 10000; // the live's answer beside the stream: items put on air or taken off, titles, prices
  const STREAM_RETRY_MS = 15000;
  const SOLD_OUT_HOLD_S = 10;

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const liveId = (/^\/overlay\/(\d+)\/?$/.exec(location.pathname) || [])[1] || params.get('live');
  const pinned = /^\d+$/.test(params.get('item') || '') ? Number(params.get('item')) : null;

  const items = new Map(); // live item id -> the item as GET /v1/lives/{id} shows it, available kept current
  const soldOutAt = new Map(); // live item id -> when (seconds, this clock) this page saw its stock reach 0
  let shownId = null;
  let streamLive = false;
  let pollTimer = null;

  function message(text) {
    $('msg').textContent = text;
    $('msg').classList.toggle('hidden', !text);
  }

  function setAvailable(id, available) {
    const it = items.get(id);
    if (!it) return false;
    if (it.available > 0 && available <= 0) soldOutAt.set(id, Date.now() / 1000);
    it.available = available;
    return true;
  }

  function choose() {
    if (pinned !== null) return items.get(pinned) || null;
    const t = now();
    const candidates = [...items.values()].filter((it) => !it.closed && it.quota > 0);
    const shown = items.get(shownId);
    const since = shown && soldOutAt.get(shown.id);
    if (shown && !shown.closed && shown.available <= 0 && since !== undefined && Date.now() / 1000 - since < SOLD_OUT_HOLD_S) return shown;
    const open = candidates.filter((it) => it.opens_at <= t).sort((a, b) => b.opens_at - a.opens_at || b.id - a.id);
    const selling = open.find((it) => it.available > 0);
    if (selling) return selling;
    const next = candidates.filter((it) => it.opens_at > t).sort((a, b) => a.opens_at - b.opens_at || a.id - b.id)[0];
    return next || open[0] || null;
  }

  function render() {
    const it = choose();
    shownId = it ? it.id : null;
    $('card').classList.toggle('hidden', !it);
    if (!it) return;
    const open = it.opens_at <= now();
    const state = it.closed ? 'closed' : !open ? 'upcoming' : it.available > 0 ? 'selling' : 'sold_out';
    const card = $('card');
    card.dataset.itemId = String(it.id);
    card.dataset.state = state;
    card.classList.toggle('sold-out', state === 'sold_out' || state === 'closed');
    $('soldout').textContent = state === 'closed' ? '已下架' : '已售罄';
    if ($('title').textContent !== it.title) $('title').textContent = it.title;
    $('price').textContent = yuan(it.price_cents);
    $('count').textContent = String(Math.max(0, it.available));
    $('stock').dataset.available = String(it.available);
    $('stock').classList.toggle('low', it.available > 0 && it.available <= Math.max(3, it.quota / 10));
    const left = it.quota > 0 ? Math.min(100, Math.max(0, (100 * it.available) / it.quota)) : 0;
    $('bar').style.width = left.toFixed(1) + '%';
    $('note').textContent = state === 'upcoming'
      ? '距开抢 ' + duration(it.opens_at - now())
      : state === 'selling' ? '抢购中 · 每人限购 ' + it.per_buyer_limit + ' 件' : '';
  }

  // The live's answer: new items and their terms; its stock only while no stream is live (the answer may be older).
  function applyLive(live) {
    for (const data of live.items || []) {
      const it = items.get(data.id);
      if (!it) items.set(data.id, { ...data });
      else {
        const known = it.available;
        Object.assign(it, data);
        it.available = known;
        if (!streamLive) setAvailable(data.id, data.available);
      }
    }
    render();
  }

  async function fetchLive() {
    let answer;
    try {
      answer = await api('GET', '/v1/lives/' + liveId);
    } catch (e) {
      return false;
    }
    if (answer.status === 404) {
      message('找不到直播间 ' + liveId + ' · No such live');
      return false;
    }
    if (answer.status !== 200) return false;
    message('');
    applyLive(answer.body);
    return true;
  }

  function startPolling() {
    if (pollTimer === null) pollTimer = setInterval(fetchLive, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer !== null) clearInterval(pollTimer);
    pollTimer = null;
  }

  function connectStream() {
    const stream = stockStream(liveId, (list) => {
      streamLive = true;
      stopPolling();
      let unknown = false;
      for (const s of list) if (!setAvailable(s.item_id, s.available)) unknown = true;
      if (unknown) fetchLive(); // put on air since the last read
      render();
    }, (closed) => {
      streamLive = false;
      startPolling();
      if (closed) setTimeout(connectStream, STREAM_RETRY_MS);
    });
    if (stream === null) startPolling();
  }

  async function start() {
    if (!liveId) {
      message('地址里没有直播间编号 No live id in the address (/overlay/{id})');
      return;
    }
    while (!(await fetchLive())) await sleep(POLL_MS);
    connectStream();
    setInterval(render, 250);
    setInterval(fetchLive, REFRESH_MS);
  }

  start();
})();
