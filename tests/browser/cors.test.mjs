// A page on another origin calling the API in a real headless Chromium (Debian's, driven by playwright-core): from an
// origin livebuyd lists (--cors-origin) a buyer's order goes through its preflight, its answer and the headers a script
// reads (X-Request-Id, Idempotent-Replayed) are readable, and so is an error's body; from an origin not listed the
// browser refuses the same calls. Run by tests/integration/test_cors.py, which starts livebuyd and a server of the page
// and passes in the environment:
//   LB_BASE_URL        livebuyd, http://127.0.0.1:PORT
//   LB_LISTED_PAGE     the page's URL on a listed origin (http://localhost:PAGE_PORT/page.html)
//   LB_UNLISTED_PAGE   the same page on an origin not listed (http://127.0.0.1:PAGE_PORT/page.html)
//   LB_BUYER_TOKEN     a buyer token; LB_SKU_ID a SKU with stock
//   LB_CHROMIUM        the browser (default /usr/bin/chromium)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { launchChromium } from './launch.mjs';

const env = process.env;
for (const name of ['LB_BASE_URL', 'LB_LISTED_PAGE', 'LB_UNLISTED_PAGE', 'LB_BUYER_TOKEN', 'LB_SKU_ID'])
  if (!env[name]) throw new Error(name + ' is not set (run through tests/integration/test_cors.py)');

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
});

// Runs calls in the page at url: each [method, path, headers, body] is fetched from livebuyd; resolves, in order,
// {status, code, requestId, replayed} for an answer, or {refused: message} when the browser refused it.
async function callsFrom(url, calls) {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    return await page.evaluate(async ({ base, calls }) => {
      const results = [];
      for (const [method, path, headers, body] of calls) {
        try {
          const res = await fetch(base + path, { method, headers, body: body && JSON.stringify(body), cache: 'no-store' });
          const data = await res.json().catch(() => null);
          results.push({ status: res.status, code: data && data.error ? data.error.code : null,
            requestId: res.headers.get('X-Request-Id'), replayed: res.headers.get('Idempotent-Replayed') });
        } catch (e) {
          results.push({ refused: String(e) });
        }
      }
      return results;
    }, { base: env.LB_BASE_URL, calls });
  } finally {
    await page.close();
  }
}

function orderCalls() {
  const key = 'page-' + randomUUID();
  const headers = { Authorization: 'Bearer ' + env.LB_BUYER_TOKEN, 'Content-Type': 'application/json',
    'Idempotency-Key': key };
  const order = { sku_id: Number(env.LB_SKU_ID), qty: 1, ship_to: { name: '王小梅', phone: '13800000000',
    address: '山西省长治市武乡县丰州镇岭头村12号' } };
  return [
    ['POST', '/v1/orders', headers, order],
    ['POST', '/v1/orders', headers, order],
    ['POST', '/v1/orders', { ...headers, Authorization: 'Bearer b1.1.1.bad' }, order],
    ['GET', '/v1/skus/' + env.LB_SKU_ID, {}, null],
  ];
}

test('a page on a listed origin orders, reads the replay and an error', async () => {
  const [first, again, refused, sku] = await callsFrom(env.LB_LISTED_PAGE, orderCalls());
  assert.equal(first.status, 201, JSON.stringify(first));
  assert.match(first.requestId || '', /^[0-9a-f]{24}$/);
  assert.equal(first.replayed, null);
  assert.equal(again.status, 201);
  assert.equal(again.replayed, 'true');
  assert.deepEqual([refused.status, refused.code], [401, 'unauthorized']);
  assert.equal(sku.status, 200);
});

test('a page on an origin not listed gets nothing', async () => {
  const results = await callsFrom(env.LB_UNLISTED_PAGE, orderCalls());
  for (const result of results) assert.ok(result.refused, JSON.stringify(result));
});
