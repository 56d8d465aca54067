// Browser tests of livebuy's pages in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core;
// no browser download). Run by tests/integration/test_browser.py, which starts livebuyd, prepares the data through the
// API and passes it here in the environment:
//   LB_BASE_URL      http://127.0.0.1:PORT
//   LB_LIVE_ID       a live with one item (LB_ITEM_ID) of quota LB_QUOTA (6), per-buyer limit LB_LIMIT (2), opening at LB_OPENS_AT
//   LB_BUYER_TOKENS  five buyer tokens, comma-separated
//   LB_COOP_TOKEN    a co-op's merchant token; LB_COOP_SKU_ID one of its SKUs; LB_GROUP_BUY_ID a group-buy on it
//   LB_OVERLAY_LIVE_ID a live with one item (LB_OVERLAY_ITEM_ID) of quota LB_OVERLAY_QUOTA (5), limit 3, open now
//   LB_HOST_TOKEN    the host's merchant token, LB_HOST_ID its id, LB_HOST_SKU_ID one of its own SKUs (stock left)
//   LB_OFFER_ID      the co-op's pending offer to the host of LB_OFFER_SKU_ID: max_quota 20, floor 30.00, commission 10%
//   LB_PAYMENT_SECRET the server's --payment-secret (the tests pay an order as the payment provider would)
//   LB_ORDERS_LIVE_ID a live with one item (LB_ORDERS_ITEM_ID) of quota LB_ORDERS_QUOTA, open now, for 我的订单 and the
//                    sandbox cashier (the server runs with --payment-sandbox); LB_ORDERS_BUYER_TOKEN its buyer
//   LB_GROUP_BUYER_TOKEN a buyer who joins LB_GROUP_BUY_ID from its page; LB_FAILED_GROUP_BUY_ID a campaign that failed
//   LB_STATION_TOKEN a station's merchant token; LB_STATION_SHIPMENT_ID a delivered shipment to its pickup point (of
//                    campaign LB_STATION_GROUP_BUY_ID), LB_STATION_ORDER_ID one of its orders, of the buyer whose
//                    token is LB_STATION_BUYER_TOKEN
//   LB_SCREENSHOT_DIR where the screenshots go (shop.png, coop.png, ...)
//   LB_CHROMIUM      the browser (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium } from './launch.mjs';

const env = process.env;
for (const name of ['LB_BASE_URL', 'LB_LIVE_ID', 'LB_ITEM_ID', 'LB_BUYER_TOKENS', 'LB_COOP_TOKEN', 'LB_SCREENSHOT_DIR'])
  if (!env[name]) throw new Error(name + ' is not set (run through tests/integration/test_browser.py)');

const BASE = env.LB_BASE_URL;
const LIVE = Number(env.LB_LIVE_ID);
const ITEM = Number(env.LB_ITEM_ID);
const QUOTA = Number(env.LB_QUOTA);
const LIMIT = Number(env.LB_LIMIT);
const OPENS_AT = Number(env.LB_OPENS_AT);
const BUYERS = env.LB_BUYER_TOKENS.split(',');
const COOP = env.LB_COOP_TOKEN;
const COOP_SKU = Number(env.LB_COOP_SKU_ID);
const GROUP_BUY = Number(env.LB_GROUP_BUY_ID);
const OVERLAY_LIVE = Number(env.LB_OVERLAY_LIVE_ID);
const OVERLAY_ITEM = Number(env.LB_OVERLAY_ITEM_ID);
const OVERLAY_QUOTA = Number(env.LB_OVERLAY_QUOTA);
const HOST = env.LB_HOST_TOKEN;
const HOST_ID = Number(env.LB_HOST_ID);
const HOST_SKU = Number(env.LB_HOST_SKU_ID);
const OFFER = Number(env.LB_OFFER_ID);
const OFFER_SKU = Number(env.LB_OFFER_SKU_ID);
const ORDERS_LIVE = Number(env.LB_ORDERS_LIVE_ID);
const ORDERS_ITEM = Number(env.LB_ORDERS_ITEM_ID);
const ORDERS_QUOTA = Number(env.LB_ORDERS_QUOTA);
const ORDERS_BUYER = env.LB_ORDERS_BUYER_TOKEN;
const GROUP_BUYER = env.LB_GROUP_BUYER_TOKEN;
const FAILED_GROUP_BUY = Number(env.LB_FAILED_GROUP_BUY_ID);
const STATION = env.LB_STATION_TOKEN;
const STATION_SHIPMENT = Number(env.LB_STATION_SHIPMENT_ID);
const STATION_ORDER = Number(env.LB_STATION_ORDER_ID);
const STATION_GROUP_BUY = Number(env.LB_STATION_GROUP_BUY_ID);
const BUYER_1101 = env.LB_STATION_BUYER_TOKEN;
const SHOTS = env.LB_SCREENSHOT_DIR;
const SHIP_TO = { name: '李四', phone: '13900000001', address: '山西省长治市武乡县丰州镇岭头村 3 号' };

fs.mkdirSync(SHOTS, { recursive: true });

let browser;
const pageErrors = [];

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
});

async function api(method, urlPath, { body, token, key } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  if (key) headers['Idempotency-Key'] = key;
  const res = await fetch(BASE + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// An order placed from outside the page (another viewer's phone).
async function outsideOrder(token, body) {
  const answer = await api('POST', '/v1/orders', { body: { ship_to: SHIP_TO, ...body }, token, key: randomUUID() });
  assert.equal(answer.status, 201, 'outside order: ' + JSON.stringify(answer.body));
  return answer.body;
}

// A live of the host's own with items on air, opening now (each item's sku_id, price_cents, quota and
// per_buyer_limit): {live, items}, as the API answered them.
async function liveOnAir(title, items) {
  const live = await api('POST', '/v1/lives', { token: HOST, body: { title, starts_at: Math.floor(Date.now() / 1000) } });
  assert.equal(live.status, 201, JSON.stringify(live.body));
  const onAir = [];
  for (const item of items) {
    const answer = await api('POST', `/v1/lives/${live.body.id}/items`, { token: HOST, body: { opens_at: 0, ...item } });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    onAir.push(answer.body);
  }
  return { live: live.body, items: onAir };
}

// The payment provider's notify for an order (signed as docs/api.md says).
async function pay(order) {
  const body = JSON.stringify({ order_id: order.id, provider_txn_id: 'wxpay-' + randomUUID(), amount_cents: order.amount_cents });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', env.LB_PAYMENT_SECRET).update(ts + '.' + body).digest('hex');
  const res = await fetch(BASE + '/v1/payments/notify', {
    method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Livebuy-Timestamp': ts, 'X-Livebuy-Signature': 'sha256=' + sig },
  });
  assert.equal(res.status, 200, 'payment notify: ' + (await res.text()));
}

// Waits until selector matches, within ms; the error names what the page shows instead (shown(page)).
async function within(page, selector, ms, what, shown) {
  const started = Date.now();
  try {
    await page.waitForSelector(selector, { timeout: ms });
  } catch (e) {
    throw new Error(`${what}: not within ${ms} ms; the page shows ${shown ? await shown() : '(nothing matching)'}`);
  }
  return Date.now() - started;
}

async function fits(page, width) {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scroll <= width, `the page fits ${width} px (it is ${scroll} px wide)`);
}

// timezoneId: the device's time zone (IANA), else the machine's.
async function newPage(viewport, { mobile = false, timezoneId } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 2, isMobile: mobile, hasTouch: mobile, locale: 'zh-CN',
    ...(timezoneId ? { timezoneId } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  return page;
}

const item = (page) => page.locator(`[data-item-id="${ITEM}"]`);

// Waits until the page shows this stock count for the item (from the SSE stream or the 2 s polling).
async function seeStock(page, n, what) {
  try {
    await page.waitForSelector(`[data-item-id="${ITEM}"] [data-role=stock][data-available="${n}"]`, { timeout: 8000 });
  } catch (e) {
    const shown = await item(page).locator('[data-role=stock]').getAttribute('data-available');
    throw new Error(`${what}: the page shows stock ${shown}, expected ${n}`);
  }
}

async function seeResult(page, outcome) {
  const result = item(page).locator(`[data-role=result][data-outcome="${outcome}"]`);
  try {
    await result.waitFor({ timeout: 10000 });
  } catch (e) {
    const got = await item(page).locator('[data-role=result]').textContent();
    throw new Error(`expected the result "${outcome}", the page shows: ${got}`);
  }
  return result.textContent();
}

async function fillShipTo(page) {
  if (!(await page.locator('#ship').evaluate((d) => d.open))) await page.locator('#ship > summary').click();
  await page.fill('#ship-name', SHIP_TO.name);
  await page.fill('#ship-phone', SHIP_TO.phone);
  await page.fill('#ship-address', SHIP_TO.address);
}

test('shop page: countdown, live stock, buying, over the limit, sold out', async () => {
  const page = await newPage({ width: 375, height: 812 }, { mobile: true });
  await page.goto(`${BASE}/shop/${LIVE}?token=${encodeURIComponent(BUYERS[0])}`);
  await item(page).waitFor();

  // The token left the address bar, the live's title and the item's flash price are shown.
  assert.ok(!page.url().includes('token='), 'the token should be taken out of the URL: ' + page.url());
  assert.match(await page.locator('#live-title').textContent(), /小米专场/);
  assert.match(await item(page).locator('.title').textContent(), /武乡小米/);
  assert.equal(await item(page).locator('[data-role=price]').textContent(), '¥39.90');
  assert.match(await item(page).locator('[data-role=limit]').textContent(), new RegExp('限购 ' + LIMIT));
  await seeStock(page, QUOTA, 'at load');

  // Before opens_at: a countdown and a disabled button.
  if (OPENS_AT - Date.now() / 1000 > 1.5) {
    assert.match(await item(page).locator('[data-role=countdown]').textContent(), /距开抢 Opens in \d\d:\d\d:\d\d/);
    assert.ok(await item(page).locator('[data-role=buy]').isDisabled(), 'the buy button is disabled before opening');
    assert.match(await item(page).locator('[data-role=buy]').textContent(), /未开始/);
    await page.screenshot({ path: path.join(SHOTS, 'shop-countdown.png'), fullPage: true });
  }
  await page.waitForSelector(`[data-item-id="${ITEM}"] [data-role=buy]:not([disabled])`, {
    timeout: Math.max(0, OPENS_AT * 1000 - Date.now()) + 8000,
  });
  assert.match(await item(page).locator('[data-role=countdown]').textContent(), /已开抢/);

  // Another viewer buys 2: the count on this page drops.
  await outsideOrder(BUYERS[1], { live_item_id: ITEM, qty: 2 });
  await seeStock(page, QUOTA - 2, 'after an outside order of 2');

  // Buy 2 through the page (the picker stops at the per-buyer limit): reserved, with the order id.
  await fillShipTo(page);
  const plus = item(page).locator('.qty button').nth(1);
  for (let i = 0; i < LIMIT + 2; ++i) if (!(await plus.isDisabled())) await plus.click();
  assert.equal(await item(page).locator('[data-role=qty]').textContent(), String(LIMIT));
  await item(page).locator('[data-role=buy]').click();
  const reserved = await seeResult(page, 'reserved');
  assert.match(reserved, /已抢到/);
  const orderId = Number(await item(page).locator('[data-role=result]').getAttribute('data-order-id'));
  assert.ok(orderId > 0, 'the result names the order: ' + reserved);
  assert.match(reserved, new RegExp('#' + orderId));
  assert.match(reserved, /¥79\.80/);
  await seeStock(page, QUOTA - 2 - LIMIT, 'after buying through the page');
  const order = await api('GET', '/v1/orders/' + orderId, { token: BUYERS[0] });
  assert.equal(order.status, 200);
  assert.equal(order.body.status, 'reserved');
  assert.equal(order.body.qty, LIMIT);
  assert.deepEqual(order.body.ship_to, SHIP_TO);
  // The ship-to form is remembered.
  assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('livebuy.ship_to'))), SHIP_TO);
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 375, 'the page fits 375 px');
  await page.screenshot({ path: path.join(SHOTS, 'shop.png'), fullPage: true });

  // The same buyer again: over the limit.
  const minus = item(page).locator('.qty button').nth(0);
  while (!(await minus.isDisabled())) await minus.click();
  await item(page).locator('[data-role=buy]').click();
  assert.match(await seeResult(page, 'limit_exceeded'), /超出限购.*您已买 \d+ 件/); // the refusal's held, in Chinese

  // A second viewer whose page sees no stream and whose polling stalls (a slow network): it still shows stock when
  // the last units go, taps buy and is told "sold out".
  const other = await newPage({ width: 375, height: 740 }, { mobile: true });
  let stalled = false;
  await other.route((url) => url.pathname === `/v1/lives/${LIVE}/stock`, (route) => route.abort());
  await other.route((url) => url.pathname === `/v1/lives/${LIVE}`, (route) => (stalled ? route.abort() : route.continue()));
  await other.goto(`${BASE}/shop/${LIVE}?token=${encodeURIComponent(BUYERS[3])}`);
  await seeStock(other, QUOTA - 2 - LIMIT, 'second viewer at load');
  await fillShipTo(other);
  stalled = true;
  await outsideOrder(BUYERS[2], { live_item_id: ITEM, qty: QUOTA - 2 - LIMIT });
  await seeStock(page, 0, 'after the last units went');
  assert.match(await item(page).locator('[data-role=buy]').textContent(), /已售罄/);
  assert.ok(await item(page).locator('[data-role=buy]').isDisabled(), 'a sold-out item cannot be bought');
  await item(other).locator('[data-role=buy]').click();
  assert.match(await seeResult(other, 'sold_out'), /已售罄/);
  await other.screenshot({ path: path.join(SHOTS, 'shop-sold-out.png'), fullPage: true });
  stalled = false;
  await seeStock(other, 0, 'second viewer once the network is back');
  await other.context().close();
  await page.context().close();
});

test('shop page: demo sign-in when the URL has no token', async () => {
  const page = await newPage({ width: 375, height: 812 }, { mobile: true });
  await page.goto(`${BASE}/shop/${LIVE}`);
  await page.locator('#login').waitFor();
  await page.fill('#login-token', 'not-a-token');
  await page.click('#login-form button[type=submit]');
  assert.match(await page.locator('#login-msg').textContent(), /令牌/);
  await page.fill('#login-token', BUYERS[4]);
  await page.click('#login-form button[type=submit]');
  await page.locator('#login').waitFor({ state: 'hidden' });
  assert.match(await page.locator('#buyer-label').textContent(), /#\d+/);
  await page.context().close();
});

test('co-op dashboard: sign in, stock, restock, orders, group-buy progress, add a product', async () => {
  // A direct order on the co-op's SKU and a join of its group-buy, so there is something to see.
  const direct = await outsideOrder(BUYERS[4], { sku_id: COOP_SKU, qty: 3 });
  const gb = await api('GET', '/v1/group-buys/' + GROUP_BUY);
  assert.equal(gb.status, 200);
  const join = await api('POST', '/v1/orders', { body: { group_buy_id: GROUP_BUY, qty: 1 }, token: BUYERS[3], key: randomUUID() });
  assert.equal(join.status, 201, JSON.stringify(join.body));
  const before = (await api('GET', '/v1/skus/' + COOP_SKU)).body;

  const page = await newPage({ width: 1100, height: 800 });
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', 'wrong-token-wrong-token');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-msg').textContent.length > 0);
  assert.ok(await page.locator('#app').isHidden());

  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  const row = page.locator(`#skus-table tr[data-sku-id="${COOP_SKU}"]`);
  await row.waitFor();
  const cell = (role) => row.locator(`[data-role=${role}]`).textContent();
  assert.equal(await cell('stock'), String(before.stock));
  assert.equal(await cell('reserved'), String(before.reserved));
  assert.equal(await cell('held'), String(before.held));
  assert.equal(await cell('available'), String(before.available));

  // Restock 10.
  await row.locator('.restock input').fill('10');
  await row.locator('.restock button').click();
  await page.waitForSelector(`#skus-table tr[data-sku-id="${COOP_SKU}"] [data-role=stock]:text-is("${before.stock + 10}")`);
  assert.equal((await api('GET', '/v1/skus/' + COOP_SKU)).body.stock, before.stock + 10);

  // Orders: the direct order is listed.
  await page.click('#tabs button[data-tab=orders]');
  await page.locator(`#orders-table tr[data-order-id="${direct.id}"]`).waitFor();
  assert.match(await page.locator(`#orders-table tr[data-order-id="${direct.id}"]`).textContent(), /待付款 reserved/);
  // The join is collected at the station: named, not numbered.
  assert.match(await page.locator(`#orders-table tr[data-order-id="${join.body.id}"]`).textContent(), /自提点 岭头村村级服务站/);
  await page.screenshot({ path: path.join(SHOTS, 'coop-orders.png'), fullPage: true });

  // Group-buys: listed without typing an id, with the station's name.
  await page.click('#tabs button[data-tab=groups]');
  const progress = page.locator(`[data-group-id="${GROUP_BUY}"] [data-role=progress]`);
  await progress.waitFor();
  assert.match(await progress.textContent(), new RegExp('已参团 ' + (gb.body.joined_qty + 1) + ' / 成团 ' + gb.body.min_qty));
  assert.match(await page.locator(`[data-group-id="${GROUP_BUY}"] [data-role=station]`).textContent(), /岭头村村级服务站/);
  await page.screenshot({ path: path.join(SHOTS, 'coop-groups.png'), fullPage: true });

  // Add a product with two SKUs: it shows in the list.
  await page.click('#tabs button[data-tab=add]');
  await page.fill('#add-title', '沁县核桃 薄皮');
  await page.fill('#add-unit', '斤');
  await page.fill('#add-origin', '山西省长治市沁县');
  await page.click('#add-sku');
  const skuRows = page.locator('#add-skus .sku-row');
  const values = [['一级果 500g', '25.80', '120', '520'], ['特级果 1kg', '49.90', '60', '1030']];
  for (let i = 0; i < 2; ++i) {
    const r = skuRows.nth(i);
    await r.locator('[name=sku-name]').fill(values[i][0]);
    await r.locator('[name=sku-price]').fill(values[i][1]);
    await r.locator('[name=sku-stock]').fill(values[i][2]);
    await r.locator('[name=sku-weight]').fill(values[i][3]);
  }
  await page.click('#add-submit');
  await page.locator('#tab-skus').waitFor();
  await page.waitForSelector('#skus-table tr:has-text("沁县核桃 薄皮")');
  assert.equal(await page.locator('#skus-table tr:has-text("沁县核桃 薄皮")').count(), 2);
  const listed = (await api('GET', '/v1/merchant/skus?limit=200', { token: COOP })).body.skus.filter((s) => s.title === '沁县核桃 薄皮');
  assert.deepEqual(listed.map((s) => [s.name, s.price_cents, s.stock, s.weight_grams]),
    [['一级果 500g', 2580, 120, 520], ['特级果 1kg', 4990, 60, 1030]]);
  await page.screenshot({ path: path.join(SHOTS, 'coop.png'), fullPage: true });

  // A reload keeps the session (sessionStorage).
  await page.reload();
  await row.waitFor();
  await page.context().close();
});

// The console's item under the offer, for the co-op's test below.
let consoleItem = 0;

test('host console at 390 px: sign in, create a live, accept an offer, put items on air, live sales, take off air', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/host`);

  // A co-op's token is not a host's: refused with the reason.
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('login-msg').textContent.length > 0);
  assert.match(await page.locator('#login-msg').textContent(), /不是主播/);
  await page.fill('#login-token', HOST);
  await page.click('#login-form button[type=submit]');
  await page.locator('#app').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('livebuy.host_token')), HOST, 'the token is remembered');
  await page.locator('#offers-count:not(.hidden)').waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'host-lives.png'), fullPage: true });

  // Create a live: the console opens it.
  await page.click('#new-live > summary');
  await page.fill('#live-title-input', '长治直播间 · 沁州黄小米专场');
  await page.click('#live-form button[type=submit]');
  await page.locator('#tab-live:not(.hidden)').waitFor();
  await page.waitForFunction(() => /沁州黄小米专场/.test(document.getElementById('live-title').textContent));
  const liveId = Number(/^#live\/(\d+)$/.exec(await page.evaluate(() => location.hash))[1]);
  assert.ok(liveId > 0);
  assert.equal(await page.locator('#live-overlay').getAttribute('href'), `/overlay/${liveId}`);
  await page.waitForSelector('#feed[data-mode="sales"]'); // the host's own sales stream, not the fallback

  // The offers tab: accept the co-op's pending offer, then put it on air from its row.
  await page.click('#tabs button[data-tab=offers]');
  const offerRow = page.locator(`#offers [data-offer-id="${OFFER}"]`);
  await offerRow.waitFor();
  assert.match(await offerRow.textContent(), /待接受 pending/);
  assert.match(await offerRow.textContent(), /底价 floor ¥30\.00.*佣金 commission 10%/);
  await offerRow.locator('[data-action=accept]').click();
  await page.waitForSelector(`#offers [data-offer-id="${OFFER}"][data-status="accepted"]`);
  await page.locator('#offers-count.hidden').waitFor({ state: 'attached' });
  await page.screenshot({ path: path.join(SHOTS, 'host-offers.png'), fullPage: true });
  await page.locator(`#offers [data-offer-id="${OFFER}"] [data-action=on-air]`).click();
  await page.locator('#tab-live:not(.hidden)').waitFor();
  await page.waitForFunction((key) => document.getElementById('onair-source').value === key, 'offer:' + OFFER);
  assert.match(await page.locator('#onair-terms').textContent(), /底价 floor ¥30\.00/);
  assert.equal(await page.locator('#onair-quota').inputValue(), '20', 'the quota starts at what the offer has left');

  // Under the floor: the server's refusal is shown, and nothing is on air.
  await page.fill('#onair-price', '25.00');
  await page.fill('#onair-quota', '10');
  await page.fill('#onair-limit', '3');
  await page.click('#onair-submit');
  await page.waitForSelector('#onair-msg.bad');
  const refusal = await page.locator('#onair-msg').textContent();
  assert.match(refusal, /低于邀约底价/);
  assert.match(refusal, new RegExp(`422 below_floor\\) price_cents 2500 is under offer ${OFFER}'s floor of 3000`));
  assert.equal(await page.locator('#live-items .item').count(), 0);

  // At the floor or above: on air at once.
  await page.fill('#onair-price', '39.90');
  await page.click('#onair-submit');
  await page.waitForSelector('#onair-msg.ok');
  const card = page.locator('#live-items .item').first();
  await card.waitFor();
  consoleItem = Number(await card.getAttribute('data-item-id'));
  assert.ok(consoleItem > 0);
  const stat = (role) => `[data-item-id="${consoleItem}"] [data-role=${role}]`;
  await page.waitForSelector(`[data-item-id="${consoleItem}"][data-state=selling]`);
  await page.waitForSelector(`${stat('available')}[data-value="10"]`);
  assert.match(await card.locator('[data-role=terms]').textContent(), /直播价 ¥39\.90 · 限购 3 · 数量 quota 10 · 邀约 offer #\d+ · 佣金 10%/);

  // A viewer orders 2 over the API: the console shows it within two seconds; then the payment, the same.
  const shown = () => card.locator('.stats').textContent();
  const order = await outsideOrder(BUYERS[3], { live_item_id: consoleItem, qty: 2 });
  await within(page, `${stat('reserved')}[data-value="2"]`, 2000, 'the order on the console', shown);
  await within(page, `${stat('available')}[data-value="8"]`, 2000, 'the quota left', shown);
  assert.equal(await page.locator(stat('recent')).textContent(), '+2 件');
  assert.equal(await page.locator('#live-totals [data-role=total-recent]').textContent(), '+2 件');
  await pay(order);
  await within(page, `${stat('sold')}[data-value="2"]`, 2000, 'the payment on the console', shown);
  await within(page, `${stat('reserved')}[data-value="0"]`, 2000, 'the reservation paid', shown);
  assert.equal(await page.locator(stat('revenue')).textContent(), '¥79.80');
  assert.equal(await page.locator(stat('commission')).textContent(), '¥7.98'); // 2 x floor(3990 x 10%)
  assert.equal(await page.locator('#live-totals [data-role=total-revenue]').textContent(), '¥79.80');
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'host-live.png'), fullPage: true });

  // The host's own SKU needs no offer; taking it off air gives its quota back.
  await page.selectOption('#onair-source', 'sku:' + HOST_SKU);
  assert.match(await page.locator('#onair-terms').textContent(), /自有商品.*无佣金/);
  await page.fill('#onair-price', '50.00');
  await page.fill('#onair-quota', '3');
  await page.click('#onair-submit');
  await page.waitForSelector('#onair-msg.ok');
  await page.waitForFunction(() => document.querySelectorAll('#live-items .item').length === 2);
  const own = page.locator('#live-items .item').first();
  const ownId = Number(await own.getAttribute('data-item-id'));
  assert.notEqual(ownId, consoleItem, 'the newest item comes first');
  assert.doesNotMatch(await own.locator('[data-role=terms]').textContent(), /邀约/);
  await own.locator('[data-role=close]').click();
  await page.waitForSelector(`[data-item-id="${ownId}"][data-state=closed]`);
  assert.match(await own.locator('.msg').textContent(), /退回 3 件/);
  assert.ok(await own.locator('[data-role=close]').isHidden());

  // A reload comes back to the same live, signed in.
  await page.reload();
  await page.waitForSelector(`${stat('sold')}[data-value="2"]`);
  await page.waitForSelector(`[data-item-id="${ownId}"][data-state=closed]`);
  await page.context().close();
});

test('co-op dashboard at 390 px: a host\'s hold under its SKU, closing it, offers', async () => {
  assert.ok(consoleItem > 0, 'the console test put an item on air');
  const skuBefore = (await api('GET', '/v1/skus/' + OFFER_SKU)).body;
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');

  // The hold: which host's live item holds how much, sold, price.
  const hold = page.locator(`tr[data-holds-for="${OFFER_SKU}"] [data-live-item-id="${consoleItem}"]`);
  await hold.waitFor();
  assert.match(await hold.textContent(), /长治直播间/);
  assert.match(await hold.locator('[data-role=hold-figures]').textContent(),
    /直播价 ¥39\.90 · 数量 quota 10 · 已售 sold 2 · 待付款 unpaid 0 · 剩 left 8/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-holds.png'), fullPage: true });

  // 下架: the co-op takes the host's item off air; its 8 unsold units come back to the SKU.
  await hold.locator('[data-role=close-hold]').click();
  await page.waitForSelector('#skus-msg.ok');
  assert.match(await page.locator('#skus-msg').textContent(), /退回 8 件/);
  await hold.waitFor({ state: 'detached' });
  const row = page.locator(`#skus-table tr[data-sku-id="${OFFER_SKU}"]`);
  await page.waitForSelector(`#skus-table tr[data-sku-id="${OFFER_SKU}"] [data-role=held]:text-is("${skuBefore.held - 8}")`);
  assert.equal(await row.locator('[data-role=available]').textContent(), String(skuBefore.available + 8));

  // The offers tab fits the phone; make an offer to the host, then end it.
  await page.click('#tabs button[data-tab=offers]');
  const tabsBox = await page.locator('#tabs').boundingBox();
  assert.ok(tabsBox.x + tabsBox.width <= 390, 'the tabs fit 390 px');
  for (const b of await page.locator('#tabs button').all()) {
    const box = await b.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, 'each tab is on the screen');
  }
  await page.waitForSelector(`#offers [data-offer-id="${OFFER}"][data-status="accepted"]`);
  await page.click('#offer-new > summary');
  await page.selectOption('#offer-sku', String(COOP_SKU));
  await page.fill('#offer-host', String(HOST_ID));
  await page.fill('#offer-quota', '30');
  await page.fill('#offer-floor', '28.00');
  await page.fill('#offer-commission', '8.5');
  await page.click('#offer-submit');
  await page.waitForSelector('#offer-msg.ok');
  const made = page.locator('#offers .offer').first();
  const madeId = Number(await made.getAttribute('data-offer-id'));
  assert.equal(await made.getAttribute('data-status'), 'pending');
  assert.match(await made.textContent(), /底价 floor ¥28\.00 · 佣金 commission 8\.5% · 数量 30/);
  const offer = await api('GET', '/v1/offers/' + madeId, { token: COOP });
  assert.equal(offer.status, 200);
  assert.deepEqual([offer.body.sku_id, offer.body.host_id, offer.body.max_quota, offer.body.min_price_cents, offer.body.commission_bp],
    [COOP_SKU, HOST_ID, 30, 2800, 850]);
  // A host id that is not a host: the server's message.
  await page.fill('#offer-host', '999999');
  await page.click('#offer-submit');
  await page.waitForSelector('#offer-msg.bad');
  assert.match(await page.locator('#offer-msg').textContent(), /422 invalid/);
  await made.locator('[data-action=end]').click();
  await page.waitForSelector(`#offers [data-offer-id="${madeId}"][data-status="ended"]`);
  assert.match(await page.locator(`#offers [data-offer-id="${madeId}"]`).textContent(), /合作社已结束/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-offers.png'), fullPage: true });
  await page.context().close();
});

test('stream overlay: transparent, the item on air, the counter goes down, 已售罄', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/overlay/${OVERLAY_LIVE}`);
  const card = page.locator(`#card[data-item-id="${OVERLAY_ITEM}"]`);
  await card.waitFor();
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgba(0, 0, 0, 0)');
  assert.match(await page.locator('#title').textContent(), /沁州黄小米 礼盒 1kg 礼盒/);
  assert.equal(await page.locator('#price').textContent(), '¥45.80');
  assert.equal(await card.getAttribute('data-state'), 'selling');
  const seeCount = async (n, what) => {
    const started = Date.now();
    try {
      await page.waitForSelector(`#stock[data-available="${n}"]`, { timeout: 3000 });
    } catch (e) {
      throw new Error(`${what}: the overlay shows ${await page.locator('#count').textContent()}, expected ${n}`);
    }
    return Date.now() - started;
  };
  await seeCount(OVERLAY_QUOTA, 'at load');
  await page.screenshot({ path: path.join(SHOTS, 'overlay.png'), omitBackground: true });

  // Orders from viewers' phones: the counter follows each within two seconds, then 已售罄.
  let left = OVERLAY_QUOTA;
  for (const [i, qty] of [[0, 2], [1, 1]]) {
    await outsideOrder(BUYERS[i], { live_item_id: OVERLAY_ITEM, qty });
    left -= qty;
    assert.ok((await seeCount(left, 'after an order of ' + qty)) < 2000, 'the counter follows within two seconds');
  }
  assert.ok(await page.locator('#soldout').isHidden(), '已售罄 only once sold out');
  await outsideOrder(BUYERS[2], { live_item_id: OVERLAY_ITEM, qty: left });
  await seeCount(0, 'after the last units');
  await page.waitForSelector(`#card[data-state="sold_out"]`, { timeout: 2000 });
  assert.ok(await page.locator('#soldout').isVisible(), '已售罄 shows');
  assert.equal(await page.locator('#soldout').textContent(), '已售罄');
  await page.screenshot({ path: path.join(SHOTS, 'overlay-sold-out.png'), omitBackground: true });

  // Taken off air: pinned with ?item= it says 已下架, not 已售罄 (the live's answer is re-read every 10 s).
  const closed = await api('POST', `/v1/live-items/${OVERLAY_ITEM}/close`, { token: HOST });
  assert.equal(closed.status, 200, JSON.stringify(closed.body));
  await page.goto(`${BASE}/overlay/${OVERLAY_LIVE}?item=${OVERLAY_ITEM}`);
  await page.waitForSelector(`#card[data-item-id="${OVERLAY_ITEM}"][data-state="closed"]`, { timeout: 12000 });
  assert.equal(await page.locator('#soldout').textContent(), '已下架');

  // An unknown live says so instead of showing nothing.
  await page.goto(`${BASE}/overlay/999999`);
  await page.waitForSelector('#msg:not(.hidden)');
  assert.match(await page.locator('#msg').textContent(), /找不到直播间/);
  await page.context().close();
});

// 我的订单 and the sandbox cashier on a phone: buy, the order listed with its countdown, 去付款 to the cashier, a failed
// payment changes nothing, 确认支付 pays through the provider's notify, and after a reload the order is paid.
test('my orders at 390 px: buy, pay in the sandbox cashier, paid after a reload', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  const shop = `${BASE}/shop/${ORDERS_LIVE}`;
  const card = page.locator(`[data-item-id="${ORDERS_ITEM}"]`);
  await page.goto(`${shop}?token=${encodeURIComponent(ORDERS_BUYER)}`);
  await card.waitFor();
  await page.locator('#orders').waitFor();
  assert.match(await page.locator('#orders-msg').textContent(), /还没有订单/);
  await fillShipTo(page);
  await card.locator('[data-role=buy]:not([disabled])').click();
  await card.locator('[data-role=result][data-outcome=reserved]').waitFor();
  const orderId = Number(await card.locator('[data-role=result]').getAttribute('data-order-id'));
  assert.ok(orderId > 0);

  // Listed at once, with what it costs and a countdown to its pay-by time.
  const row = page.locator(`#orders .order[data-order-id="${orderId}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'reserved');
  assert.match(await row.textContent(), /沁州黄小米 礼盒 1kg 礼盒/);
  assert.match(await row.textContent(), /待付款 reserved/);
  assert.match(await row.textContent(), /¥39\.90/);
  await page.waitForFunction((id) => /付款剩余 \d\d:\d\d:\d\d/.test(document.querySelector(`#orders [data-order-id="${id}"] [data-role=pay-by]`).textContent), orderId);
  assert.ok(await row.locator('[data-action=cancel]').isVisible(), 'a reservation can be cancelled');
  assert.equal(await row.locator('[data-action=refund]').count(), 0, 'nothing to refund before paying');
  await fits(page, 390);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'shop-orders.png'), fullPage: true });

  // 去付款: the cashier shows the order and its amount; a failed payment leaves it reserved.
  await row.locator('[data-action=pay]').click();
  await page.waitForURL(new RegExp(`/pay/${orderId}\\?back=`));
  await page.locator('#pay-confirm:not([disabled])').waitFor();
  assert.equal(await page.locator('#amount').textContent(), '¥39.90');
  assert.match(await page.locator('#order-title').textContent(), /沁州黄小米 礼盒/);
  assert.match(await page.locator('#sandbox-note').textContent(), /沙箱/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'pay.png'), fullPage: true });
  await page.click('#pay-fail');
  await page.locator('#pay-result[data-outcome=failed]').waitFor();
  assert.match(await page.locator('#pay-result').textContent(), /支付失败/);
  assert.equal((await api('GET', '/v1/orders/' + orderId, { token: ORDERS_BUYER })).body.status, 'reserved');

  // 确认支付: paid through /v1/payments/notify, exactly as a provider pays.
  await page.locator('#pay-confirm:not([disabled])').click();
  await page.locator('#pay-result[data-outcome=paid]').waitFor();
  assert.match(await page.locator('#pay-result').textContent(), /支付成功/);
  assert.equal(await page.locator('#status').getAttribute('data-status'), 'paid');
  assert.ok(await page.locator('#pay-confirm').isDisabled(), 'a paid order cannot be paid again here');
  await page.screenshot({ path: path.join(SHOTS, 'pay-paid.png'), fullPage: true });
  const paid = (await api('GET', '/v1/orders/' + orderId, { token: ORDERS_BUYER })).body;
  assert.equal(paid.status, 'paid');
  assert.equal(paid.shipment.status, 'pending');

  // 返回商店, then a reload: the order is paid in 我的订单, with 申请退款 and no pay or cancel button.
  await page.click('#back');
  await page.waitForURL(shop);
  await page.reload();
  await page.locator(`#orders .order[data-order-id="${orderId}"][data-status=paid]`).waitFor();
  assert.match(await row.textContent(), /已付款 paid/);
  assert.equal(await row.locator('[data-action=pay]').count(), 0);
  assert.equal(await row.locator('[data-action=cancel]').count(), 0);
  assert.ok(await row.locator('[data-action=refund]').isVisible(), 'a paid order can be refunded');
  await fits(page, 390);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'shop-orders-paid.png'), fullPage: true });

  // 申请退款 before the parcel leaves: accepted at once, pushed to the sandbox's refund receiver, and 已退款 in
  // 我的订单 once it has answered (the list is read again while money is on its way).
  const itemLeft = async () => (await api('GET', '/v1/lives/' + ORDERS_LIVE)).body.items.find((i) => i.id === ORDERS_ITEM).available;
  const leftBefore = await itemLeft();
  await row.locator('[data-action=refund]').click();
  await row.locator('form.refund-form input[name=reason]').fill('不想要了');
  await row.locator('[data-action=refund-submit]').click();
  await page.locator(`#orders .order[data-order-id="${orderId}"] [data-role=refund]`).waitFor();
  await page.locator(`#orders .order[data-order-id="${orderId}"][data-status=refunded]`).waitFor({ timeout: 15000 });
  assert.match(await row.locator('[data-role=refund]').textContent(), /已退款/);
  assert.equal(await row.locator('[data-action=refund]').count(), 0, 'one refund per order');
  const refunded = (await api('GET', '/v1/orders/' + orderId, { token: ORDERS_BUYER })).body;
  assert.deepEqual([refunded.status, refunded.refund.status, refunded.shipment.status], ['refunded', 'refunded', 'cancelled']);
  assert.equal(await itemLeft(), leftBefore + 1, 'the unit is back in the live item quota');
  await page.reload();
  await page.locator(`#orders .order[data-order-id="${orderId}"][data-status=refunded]`).waitFor();
  await fits(page, 390);
  await row.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'shop-orders-refunded.png'), fullPage: true });
  await page.context().close();
});

test('group-buy page at 390 px: the campaign, join within the limit, counted, share link; a failed one', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  const before = (await api('GET', '/v1/group-buys/' + GROUP_BUY)).body;
  await page.goto(`${BASE}/group/${GROUP_BUY}?token=${encodeURIComponent(GROUP_BUYER)}`);
  const progress = page.locator('#campaign [data-role=progress]');
  await progress.waitFor();
  assert.ok(!page.url().includes('token='), 'the token leaves the address bar');
  assert.match(await page.locator('#campaign [data-role=title]').textContent(), /武乡小米 当季新米 2\.5kg 袋装/);
  assert.equal(await page.locator('#campaign [data-role=price]').textContent(), '¥49.80');
  assert.match(await progress.textContent(), new RegExp('已参团 ' + before.joined_qty + ' / 成团 5'));
  assert.match(await page.locator('#campaign [data-role=countdown]').textContent(), /距截团 \d\d:\d\d:\d\d|距截团 \d天/);
  assert.equal(await page.locator('#campaign [data-role=pickup]').textContent(), '岭头村村级服务站');
  assert.equal(await page.locator('#share-url').inputValue(), `${BASE}/group/${GROUP_BUY}`);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'group.png'), fullPage: true });

  // The quantity stops at the per-buyer limit (3); join 2 and see them counted.
  await page.click('#qty-plus');
  await page.click('#qty-plus');
  assert.ok(await page.locator('#qty-plus').isDisabled(), 'no more than the limit');
  assert.equal(await page.locator('#qty').textContent(), '3');
  await page.click('#qty-minus');
  await page.click('#join-button');
  await page.locator('#join-result[data-kind=reserved]').waitFor();
  const orderId = Number(await page.locator('#join-result').getAttribute('data-order-id'));
  const order = (await api('GET', '/v1/orders/' + orderId, { token: GROUP_BUYER })).body;
  assert.deepEqual([order.group_buy_id, order.qty, order.status], [GROUP_BUY, 2, 'reserved']);
  await page.waitForFunction((n) => document.querySelector('#campaign [data-role=progress]').textContent.includes('已参团 ' + n + ' '),
    before.joined_qty + 2);
  // Over the limit: the server's refusal, said in Chinese.
  await page.click('#qty-plus');
  await page.click('#join-button');
  await page.locator('#join-result[data-kind=limit_exceeded]').waitFor();
  assert.match(await page.locator('#join-result').textContent(), /超出限购.*您已参团 2 /);
  await page.click('#share-copy');
  await page.waitForFunction(() => document.querySelector('#share-msg').textContent !== '');
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'group-joined.png'), fullPage: true });

  // A campaign past its cut-off that did not reach its minimum: 未成团 and the refund notice, no join button.
  await page.goto(`${BASE}/group/${FAILED_GROUP_BUY}`);
  await page.locator('#campaign [data-role=outcome]').waitFor();
  assert.match(await page.locator('#campaign [data-role=outcome]').textContent(), /未成团.*原路退回/);
  const failed = (await api('GET', '/v1/group-buys/' + FAILED_GROUP_BUY)).body;
  assert.equal(await page.locator('#campaign [data-role=at-close]').textContent(),
    '截团时已参团 ' + failed.joined_qty_at_close + ' / 成团 ' + failed.min_qty + ' ' + failed.unit +
    ' at the cut-off: ' + failed.joined_qty_at_close + ' of ' + failed.min_qty);
  assert.ok(await page.locator('#join').isHidden(), 'no joining after the cut-off');
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'group-failed.png'), fullPage: true });
  await page.context().close();
});

test('station page at 390 px: shipments, the pick list, 领取 ticks an order collected, printable', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/station`);
  await page.fill('#login-token', STATION);
  await page.click('#login-form button[type=submit]');
  const row = page.locator(`#shipments [data-shipment-id="${STATION_SHIPMENT}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /已到站 delivered/);
  assert.match(await row.textContent(), /2 单 3 件 · 已领取 0\/2/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'station.png'), fullPage: true });

  await row.locator('[data-action=pick]').click();
  const line = page.locator(`#pick-table tr[data-order-id="${STATION_ORDER}"]`);
  await line.waitFor();
  assert.match(await line.textContent(), /买家 #1101/);
  assert.equal(await page.locator('#pick-table tbody tr').count(), 2);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'station-pick.png'), fullPage: true });

  await line.locator('[data-action=collect]').click();
  await page.locator(`#pick-table tr[data-order-id="${STATION_ORDER}"] [data-role=collected]`).waitFor();
  assert.match(await page.locator('#pick-msg').textContent(), /已领取/);
  assert.equal((await api('GET', '/v1/orders/' + STATION_ORDER, { token: BUYER_1101 })).body.status, 'collected');
  const gb = (await api('GET', '/v1/group-buys/' + STATION_GROUP_BUY)).body;
  assert.deepEqual([gb.collected, gb.not_collected], [1, 1]);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'station-collected.png'), fullPage: true });

  // On paper: the pick list alone, a box to tick for the order still to hand out.
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.locator('#shipments-card').isHidden());
  assert.ok(await page.locator('#pick-print').isHidden());
  await page.screenshot({ path: path.join(SHOTS, 'station-print.png'), fullPage: true });
  await page.context().close();
});

// The shipping system's delivery event for a shipment (signed with the shipping secret, as docs/api.md says).
async function deliveryEvent(shipmentId, type) {
  const body = JSON.stringify({ type, tracking_no: 'SF' + shipmentId });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = createHmac('sha256', env.LB_SHIPPING_SECRET).update(ts + '.' + body).digest('hex');
  const res = await fetch(BASE + '/v1/shipments/' + shipmentId + '/events', {
    method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Livebuy-Timestamp': ts, 'X-Livebuy-Signature': 'sha256=' + sig },
  });
  assert.equal(res.status, 200, 'delivery event: ' + (await res.text()));
}

test('co-op dashboard at 390 px: refunds listed with their state, a request after shipping approved', async () => {
  // One refunded before shipping (at once, then confirmed by the sandbox's refund receiver), one asked for once the
  // parcel was on its way (it waits for the co-op).
  const early = await outsideOrder(BUYERS[4], { sku_id: COOP_SKU, qty: 1 });
  await pay(early);
  const asked = await api('POST', `/v1/orders/${early.id}/refund`, { body: { reason: '买错了' }, token: BUYERS[4] });
  assert.equal(asked.status, 200, JSON.stringify(asked.body));
  const late = await outsideOrder(BUYERS[4], { sku_id: COOP_SKU, qty: 2 });
  await pay(late);
  const shipped = (await api('GET', '/v1/orders/' + late.id, { token: BUYERS[4] })).body;
  await deliveryEvent(shipped.shipment.id, 'picked_up');
  const request = await api('POST', `/v1/orders/${late.id}/refund`, { body: { reason: '收到时已经坏了' }, token: BUYERS[4] });
  assert.equal(request.status, 200, JSON.stringify(request.body));
  assert.equal(request.body.refund.status, 'requested');

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  await page.click('#tabs [data-tab=refunds]');
  const first = page.locator(`#refunds [data-refund-id="${asked.body.refund.id}"]`);
  const second = page.locator(`#refunds [data-refund-id="${request.body.refund.id}"]`);
  await second.waitFor();
  assert.equal(await second.getAttribute('data-status'), 'requested');
  assert.match(await second.textContent(), /待审核/);
  assert.match(await second.textContent(), /收到时已经坏了/);
  assert.match(await second.textContent(), /¥/);
  // The early one reaches 已退款 once the sandbox receiver has answered (Refresh until then).
  for (let i = 0; i < 20 && (await first.getAttribute('data-status')) !== 'refunded'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    await page.click('#refunds-refresh');
    await second.waitFor();
  }
  assert.equal(await first.getAttribute('data-status'), 'refunded');
  assert.match(await first.textContent(), /已退款/);
  assert.match(await first.textContent(), /买家申请/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-refunds.png'), fullPage: true });

  // 同意退款: the money goes back; the goods have left, so the SKU's available stock does not move.
  const before = (await api('GET', '/v1/skus/' + COOP_SKU)).body;
  await second.locator('[data-action=approve]').click();
  await page.waitForFunction((id) => {
    const row = document.querySelector(`#refunds [data-refund-id="${id}"]`);
    return row && row.dataset.status !== 'requested';
  }, request.body.refund.id);
  assert.equal(await second.locator('[data-action=approve]').count(), 0);
  assert.match(await page.locator('#refunds-msg').textContent(), /已同意/);
  const after = (await api('GET', '/v1/skus/' + COOP_SKU)).body;
  assert.equal(after.available, before.available);
  const order = (await api('GET', '/v1/orders/' + late.id, { token: BUYERS[4] })).body;
  assert.ok(['refund_required', 'refunded'].includes(order.status), order.status);
  await page.context().close();
});

test('co-op dashboard at 390 px: edit a SKU and its product, correct the stock, the ledger, retire', async () => {
  // A product of its own, with 5 units reserved by a buyer: the stock can go down to 5 and no further.
  const made = await api('POST', '/v1/products', { token: COOP, body: {
    title: '沁县核桃 2024 新货', unit: '袋', origin: '山西省长治市沁县',
    skus: [{ name: '500g 袋装', price_cents: 3980, stock: 30, weight_grams: 520 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const sku = made.body.skus[0].id;
  const product = made.body.id;
  const reserved = await outsideOrder(BUYERS[2], { sku_id: sku, qty: 5 });

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  const row = page.locator(`#skus-table tr[data-sku-id="${sku}"]`);
  await row.waitFor();
  await row.locator('[data-role=manage]').click();
  const panel = page.locator(`tr[data-manage-for="${sku}"]`);
  await panel.locator('[data-role=ledger] tr[data-kind=opening]').waitFor();
  await fits(page, 390);

  // The SKU: a new name and price; the row shows them, the order made before keeps its price.
  await panel.locator('[data-role=sku-name]').fill('500g 真空袋装');
  await panel.locator('[data-role=sku-price]').fill('35.00');
  await panel.locator('[data-role=sku-save]').click();
  await panel.locator('[data-role=sku-msg].ok').waitFor();
  assert.match(await panel.locator('[data-role=sku-msg]').textContent(), /新价格 ¥35\.00 只用于之后的订单/);
  assert.match(await row.textContent(), /500g 真空袋装/);
  assert.match(await row.textContent(), /¥35\.00/);
  const changed = (await api('GET', '/v1/skus/' + sku)).body;
  assert.deepEqual([changed.name, changed.price_cents, changed.weight_grams], ['500g 真空袋装', 3500, 520]);
  assert.equal((await api('GET', '/v1/orders/' + reserved.id, { token: BUYERS[2] })).body.amount_cents, 5 * 3980);

  // The product: title and description.
  await panel.locator('[data-role=product-title]').fill('沁县薄皮核桃 2024 新货');
  await panel.locator('[data-role=product-description]').fill('当年新核桃，皮薄仁满，手剥即开。');
  await panel.locator('[data-role=product-save]').click();
  await panel.locator('[data-role=product-msg].ok').waitFor();
  assert.match(await row.textContent(), /沁县薄皮核桃 2024 新货/);
  const p = (await api('GET', '/v1/products/' + product)).body;
  assert.deepEqual([p.title, p.description, p.unit], ['沁县薄皮核桃 2024 新货', '当年新核桃，皮薄仁满，手剥即开。', '袋']);

  // Down by 30 is below the 5 reserved: refused, explained in Chinese with the numbers.
  await panel.locator('[data-role=adjust-delta]').fill('-30');
  await panel.locator('[data-role=adjust-reason]').fill('盘点');
  await panel.locator('[data-role=adjust]').click();
  await panel.locator('[data-role=adjust-msg].bad').waitFor();
  assert.match(await panel.locator('[data-role=adjust-msg]').textContent(),
    /不能调整：库存 30 − 30 = 0，少于 已预留 5 \+ 已售 0 \+ 直播锁定 0 = 5。最多只能减少 25。/);
  await page.screenshot({ path: path.join(SHOTS, 'coop-adjust-refused.png'), fullPage: true });
  assert.equal((await api('GET', '/v1/skus/' + sku)).body.stock, 30);

  // Down by 4, spoilt: done, the row and the ledger show it.
  await panel.locator('[data-role=adjust-delta]').fill('-4');
  await panel.locator('[data-role=adjust-reason]').fill('盘点：4 袋受潮');
  await panel.locator('[data-role=adjust]').click();
  await panel.locator('[data-role=adjust-msg].ok').waitFor();
  await page.waitForSelector(`#skus-table tr[data-sku-id="${sku}"] [data-role=stock]:text-is("26")`);
  const adjusted = panel.locator('[data-role=ledger] tr[data-kind=adjust]');
  await adjusted.waitFor();
  assert.match(await adjusted.textContent(), /调整.*-4.*26.*盘点：4 袋受潮/);
  assert.match(await panel.locator('[data-role=ledger] tr[data-kind=opening]').textContent(), /期初.*\+30.*30/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-catalogue.png'), fullPage: true });

  // Retire the SKU: a confirmation first; cancel changes nothing, confirm retires it.
  await panel.locator('[data-role=retire-sku]').click();
  await panel.locator('[data-role=retire-confirm]:not(.hidden)').waitFor();
  assert.match(await panel.locator('[data-role=retire-confirm]').textContent(), /确定停售规格“500g 真空袋装”？/);
  await panel.locator('[data-role=retire-no]').click();
  assert.equal((await api('GET', '/v1/skus/' + sku)).body.retired, false);
  await panel.locator('[data-role=retire-sku]').click();
  await page.screenshot({ path: path.join(SHOTS, 'coop-retire-confirm.png'), fullPage: true });
  await panel.locator('[data-role=retire-yes]').click();
  await panel.locator('[data-role=retire-msg].ok').waitFor();
  await page.waitForSelector(`#skus-table tr[data-sku-id="${sku}"].retired [data-role=retired]`);
  assert.equal((await api('GET', '/v1/skus/' + sku)).body.retired, true);
  const refused = await api('POST', '/v1/orders', { body: { sku_id: sku, qty: 1, ship_to: SHIP_TO }, token: BUYERS[2], key: randomUUID() });
  assert.deepEqual([refused.status, refused.body.error.code], [409, 'conflict']);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-retired.png'), fullPage: true });
  await page.context().close();
});

// The co-op's SKU rows, holds and group-buys, orders by date and the CSV export at phone width.
test('co-op dashboard at 390 px: every tab fits, low stock, where the stock is, orders by date, the CSV export', async () => {
  // Two SKUs of a new product: one with 4 of 40 left (low: at most 5), one with plenty.
  const made = await api('POST', '/v1/products', { token: COOP, body: {
    title: '沁州黄小米 "头茬", 新米', unit: '袋', origin: '山西省长治市沁县',
    skus: [{ name: '2.5kg 礼盒', price_cents: 6990, stock: 40, weight_grams: 2600 },
      { name: '500g 袋装', price_cents: 1990, stock: 400, weight_grams: 520 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const [low, plenty] = made.body.skus.map((s) => s.id);
  // Where the low one's units are: a host's live item (10 held), an open group-buy (2 joined), a buyer's 24 unpaid.
  const offer = await api('POST', '/v1/offers', { token: COOP, body: { sku_id: low, host_id: HOST_ID, max_quota: 10,
    min_price_cents: 0, commission_bp: 1000, starts_at: 0, ends_at: 4102444800 } });
  assert.equal(offer.status, 201, JSON.stringify(offer.body));
  assert.equal((await api('POST', `/v1/offers/${offer.body.id}/accept`, { token: HOST })).status, 200);
  const live = await api('POST', '/v1/lives', { token: HOST, body: { title: '沁县小米专场', starts_at: Math.floor(Date.now() / 1000) } });
  assert.equal(live.status, 201, JSON.stringify(live.body));
  const onAir = await api('POST', `/v1/lives/${live.body.id}/items`, { token: HOST, body: { sku_id: low, price_cents: 5990,
    quota: 10, per_buyer_limit: 5, opens_at: 0 } });
  assert.equal(onAir.status, 201, JSON.stringify(onAir.body));
  const points = await api('GET', '/v1/pickup-points?limit=200', { token: COOP });
  const point = points.body.pickup_points[0];
  const gb = await api('POST', '/v1/group-buys', { token: COOP, body: { sku_id: low, pickup_point_id: point.id, price_cents: 5580,
    min_qty: 10, per_buyer_limit: 5, closes_at: Math.floor(Date.now() / 1000) + 7200 } });
  assert.equal(gb.status, 201, JSON.stringify(gb.body));
  const join = await api('POST', '/v1/orders', { body: { group_buy_id: gb.body.id, qty: 2 }, token: BUYERS[1], key: randomUUID() });
  assert.equal(join.status, 201, JSON.stringify(join.body));
  const unpaid = await outsideOrder(BUYERS[0], { sku_id: low, qty: 24 });
  assert.equal((await api('GET', '/v1/skus/' + low)).body.available, 4);
  // More orders today than one CSV page holds (200), so that the export follows the pages.
  // Eight at a time: one buyer may have 16 orders waiting (--max-buyer-orders).
  for (let i = 0; i < 205; i += 8)
    await Promise.all(Array.from({ length: Math.min(8, 205 - i) }, () => outsideOrder(BUYERS[2], { sku_id: plenty, qty: 1 })));

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  const lowRow = page.locator(`#skus-table tr[data-sku-id="${low}"]`);
  await lowRow.waitFor();

  // Low stock: the row marked, the other not, the count at the top of the tab and on the tab.
  assert.equal(await lowRow.getAttribute('data-low'), '1');
  assert.match(await lowRow.locator('[data-role=low-stock]').textContent(), /库存紧张/);
  assert.equal(await page.locator(`#skus-table tr[data-sku-id="${plenty}"]`).getAttribute('data-low'), null);
  const count = Number(await page.locator('#skus-low').getAttribute('data-count'));
  const all = (await api('GET', '/v1/merchant/skus?limit=200', { token: COOP })).body.skus;
  const expectedLow = all.filter((s) => !s.retired && (s.available <= 5 || s.available * 10 <= s.stock));
  assert.equal(count, expectedLow.length);
  assert.ok(count >= 1);
  assert.match(await page.locator('#skus-low').textContent(), new RegExp('库存紧张 ' + count + ' 个规格'));
  assert.match(await page.locator('#skus-low').textContent(), new RegExp('#' + low + ' 沁州黄小米'));
  assert.equal(await page.locator('#tab-low').textContent(), String(count));

  // Where its units are: the host's live item and the open group-buy, under the SKU.
  const where = page.locator(`tr[data-holds-for="${low}"]`);
  await where.locator(`[data-live-item-id="${onAir.body.id}"]`).waitFor();
  assert.match(await where.locator(`[data-live-item-id="${onAir.body.id}"] [data-role=hold-figures]`).textContent(),
    /直播价 ¥59\.90 · 数量 quota 10 · 已售 sold 0/);
  const campaign = where.locator(`[data-role=campaign][data-group-id="${gb.body.id}"]`);
  await campaign.waitFor();
  assert.match(await campaign.textContent(), new RegExp('自提点 ' + point.name));
  assert.match(await campaign.locator('[data-role=campaign-figures]').textContent(), /团购价 ¥55\.80 · 已参团 joined 2 \/ 成团 min 10 · 截止 closes/);
  await fits(page, 390);
  // Full-page screenshots from the top: scrolled, they would show the sticky tab bar where the screen was.
  const toTop = () => page.evaluate(() => window.scrollTo(0, 0));
  await toTop();
  await page.screenshot({ path: path.join(SHOTS, 'coop-low-stock.png'), fullPage: true });

  // Every tab: its button wholly on the screen (the bar stays at the top while the page scrolls), the tab fits.
  const names = await page.locator('#tabs button').evaluateAll((bs) => bs.map((b) => b.dataset.tab));
  assert.ok(names.length >= 6, names.join());
  for (const name of names) {
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const button = page.locator(`#tabs button[data-tab="${name}"]`);
    const box = await button.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y >= 0 && box.y + box.height <= 844,
      `the ${name} tab is on the screen: ${JSON.stringify(box)}`);
    await button.click();
    await page.locator(`#tab-${name}:not(.hidden)`).waitFor();
    await page.waitForTimeout(300); // its list loads
    await fits(page, 390);
    await toTop();
    await page.screenshot({ path: path.join(SHOTS, `coop-tab-${name}.png`), fullPage: true });
  }

  // Orders by date: today's (China time) are there, a day long past has none; the unpaid order is a card that fits.
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  await page.click('#tabs button[data-tab=orders]');
  await page.fill('#orders-from', '2020-01-01');
  await page.fill('#orders-to', '2020-01-01');
  await page.locator('#orders-to').dispatchEvent('change');
  await page.waitForFunction(() => /没有订单/.test(document.getElementById('orders-msg').textContent));
  assert.equal(await page.locator('#orders-table tbody tr').count(), 0);
  await page.fill('#orders-from', today);
  await page.fill('#orders-to', '2020-01-01');
  await page.locator('#orders-to').dispatchEvent('change');
  await page.locator('#orders-msg.bad').waitFor();
  assert.match(await page.locator('#orders-msg').textContent(), /开始日期不能晚于结束日期/);
  await page.fill('#orders-to', today);
  await page.locator('#orders-to').dispatchEvent('change');
  const unpaidRow = page.locator(`#orders-table tr[data-order-id="${unpaid.id}"]`);
  // The first page is the oldest 100 of today; load more until the unpaid order shows.
  for (let i = 0; i < 10 && !(await unpaidRow.count()); i++) {
    await page.waitForTimeout(200);
    if (await page.locator('#orders-more:not(.hidden)').count()) await page.click('#orders-more');
  }
  await unpaidRow.waitFor();
  assert.match(await unpaidRow.textContent(), /待付款 reserved/);
  assert.match(await unpaidRow.textContent(), /¥1677\.60/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-orders-dates.png'), fullPage: false });

  // 导出 CSV: every page of today's orders in one file, with the byte order mark, one header and Chinese intact.
  let expected = [];
  for (let after = 0; ;) {
    const listed = await api('GET', `/v1/merchant/orders?from=${today}&to=${today}&limit=200&after=${after}`, { token: COOP });
    expected = expected.concat(listed.body.orders.map((o) => o.id));
    if (!listed.body.next) break;
    after = listed.body.next;
  }
  assert.ok(expected.length > 200, 'more than a page: ' + expected.length);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#orders-export')]);
  assert.equal(download.suggestedFilename(), `livebuy-orders-${today}-to-${today}.csv`);
  const bytes = fs.readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const text = bytes.subarray(3).toString('utf8');
  assert.ok(text.startsWith('订单号 order,下单时间 time (UTC+8),状态 status,商品 produce,'), text.slice(0, 80));
  assert.equal(text.split('订单号 order').length, 2, 'one header row');
  const ids = text.split('\r\n').slice(1).filter((line) => /^\d+,/.test(line)).map((line) => Number(line.split(',')[0]));
  assert.deepEqual(ids, expected);
  const unpaidLine = text.split('\r\n').find((line) => line.startsWith(unpaid.id + ','));
  assert.match(unpaidLine, /,待付款 reserved,"沁州黄小米 ""头茬"", 新米 2\.5kg 礼盒",24,1677\.60,李四,/);
  assert.match(unpaidLine, /,直购 direct,山西省长治市武乡县丰州镇岭头村 3 号,$/);
  await page.locator('#orders-msg.ok').waitFor();
  assert.match(await page.locator('#orders-msg').textContent(), new RegExp('已导出 ' + expected.length + ' 笔订单'));
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-orders-export.png'), fullPage: false });
  await page.context().close();
});

test('API reference at 390 px: every operation of docs/openapi.yaml, one opened by its link', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(BASE + '/docs#createOrder');
  await within(page, '#reference .op', 15000, 'the reference', () => page.locator('#status').textContent());
  const yaml = await (await fetch(BASE + '/web/openapi.yaml')).text();
  const operations = (yaml.match(/^ {4}(get|post|patch|put|delete):$/gm) || []).length;
  assert.ok(operations > 60, 'operations in the document: ' + operations);
  assert.equal(await page.locator('#reference .op').count(), operations, 'one card per operation');
  const order = page.locator('#createOrder');
  assert.equal(await order.getAttribute('open'), '', 'the link opened POST /v1/orders');
  const text = await order.textContent();
  for (const word of ['Idempotency-Key', 'Idempotent-Replayed', 'buyerToken', 'sold_out', 'live_item_id', '429'])
    assert.ok(text.includes(word), 'POST /v1/orders shows ' + word);
  await order.locator('details.answer').first().click();
  await fits(page, 390);
  await order.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'docs.png') });
  await page.screenshot({ path: path.join(SHOTS, 'docs-full.png'), fullPage: true });
  await page.close();
});

// An error answer as livebuyd gives it, for the routes the tests below stand in for (page.route).
function errorAnswer(status, code, message, headers = {}) {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ error: { code, message } }) };
}

test('station page at 390 px: a busy server at sign-in keeps the remembered token and tries again; a 401 signs out', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  // The first look with the token: 503 (the database away during a flash sale), then no answer at all (once the page
  // has been looked at), then the server.
  let checks = 0;
  let refuse = false;
  let looked;
  const gate = new Promise((resolve) => (looked = resolve));
  await page.route((url) => url.pathname === '/v1/station/shipments', async (route) => {
    checks += 1;
    if (refuse) return route.fulfill(errorAnswer(401, 'unauthorized', 'unknown token'));
    if (checks === 1) return route.fulfill(errorAnswer(503, 'unavailable', 'the database cannot be reached', { 'Retry-After': '1' }));
    if (checks === 2) {
      await gate;
      return route.abort();
    }
    return route.continue();
  });
  await page.goto(`${BASE}/station`);
  await page.locator('#login').waitFor();
  await page.evaluate((t) => localStorage.setItem('livebuy.station_token', t), STATION);
  await page.reload();
  const note = page.locator('#session-msg');
  await note.waitFor();
  assert.match(await note.textContent(), /服务器繁忙.*Busy, retrying.*503 unavailable/);
  assert.equal(await page.evaluate(() => localStorage.getItem('livebuy.station_token')), STATION, 'a 503 keeps the token');
  assert.ok(await page.locator('#login').isHidden(), 'no sign-in form while the remembered token is tried again');
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'station-busy.png'), fullPage: true });
  looked();
  // Signed in once the server answers, without typing the token again.
  await page.locator(`#shipments [data-shipment-id="${STATION_SHIPMENT}"]`).waitFor({ timeout: 15000 });
  assert.ok(checks >= 3, 'tried again after the 503 and the dropped network: ' + checks);
  assert.ok(await note.isHidden());
  assert.equal(await page.evaluate(() => localStorage.getItem('livebuy.station_token')), STATION);

  // A 401 is an answer about the token: signed out, the token forgotten.
  refuse = true;
  await page.reload();
  await page.locator('#login').waitFor();
  assert.match(await page.locator('#login-msg').textContent(), /令牌无效/);
  assert.equal(await page.evaluate(() => localStorage.getItem('livebuy.station_token')), null);
  await page.context().close();
});

test('shop page at 390 px: a tap after an unclear answer sends the same Idempotency-Key; a definite answer ends it', async () => {
  // An item of the host's own on air now, for this test alone.
  const made = await api('POST', '/v1/products', { token: HOST, key: randomUUID(), body: { title: '沁县核桃 现打', unit: '袋',
    skus: [{ name: '1kg 袋装', price_cents: 4500, stock: 20, weight_grams: 1050 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const { live, items: [onAir] } = await liveOnAir('核桃专场', [{ sku_id: made.body.skus[0].id, price_cents: 3990, quota: 10,
    per_buyer_limit: 5 }]);

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  // The orders the page sends: while failing, a 503 then no answer at all, in turn (either may have reserved).
  const keys = [];
  let failing = true;
  await page.route((url) => url.pathname === '/v1/orders', (route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    keys.push(request.headers()['idempotency-key']);
    if (!failing) return route.continue();
    return keys.length % 2 ? route.fulfill(errorAnswer(503, 'unavailable', 'the database cannot be reached', { 'Retry-After': '1' }))
      : route.abort();
  });
  await page.goto(`${BASE}/shop/${live.id}?token=${encodeURIComponent(BUYERS[4])}`);
  const card = page.locator(`[data-item-id="${onAir.id}"]`);
  await card.waitFor();
  await fillShipTo(page);
  await card.locator('[data-role=buy]:not([disabled])').click();
  await card.locator('[data-role=result][data-outcome=busy]').waitFor({ timeout: 15000 }).catch(async (e) => {
    const shown = await card.locator('[data-role=result]').evaluate((r) => r.dataset.outcome + ': ' + r.textContent) +
      ' token ' + (await page.evaluate(() => localStorage.getItem('livebuy.buyer_token')));
    throw new Error(`no busy outcome; the card shows ${shown}; keys sent: ${keys.join(' ')}; ${e.message}`);
  });
  assert.equal(keys.length, 4, 'the tap and its three automatic retries');

  // Buy tapped again (not 重试): the first tap's outcome is unknown, so this is that tap again, with its key.
  failing = false;
  await card.locator('[data-role=buy]:not([disabled])').click();
  await card.locator('[data-role=result][data-outcome=reserved]').waitFor();
  assert.equal(keys.length, 5);
  assert.match(keys[0], /^[0-9a-f]{32}$/);
  assert.equal(new Set(keys).size, 1, 'one key for the tap and all its retries: ' + keys.join(' '));
  const first = await card.locator('[data-role=result]').getAttribute('data-order-id');

  // The 201 ended it: the next tap is a new order, with a new key.
  await card.locator('[data-role=buy]:not([disabled])').click();
  await page.waitForFunction(([id, was]) => {
    const r = document.querySelector(`[data-item-id="${id}"] [data-role=result]`);
    return r && r.dataset.outcome === 'reserved' && r.dataset.orderId && r.dataset.orderId !== was;
  }, [onAir.id, first]);
  assert.equal(keys.length, 6);
  assert.notEqual(keys[5], keys[0]);
  const mine = (await api('GET', '/v1/orders?limit=100', { token: BUYERS[4] })).body.orders
    .filter((o) => o.live_item_id === onAir.id);
  assert.equal(mine.length, 2, 'two taps that reserved, two orders: ' + JSON.stringify(mine.map((o) => o.id)));
  await page.context().close();
});

test('shop page at 390 px: another buyer\'s link asks first, a bad one keeps the sign-in, 退出 forgets the ship-to', async () => {
  const user = (t) => t.split('.')[1];
  const stored = (page) => page.evaluate(() =>
    [localStorage.getItem('livebuy.buyer_token'), localStorage.getItem('livebuy.ship_to')]);
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/shop/${LIVE}?token=${encodeURIComponent(BUYERS[0])}`);
  await page.locator('#orders').waitFor();
  assert.match(await page.locator('#buyer-label').textContent(), new RegExp('#' + user(BUYERS[0]) + '$'));

  // A link whose token is no good: said, and the buyer stays signed in.
  await page.goto(`${BASE}/shop/${LIVE}?token=b1.not-a-token`);
  const notice = page.locator('#token-notice');
  await notice.waitFor();
  assert.ok(!page.url().includes('token='), 'the token leaves the address bar: ' + page.url());
  assert.match(await notice.textContent(), /链接中的令牌无效或已过期/);
  assert.equal((await stored(page))[0], BUYERS[0]);
  assert.match(await page.locator('#buyer-label').textContent(), new RegExp('#' + user(BUYERS[0]) + '$'));

  // Another buyer's link: asked first, signed in as before meanwhile; 切换 switches and clears the ship-to.
  await fillShipTo(page);
  await page.goto(`${BASE}/shop/${LIVE}?token=${encodeURIComponent(BUYERS[1])}`);
  const ask = page.locator('#token-notice [data-role=switch-confirm]');
  await ask.waitFor();
  assert.match(await ask.textContent(), new RegExp('买家 #' + user(BUYERS[1])));
  assert.match(await page.locator('#buyer-label').textContent(), new RegExp('#' + user(BUYERS[0]) + '$'));
  assert.equal((await stored(page))[0], BUYERS[0]);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'shop-switch.png'), fullPage: true });
  await ask.locator('[data-role=switch-yes]').click();
  await page.waitForFunction((u) => document.getElementById('buyer-label').textContent.endsWith('#' + u), user(BUYERS[1]));
  assert.deepEqual(await stored(page), [BUYERS[1], null]);
  assert.equal(await page.inputValue('#ship-name'), '');

  // 退出登录: the token and the ship-to go (a shared phone). (Leaving the filled form first: the form folds up then,
  // which moves the link.)
  await fillShipTo(page);
  await page.locator('#ship-address').blur();
  await page.click('#signout');
  await page.locator('#login').waitFor();
  assert.deepEqual(await stored(page), [null, null]);
  assert.equal(await page.inputValue('#ship-address'), '');
  await page.context().close();
});

test('sandbox cashier: 返回商店 never leaves the site, whatever ?back= says', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  const origin = new URL(BASE).origin;
  for (const back of ['/\t/evil.example', '/\n/evil.example', '//evil.example', '/\\evil.example', '/.//evil.example',
    ' //evil.example', 'https://evil.example/', 'javascript:alert(1)']) {
    await page.goto(`${BASE}/pay/1?back=${encodeURIComponent(back)}`);
    for (const id of ['back', 'signin-back']) {
      const href = await page.locator('#' + id).getAttribute('href');
      if (href === null) {
        assert.ok(!(await page.locator('#' + id).isVisible()), `?back=${JSON.stringify(back)}: #${id} leads nowhere and is hidden`);
        continue;
      }
      assert.equal(new URL(href, `${BASE}/pay/1`).origin, origin, `?back=${JSON.stringify(back)}: #${id} goes to ${href}`);
      assert.ok(!href.startsWith('//'), `?back=${JSON.stringify(back)}: #${id} goes to ${href}`);
      assert.notEqual(href, '/', `?back=${JSON.stringify(back)}: #${id} goes to the root, which is no page`);
    }
  }
  // The reviewer's link exactly: %09 is a tab, which a browser drops from a link. Refused, with no shop or group-buy
  // page to go back to: no button (the site's root is no page).
  await page.goto(`${BASE}/pay/1?back=%2F%09%2Fevil.example`);
  assert.equal(await page.locator('#back').getAttribute('href'), null);
  assert.ok(!(await page.locator('#back').isVisible()), '返回商店 is hidden');
  // A page of this site is kept.
  await page.goto(`${BASE}/pay/1?back=${encodeURIComponent('/shop/7?from=pay#items')}`);
  assert.equal(await page.locator('#back').getAttribute('href'), '/shop/7?from=pay#items');
  await page.context().close();
});

test('shop page at 390 px: an item taken off air says 已下架, no sale badge, its quantity and buy button off', async () => {
  // The host's own product, two items on air now in a live of their own; the first taken off air.
  const made = await api('POST', '/v1/products', { token: HOST, key: randomUUID(), body: { title: '武乡土豆 现挖', unit: '箱',
    skus: [{ name: '5kg 箱装', price_cents: 2500, stock: 40, weight_grams: 5200 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const item = { sku_id: made.body.skus[0].id, price_cents: 1990, quota: 10, per_buyer_limit: 3 };
  const { live, items } = await liveOnAir('土豆专场', [item, item]);
  const onAir = items.map((i) => i.id);
  const closed = await api('POST', `/v1/live-items/${onAir[0]}/close`, { token: HOST });
  assert.equal(closed.status, 200, JSON.stringify(closed.body));

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/shop/${live.id}?token=${encodeURIComponent(BUYERS[4])}`);
  const off = page.locator(`[data-item-id="${onAir[0]}"]`);
  const selling = page.locator(`[data-item-id="${onAir[1]}"]`);
  await selling.locator('[data-role=buy]:not([disabled])').waitFor();
  await off.waitFor();
  assert.match(await off.locator('[data-role=buy]').textContent(), /已下架/);
  assert.ok(await off.locator('[data-role=buy]').isDisabled(), 'an item off air cannot be bought');
  const badge = await off.locator('[data-role=countdown]').textContent();
  assert.match(badge, /已下架/);
  assert.doesNotMatch(badge, /已开抢|On sale/, 'no sale badge beside 已下架');
  for (const i of [0, 1]) assert.ok(await off.locator('.qty button').nth(i).isDisabled(), 'the quantity of an item off air is off');
  // The one still on air is on sale, its + on.
  assert.match(await selling.locator('[data-role=countdown]').textContent(), /已开抢/);
  assert.ok(!(await selling.locator('.qty button').nth(1).isDisabled()), 'the item on air takes a quantity');
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'shop-off-air.png'), fullPage: true });

  // Taken off air while the page is open: the stream says 0 left, the page tells 已下架 from 已售罄 by the live.
  const closedNow = await api('POST', `/v1/live-items/${onAir[1]}/close`, { token: HOST });
  assert.equal(closedNow.status, 200, JSON.stringify(closedNow.body));
  await page.waitForSelector(`[data-item-id="${onAir[1]}"][data-state=closed]`, { timeout: 8000 });
  assert.match(await selling.locator('[data-role=buy]').textContent(), /已下架/);
  assert.ok(await selling.locator('.qty button').nth(1).isDisabled());
  await page.context().close();
});

// A product of one SKU (20 in stock) and an open campaign of it at the first pickup point, for an hour: 10 to succeed, 2 a
// buyer at most.
async function newCampaign(title, unit, sku, priceCents) {
  const made = await api('POST', '/v1/products', { token: COOP, key: randomUUID(), body: { title, unit, skus: [{ ...sku, stock: 20 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const point = (await api('GET', '/v1/pickup-points?limit=200', { token: COOP })).body.pickup_points[0];
  const campaign = await api('POST', '/v1/group-buys', { token: COOP, body: { sku_id: made.body.skus[0].id, pickup_point_id: point.id,
    price_cents: priceCents, min_qty: 10, per_buyer_limit: 2, closes_at: Math.floor(Date.now() / 1000) + 3600 } });
  assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
  return { made, campaign };
}

test('group-buy page at 390 px: a join refused because the product stopped selling is not called 已截团', async () => {
  const { made, campaign } = await newCampaign('武乡红皮土豆 团购装', '箱', { name: '5kg 箱装', price_cents: 2580, weight_grams: 5300 }, 2280);
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/group/${campaign.body.id}?token=${encodeURIComponent(BUYERS[3])}`);
  await page.locator('#campaign [data-role=progress]').waitFor();
  // The co-op retires the product while the villager looks at the open campaign: the join is a 409 conflict.
  const retired = await api('POST', `/v1/products/${made.body.id}/retire`, { token: COOP });
  assert.equal(retired.status, 200, JSON.stringify(retired.body));
  await page.click('#join-button');
  await page.locator('#join-result[data-kind=error]').waitFor();
  assert.match(await page.locator('#join-result').textContent(), /暂不能参团/);
  assert.doesNotMatch(await page.locator('#join-result').textContent(), /已截团/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'group-not-selling.png'), fullPage: true });
  await page.context().close();
});

test('sandbox cashier at 390 px: opened from a chat link (no ?back=, no referrer), 返回 never points to "/"', async () => {
  // A group-buy join and an order of a live item, placed by a buyer whose token the pages remember.
  const { campaign } = await newCampaign('沁州黄小米 团购装', '袋', { name: '2.5kg 袋装', price_cents: 2990, weight_grams: 2550 }, 2590);
  const joined = await api('POST', '/v1/orders', { body: { group_buy_id: campaign.body.id, qty: 1 }, token: BUYERS[2], key: randomUUID() });
  assert.equal(joined.status, 201, JSON.stringify(joined.body));
  const join = joined.body;
  const { live, items: [onAir] } = await liveOnAir('小米专场 · 链接', [{ sku_id: HOST_SKU, price_cents: 1990, quota: 1,
    per_buyer_limit: 1 }]);
  const liveOrder = await outsideOrder(BUYERS[2], { live_item_id: onAir.id, qty: 1 });
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/shop/${live.id}?token=${encodeURIComponent(BUYERS[2])}`); // the token the cashier reads
  await page.locator('#orders').waitFor();

  // The join: back to its campaign's page, once the order is read.
  await page.goto(`${BASE}/pay/${join.id}`);
  await page.locator('#status[data-status]').waitFor();
  await page.waitForFunction(() => document.getElementById('back').getAttribute('href') !== null);
  assert.equal(await page.locator('#back').getAttribute('href'), `/group/${campaign.body.id}`);
  assert.match(await page.locator('#back').textContent(), /返回团购/);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'pay-no-back.png'), fullPage: true });
  // The live item's order: the order does not say which live, so no button rather than one to "/".
  await page.goto(`${BASE}/pay/${liveOrder.id}`);
  await page.locator('#status[data-status]').waitFor();
  assert.equal(await page.locator('#back').getAttribute('href'), null);
  assert.ok(!(await page.locator('#back').isVisible()), 'no 返回商店 that leads nowhere');
  // Come from the shop page (a same-origin referrer), it goes back there.
  await page.goto(`${BASE}/pay/${liveOrder.id}`, { referer: `${BASE}/shop/${live.id}` });
  assert.equal(await page.locator('#back').getAttribute('href'), `/shop/${live.id}`);
  await page.context().close();
});

// China time (UTC+8, no daylight saving), whatever the zone of the machine running the tests: Unix seconds as the pages
// show them ("2026-12-05 20:00:00"), the China day of an instant in ms, and a datetime-local value read as China time.
const chinaTime = (s) => new Date((s + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
const chinaDay = (ms) => new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);
const fromChinaInput = (value) => Date.parse(value + ':00+08:00') / 1000;

// A phone in Xinjiang keeps its zone at Asia/Urumqi (UTC+6): the pages still show and read China time, as the API's
// from/to days and the CSV export do. Typed in that zone's time, a cut-off of 20:00 would be 22:00 Beijing time.
test('dates at 390 px on a phone in Xinjiang (Asia/Urumqi, UTC+6): shown and typed in China time', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true, timezoneId: 'Asia/Urumqi' });
  await page.goto(`${BASE}/coop`);
  assert.equal(await page.evaluate(() => new Date(Date.UTC(2026, 0, 1)).getHours()), 6, 'the device is on UTC+6');
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  await page.locator(`#skus-table tr[data-sku-id="${COOP_SKU}"]`).waitFor();

  // An order's time is China time; filtered by that China day, the order is there, shown on that day.
  const first = (await api('GET', '/v1/merchant/orders?limit=1', { token: COOP })).body.orders[0];
  const placed = page.locator(`#orders-table tr[data-order-id="${first.id}"] [data-role=placed]`);
  await page.click('#tabs button[data-tab=orders]');
  await placed.waitFor();
  assert.equal(await placed.textContent(), chinaTime(first.created_at));
  const day = chinaTime(first.created_at).slice(0, 10);
  await page.fill('#orders-from', day);
  await page.fill('#orders-to', day);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes('/v1/merchant/orders?') && r.url().includes('from=' + day) &&
      r.url().includes('to=' + day)),
    page.locator('#orders-to').dispatchEvent('change'),
  ]);
  await placed.waitFor();
  assert.equal(await placed.textContent(), chinaTime(first.created_at));

  // A group-buy's cut-off: the form starts a day ahead; 20:00 typed is 20:00 Beijing time, sent and shown so.
  await page.click('#tabs button[data-tab=groups]');
  await page.click('#gb-new > summary');
  await page.locator(`#gb-sku option[value="${COOP_SKU}"]`).waitFor({ state: 'attached' });
  await page.waitForFunction(() => document.getElementById('gb-point').options.length > 0);
  const ahead = fromChinaInput(await page.inputValue('#gb-closes')) - Date.now() / 1000;
  assert.ok(Math.abs(ahead - 86400) < 300, 'the cut-off starts a day ahead, China time: ' + ahead + ' s');
  const later = chinaDay(Date.now() + 2 * 86400 * 1000);
  await page.selectOption('#gb-sku', String(COOP_SKU));
  await page.fill('#gb-price', '49.80');
  await page.fill('#gb-closes', `${later}T20:00`);
  await fits(page, 390);
  await page.click('#gb-form button[type=submit]');
  await page.locator('#gb-msg.ok').waitFor();
  const gbId = Number(/#(\d+)/.exec(await page.locator('#gb-msg').textContent())[1]);
  const gb = await api('GET', '/v1/group-buys/' + gbId, { token: COOP });
  assert.equal(gb.status, 200, JSON.stringify(gb.body));
  assert.equal(gb.body.closes_at, fromChinaInput(`${later}T20:00`), 'the cut-off is 20:00 Beijing time');
  const card = page.locator(`#groups [data-group-id="${gbId}"]`);
  await card.waitFor();
  assert.match(await card.textContent(), new RegExp(`截止 Closes ${later} 20:00:00`));
  await page.screenshot({ path: path.join(SHOTS, 'coop-groups-urumqi.png'), fullPage: true });

  // The host's live start: the form starts now; 01:30 typed is 01:30 Beijing time (17:30 UTC the day before).
  await page.goto(`${BASE}/host`);
  await page.fill('#login-token', HOST);
  await page.click('#login-form button[type=submit]');
  await page.locator('#app').waitFor();
  await page.click('#new-live > summary');
  const starts = fromChinaInput(await page.inputValue('#live-starts')) - Date.now() / 1000;
  assert.ok(Math.abs(starts) < 300, 'the start is now, China time: ' + starts + ' s');
  await page.fill('#live-title-input', '长治直播间 · 新疆专场');
  await page.fill('#live-starts', `${later}T01:30`);
  await fits(page, 390);
  await page.click('#live-form button[type=submit]');
  await page.locator('#tab-live:not(.hidden)').waitFor();
  await page.waitForFunction(() => /新疆专场/.test(document.getElementById('live-title').textContent));
  const liveId = Number(/^#live\/(\d+)$/.exec(await page.evaluate(() => location.hash))[1]);
  const live = await api('GET', '/v1/lives/' + liveId);
  assert.equal(live.body.starts_at, fromChinaInput(`${later}T01:30`), 'the start is 01:30 Beijing time');
  assert.match(await page.locator('#live-when').textContent(), new RegExp(`开播 ${later} 01:30:00`));
  await page.context().close();
});

// A phone whose clock is three hours slow: a buyer token that expired an hour ago by the server's clock (the pages
// take it from the Date header of the API's answers) is refused at once, not sent.
test('shop page at 390 px: a buyer token is judged by the server\'s clock, not by a slow phone\'s', async () => {
  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.clock.install({ time: Date.now() - 3 * 3600 * 1000 });
  await page.goto(`${BASE}/shop/${LIVE}`);
  await item(page).waitFor(); // the live came: an answer with a Date header
  await page.locator('#login').waitFor();
  assert.ok(await page.evaluate(() => Date.now()) < Date.now() - 2 * 3600 * 1000, 'the phone is slow');
  await page.fill('#login-token', `b1.1009.${Math.floor(Date.now() / 1000) - 3600}.${'0'.repeat(64)}`);
  await page.click('#login-form button[type=submit]');
  assert.match(await page.locator('#login-msg').textContent(), /令牌格式不对或已过期/);
  assert.ok(await page.locator('#login').isVisible(), 'still signed out');
  assert.equal(await page.evaluate(() => localStorage.getItem('livebuy.buyer_token')), null);
  await page.context().close();
});

test('no script errors on the pages', () => {
  assert.deepEqual(pageErrors, []);
});

// A photo file of tests/data (drawn by scripts/demo-photos.py), uploaded as its raw bytes as the pages do.
const DATA = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'data');
async function uploadPhoto(token, productId, name) {
  const res = await fetch(`${BASE}/v1/products/${productId}/images`, { method: 'POST',
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'image/png' }, body: fs.readFileSync(path.join(DATA, name)) });
  const body = await res.json();
  assert.ok(res.status === 201 || res.status === 200, JSON.stringify(body));
  return body;
}

// An <img> the browser has decoded (not a broken image), and its src.
async function shownPhoto(locator) {
  await locator.waitFor();
  await locator.evaluate((img) => img.complete ? null : new Promise((done) => { img.onload = done; img.onerror = done; }));
  const { src, width } = await locator.evaluate((img) => ({ src: new URL(img.src).pathname, width: img.naturalWidth }));
  assert.ok(width > 0, 'the photo ' + src + ' is shown');
  return src;
}

test('photos at 390 px: the shop\'s item and the group-buy page show the product\'s photo; the dashboard uploads, moves and deletes', async () => {
  // The host's own product with a photo, on air in a live of its own.
  const made = await api('POST', '/v1/products', { token: HOST, body: { title: '武乡小米 当季新米', unit: '袋',
    skus: [{ name: '2.5kg 袋装', price_cents: 3980, stock: 50, weight_grams: 2600 }] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const photo = await uploadPhoto(HOST, made.body.id, 'photo-millet.png');
  const live = await api('POST', '/v1/lives', { token: HOST, body: { title: '小米专场', starts_at: 1700000000 } });
  assert.equal(live.status, 201, JSON.stringify(live.body));
  const item = await api('POST', `/v1/lives/${live.body.id}/items`, { token: HOST, body: { sku_id: made.body.skus[0].id,
    price_cents: 2990, quota: 10, per_buyer_limit: 2, opens_at: 0 } });
  assert.equal(item.status, 201, JSON.stringify(item.body));

  const page = await newPage({ width: 390, height: 844 }, { mobile: true });
  await page.goto(`${BASE}/shop/${live.body.id}`);
  assert.equal(await shownPhoto(page.locator(`[data-item-id="${item.body.id}"] img[data-role=photo]`)), photo.url);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'shop-photo.png'), fullPage: true });

  // The co-op's produce in a campaign: its page shows the photo above the title.
  const produce = await api('POST', '/v1/products', { token: COOP, body: { title: '鲜食糯玉米 当天采摘', unit: '箱',
    skus: [{ name: '10穗装', price_cents: 3500, stock: 40, weight_grams: 3200 }] } });
  assert.equal(produce.status, 201, JSON.stringify(produce.body));
  const corn = await uploadPhoto(COOP, produce.body.id, 'photo-corn.png');
  const point = await api('POST', '/v1/pickup-points', { token: COOP, body: { name: '岭头村村级服务站', county: '武乡县',
    township: '丰州镇', village: '岭头村', address: '岭头村村委会旁' } });
  assert.equal(point.status, 201, JSON.stringify(point.body));
  const gb = await api('POST', '/v1/group-buys', { token: COOP, body: { sku_id: produce.body.skus[0].id,
    pickup_point_id: point.body.id, price_cents: 2990, min_qty: 10, per_buyer_limit: 3,
    closes_at: Math.floor(Date.now() / 1000) + 3600 } });
  assert.equal(gb.status, 201, JSON.stringify(gb.body));
  await page.goto(`${BASE}/group/${gb.body.id}`);
  assert.equal(await shownPhoto(page.locator('#campaign img[data-role=photo]')), corn.url);
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'group-photo.png'), fullPage: true });

  // The dashboard: the panel of the corn's SKU lists its photo; 添加照片 takes another from the "camera", which moves to
  // the front; then the corn goes; a text file named .jpg is refused in Chinese.
  const sku = produce.body.skus[0].id;
  await page.goto(`${BASE}/coop`);
  await page.fill('#login-token', COOP);
  await page.click('#login-form button[type=submit]');
  const row = page.locator(`#skus-table tr[data-sku-id="${sku}"]`);
  await row.waitFor();
  await row.locator('[data-role=manage]').click();
  const panel = page.locator(`tr[data-manage-for="${sku}"]`);
  const photos = panel.locator('[data-role=photos] figure');
  await photos.first().waitFor();
  assert.equal(await photos.count(), 1);
  await panel.locator('[data-role=photo-input]').setInputFiles(path.join(DATA, 'photo-millet.png'));
  await panel.locator('[data-role=photo-msg].ok').waitFor();
  assert.equal(await photos.count(), 2);
  assert.equal(await panel.locator('[data-role=photo-count]').textContent(), '2 / 8');
  await shownPhoto(photos.nth(1).locator('img'));
  await fits(page, 390);
  await page.screenshot({ path: path.join(SHOTS, 'coop-photos.png'), fullPage: true });
  await photos.nth(1).locator('[data-role=photo-left]').click();
  await panel.locator('[data-role=photo-msg]', { hasText: '已调整顺序' }).waitFor();
  // Read with the token: an anonymous read may be the public cache's answer of up to 250 ms ago.
  const after = await api('GET', `/v1/products/${produce.body.id}`, { token: COOP });
  assert.equal(after.body.photo_url, photo.url, 'the moved photo is the product\'s first');
  assert.deepEqual(after.body.images.map((i) => i.url), [photo.url, corn.url]);
  await photos.nth(1).locator('[data-role=photo-delete]').click();
  await panel.locator('[data-role=photo-msg]', { hasText: '已删除照片' }).waitFor();
  assert.equal(await photos.count(), 1);
  assert.deepEqual((await api('GET', `/v1/products/${produce.body.id}`, { token: COOP })).body.images.map((i) => i.url), [photo.url]);

  await panel.locator('[data-role=photo-input]').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg',
    buffer: Buffer.from('这不是照片 not a photo\n'.repeat(10)) });
  await panel.locator('[data-role=photo-msg].bad').waitFor();
  assert.match(await panel.locator('[data-role=photo-msg]').textContent(), /只能上传 JPEG、PNG 或 WebP 格式的照片.*415 unsupported_media_type/);
  assert.equal(await photos.count(), 1);
  await page.screenshot({ path: path.join(SHOTS, 'coop-photo-refused.png'), fullPage: true });
  await page.close();
});
