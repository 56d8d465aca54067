// The co-op dashboard's catalogue management, one panel under a SKU's row: change the SKU (PATCH /v1/skus/{id}) and
// its product (GET and PATCH /v1/products/{id}), correct the stock with a reason (POST /v1/skus/{id}/adjust; a refusal
// is explained in Chinese from the SKU's counters), its stock ledger (GET /v1/skus/{id}/ledger) and retiring the SKU
// or the whole product after a confirmation (POST .../retire), and the product's photos (up to 8: upload from the phone's
// camera or gallery, move, delete; POST, PATCH and DELETE /v1/products/{id}/images). coop.js puts the panel's button in
// each SKU row.
'use strict';

LB.catalogue = ({ call, onSku, onProduct }) => {
  const { failure, errorOf, say, yuan, cents, chinaDateTime, el } = LB;

  const kinds = { opening: '期初', restock: '补货', adjust: '调整', refund_after_handoff: '售后退货出库' };

  const field = (label, en, input) => el('div', {}, el('label', {}, label + ' ', el('span', { class: 'en', text: en })), input);
  const button = (role, zh, en, cls = 'btn small') => el('button', { class: cls, type: 'button', 'data-role': role }, zh + ' ',
    el('span', { class: 'en', text: en }));

  // The stock a correction would leave, against what is promised, in Chinese: why the server said 409.
  function belowCommitted(s, delta) {
    const committed = s.reserved + s.sold + s.held;
    const sign = delta < 0 ? ' − ' + -delta : ' + ' + delta;
    const most = s.stock - committed;
    return '不能调整：库存 ' + s.stock + sign + ' = ' + (s.stock + delta) + '，少于 已预留 ' + s.reserved + ' + 已售 ' + s.sold +
      ' + 直播锁定 ' + s.held + ' = ' + committed + '。' + (most > 0 ? '最多只能减少 ' + most + '。' : '现在不能再减少。');
  }

  // The SKU's part: name, price, weight, saved as one PATCH of what changed.
  function skuForm(panel, s) {
    const name = el('input', { 'data-role': 'sku-name', maxlength: '200', value: s.name });
    const price = el('input', { 'data-role': 'sku-price', inputmode: 'decimal', value: yuan(s.price_cents).slice(1) });
    const weight = el('input', { 'data-role': 'sku-weight', type: 'number', min: '0', step: '1', value: String(s.weight_grams) });
    const msg = el('div', { class: 'msg', 'data-role': 'sku-msg' });
    const save = button('sku-save', '保存规格', 'Save SKU');
    save.addEventListener('click', async () => {
      const body = {};
      if (name.value.trim() !== panel.sku.name) body.name = name.value.trim();
      const p = cents(price.value);
      if (p === null) return say(msg, '价格格式不对，例如 39.80 Price must be yuan like 39.80', false);
      if (p !== panel.sku.price_cents) body.price_cents = p;
      if (Number(weight.value) !== panel.sku.weight_grams) body.weight_grams = Number(weight.value);
      if (Object.keys(body).length === 0) return say(msg, '没有改动 Nothing changed', undefined);
      save.disabled = true;
      const answer = await call('PATCH', '/v1/skus/' + s.id, body);
      save.disabled = false;
      if (answer && answer.status === 200) {
        update(panel, answer.body);
        say(msg, '已保存规格 Saved' + (body.price_cents !== undefined ? '：新价格 ' + yuan(body.price_cents) +
          ' 只用于之后的订单，已下的订单和直播价不变 (new orders only)' : ''), true);
      } else if (!answer || answer.status !== 401) say(msg, '保存失败 Not saved ' + failure(answer), false);
    });
    return el('div', { class: 'manage-part' }, el('h3', {}, '规格 #' + s.id + ' ', el('span', { class: 'en', text: 'SKU' })),
      el('div', { class: 'grid2' }, field('规格名称', 'Name', name), field('价格(元)', 'Price', price), field('重量(克)', 'Grams', weight)),
      save, msg);
  }

  // The product's part, read from GET /v1/products/{id}: title, unit, origin, cold chain, description.
  function productForm(panel, p) {
    const title = el('input', { 'data-role': 'product-title', maxlength: '200', value: p.title });
    const unit = el('input', { 'data-role': 'product-unit', maxlength: '32', value: p.unit });
    const origin = el('input', { 'data-role': 'product-origin', maxlength: '200', value: p.origin });
    const cold = el('input', { type: 'checkbox', 'data-role': 'product-cold', checked: p.cold_chain });
    const description = el('textarea', { 'data-role': 'product-description', maxlength: '2000', rows: '3' });
    description.value = p.description;
    const msg = el('div', { class: 'msg', 'data-role': 'product-msg' });
    const save = button('product-save', '保存商品', 'Save product');
    save.addEventListener('click', async () => {
      const now = { title: title.value.trim(), unit: unit.value.trim(), origin: origin.value.trim(), cold_chain: cold.checked,
        description: description.value.trim() };
      const body = {};
      for (const [k, v] of Object.entries(now)) if (v !== panel.product[k]) body[k] = v;
      if (Object.keys(body).length === 0) return say(msg, '没有改动 Nothing changed', undefined);
      save.disabled = true;
      const answer = await call('PATCH', '/v1/products/' + p.id, body);
      save.disabled = false;
      if (answer && answer.status === 200) {
        panel.product = answer.body;
        onProduct(answer.body);
        say(msg, '已保存商品 Saved', true);
      } else if (!answer || answer.status !== 401) say(msg, '保存失败 Not saved ' + failure(answer), false);
    });
    return el('div', { class: 'manage-part' }, el('h3', {}, '商品 #' + p.id + ' ', el('span', { class: 'en', text: 'Product' })),
      field('商品名称', 'Title', title),
      el('div', { class: 'grid2' }, field('单位', 'Unit', unit), field('产地', 'Origin', origin)),
      el('label', {}, cold, ' 冷链 极速鲜 ', el('span', { class: 'en', text: 'Cold chain' })),
      field('商品介绍', 'Description', description), save, msg);
  }

  // Correcting the stock: a signed number and why.
  function adjustForm(panel, s) {
    const delta = el('input', { 'data-role': 'adjust-delta', type: 'number', step: '1', placeholder: '-5' });
    const reason = el('input', { 'data-role': 'adjust-reason', maxlength: '200', placeholder: '盘点：5 袋受潮' });
    const msg = el('div', { class: 'msg', 'data-role': 'adjust-msg' });
    const go = button('adjust', '调整库存', 'Adjust');
    go.addEventListener('click', async () => {
      const d = Number(delta.value);
      if (!Number.isInteger(d) || d === 0) return say(msg, '调整数量要是非零整数，减少用负数 A whole number, not 0; negative takes away', false);
      if (!reason.value.trim()) return say(msg, '请写明原因 Say why', false);
      go.disabled = true;
      const answer = await call('POST', '/v1/skus/' + s.id + '/adjust', { delta: d, reason: reason.value.trim() });
      go.disabled = false;
      if (answer && answer.status === 200) {
        update(panel, answer.body);
        delta.value = '';
        reason.value = '';
        say(msg, '已调整 Adjusted ' + (d > 0 ? '+' : '') + d + ' → 库存 stock ' + answer.body.stock, true);
        loadLedger(panel, false);
      } else if (answer && answer.status === 409) {
        // The message names the numbers in English; the SKU read again says them in Chinese.
        const fresh = await call('GET', '/v1/skus/' + s.id);
        if (fresh && fresh.status === 200) update(panel, fresh.body);
        say(msg, (fresh && fresh.status === 200 ? belowCommitted(fresh.body, d) : '不能调整') + ' ' + failure(answer), false);
      } else if (!answer || answer.status !== 401) say(msg, '调整失败 Not adjusted ' + failure(answer), false);
    });
    return el('div', { class: 'manage-part' }, el('h3', {}, '库存调整 ', el('span', { class: 'en', text: 'Stock correction' })),
      el('p', { class: 'muted', text: '盘点、损耗或录错时用：正数增加，负数减少；不能少于已预留、已售和直播锁定的数量。' }),
      el('div', { class: 'grid2' }, field('数量 (±)', 'Delta', delta), field('原因', 'Reason', reason)), go, msg);
  }

  function ledgerRow(e) {
    return el('tr', { 'data-entry-id': String(e.id), 'data-kind': e.kind },
      el('td', { 'data-label': '时间', text: chinaDateTime(e.created_at) }),
      el('td', { 'data-label': '类型', text: kinds[e.kind] || e.kind }),
      el('td', { class: 'num', 'data-label': '变动', 'data-role': 'delta', text: (e.delta > 0 ? '+' : '') + e.delta }),
      el('td', { class: 'num', 'data-label': '结存', text: String(e.stock_after) }),
      el('td', { class: 'wrap', 'data-label': '原因', text: e.reason || (e.order_id ? '订单 #' + e.order_id : '—') }));
  }

  // The ledger, oldest first as the server pages it; "more" reads the next page.
  async function loadLedger(panel, more) {
    const body = panel.ledger.tBodies[0];
    const after = more ? panel.ledgerNext : null;
    const answer = await call('GET', '/v1/skus/' + panel.sku.id + '/ledger?limit=50' + (after ? '&after=' + after : ''));
    if (!answer || answer.status !== 200) {
      if (!answer || answer.status !== 401) say(panel.ledgerMsg, '流水读取失败 Could not load the ledger ' + failure(answer), false);
      return;
    }
    if (!more) body.replaceChildren();
    for (const e of answer.body.entries) body.append(ledgerRow(e));
    panel.ledgerNext = answer.body.next;
    panel.ledgerMore.classList.toggle('hidden', !answer.body.next);
  }

  function ledgerPart(panel) {
    panel.ledger = el('table', { class: 'stack ledger', 'data-role': 'ledger' },
      el('thead', {}, el('tr', {}, ['时间', '类型', '变动', '结存', '原因'].map((t) => el('th', { text: t })))), el('tbody'));
    panel.ledgerMore = button('ledger-more', '加载更多', 'More', 'btn ghost small hidden');
    panel.ledgerMore.addEventListener('click', () => loadLedger(panel, true));
    panel.ledgerMsg = el('div', { class: 'msg' });
    return el('div', { class: 'manage-part' }, el('h3', {}, '库存流水 ', el('span', { class: 'en', text: 'Stock ledger' })),
      el('div', { class: 'table-wrap' }, panel.ledger), panel.ledgerMore, panel.ledgerMsg);
  }

  // Retiring, the SKU or its whole product, each after a second, explicit yes.
  function retirePart(panel, s) {
    const msg = el('div', { class: 'msg', 'data-role': 'retire-msg' });
    const confirmBox = el('div', { class: 'confirm hidden', 'data-role': 'retire-confirm' });
    const ask = (what, path, done) => {
      confirmBox.replaceChildren(
        el('p', { text: '确定停售' + what + '？停售后不能再下单、上直播或开团；已有订单照常付款、发货和退款，直播中的剩余数量照常卖完。此操作不能撤销。' }),
        button('retire-yes', '确认停售', 'Retire', 'btn small danger'), ' ', button('retire-no', '取消', 'Cancel', 'btn ghost small'));
      confirmBox.classList.remove('hidden');
      confirmBox.querySelector('[data-role=retire-no]').addEventListener('click', () => confirmBox.classList.add('hidden'));
      confirmBox.querySelector('[data-role=retire-yes]').addEventListener('click', async (e) => {
        e.target.disabled = true;
        const answer = await call('POST', path);
        confirmBox.classList.add('hidden');
        if (answer && answer.status === 200) done(answer.body);
        else if (!answer || answer.status !== 401) say(msg, '停售失败 Not retired ' + failure(answer), false);
      });
    };
    const sku = button('retire-sku', '停售此规格', 'Retire SKU', 'btn ghost small');
    sku.addEventListener('click', () => ask('规格“' + panel.sku.name + '”', '/v1/skus/' + s.id + '/retire', (body) => {
      update(panel, body);
      say(msg, '已停售 Retired SKU #' + s.id, true);
    }));
    const product = button('retire-product', '停售整个商品', 'Retire product', 'btn ghost small');
    product.addEventListener('click', () => ask('整个商品“' + panel.product.title + '”（全部规格）', '/v1/products/' + s.product_id +
      '/retire', (body) => {
      panel.product = body;
      onProduct(body);
      for (const k of body.skus) if (k.id === s.id) update(panel, k);
      say(msg, '已停售商品 Retired product #' + body.id + '（' + body.skus.length + ' 个规格）', true);
    }));
    panel.retireButtons = [sku, product];
    return el('div', { class: 'manage-part' }, el('h3', {}, '停售 ', el('span', { class: 'en', text: 'Retire' })),
      el('div', { class: 'actions' }, sku, ' ', product), confirmBox, msg);
  }

  // A photo refused, in Chinese first: what to do about it, then the server's own words.
  const photoRefusals = {
    unsupported_media_type: '只能上传 JPEG、PNG 或 WebP 格式的照片',
    too_large: '照片太大：每张最多 2 MB',
    invalid_image: '照片文件不完整或已损坏，请重新拍摄或选择',
    too_many_pixels: '照片像素太多（最多 2500 万像素）',
    too_many_images: '每个商品最多 8 张照片：请先删除一张',
    retired: '商品已停售：不能再添加照片',
    forbidden: '这是别的商家的商品',
  };
  const PHOTO_MAX_BYTES = 2 * 1024 * 1024;
  const PHOTOS_MAX = 8;
  const photoFailure = (answer) => (photoRefusals[errorOf(answer).code] || '照片操作失败') + ' ' + failure(answer);

  // The product's photos: the first is the one the shop shows (封面); ← → move one, 删除 deletes it, 添加照片 opens the
  // phone's camera or gallery.
  function photosPart(panel) {
    const list = el('div', { 'data-role': 'photos', style: 'display:flex;flex-wrap:wrap;gap:8px;margin:6px 0' });
    const count = el('span', { class: 'muted', 'data-role': 'photo-count' });
    const input = el('input', { type: 'file', accept: 'image/*', 'data-role': 'photo-input', style: 'display:none' });
    const add = button('photo-add', '添加照片', 'Add photo');
    const msg = el('div', { class: 'msg', 'data-role': 'photo-msg' });
    const path = (image) => '/v1/products/' + panel.product.id + '/images' + (image ? '/' + image.id : '');

    function draw() {
      const images = panel.product.images || [];
      count.textContent = images.length + ' / ' + PHOTOS_MAX;
      add.disabled = images.length >= PHOTOS_MAX || panel.product.retired;
      list.replaceChildren(...images.map((image, i) => {
        const act = (role, label, title, run) => el('button', { class: 'btn small', type: 'button', 'data-role': role,
          title, 'aria-label': title, text: label, onclick: run });
        return el('figure', { 'data-image-id': String(image.id), style: 'margin:0;width:96px' },
          el('img', { src: image.url, alt: '照片 ' + (i + 1),
            style: 'display:block;width:96px;height:96px;object-fit:cover;border-radius:8px;background:#eee' }),
          el('figcaption', { class: 'muted', style: 'font-size:12px', text: i === 0 ? '封面 cover' : '第 ' + (i + 1) + ' 张' }),
          el('div', { style: 'display:flex;gap:2px' },
            i > 0 ? act('photo-left', '←', '往前 Move left', () => change('PATCH', image, { position: i - 1 })) : null,
            i < images.length - 1 ? act('photo-right', '→', '往后 Move right', () => change('PATCH', image, { position: i + 1 })) : null,
            act('photo-delete', '删除', '删除 Delete', () => change('DELETE', image))));
      }));
    }

    // A move or a delete: the answer is the photos in their new order.
    async function change(method, image, body) {
      const answer = await call(method, path(image), body);
      if (answer && answer.status === 200) {
        panel.product.images = answer.body.images;
        draw();
        say(msg, method === 'DELETE' ? '已删除照片 Deleted' : '已调整顺序 Moved', true);
      } else if (!answer || answer.status !== 401) say(msg, photoFailure(answer), false);
    }

    add.addEventListener('click', () => input.click());
    input.addEventListener('change', async () => {
      const file = input.files[0];
      input.value = '';
      if (!file) return;
      if (file.size > PHOTO_MAX_BYTES)
        return say(msg, photoRefusals.too_large + '（这张 ' + (file.size / 1048576).toFixed(1) + ' MB）Too large', false);
      add.disabled = true;
      say(msg, '上传中… Uploading…', undefined);
      const answer = await call('POST', path(null), file);
      const fresh = answer && (answer.status === 201 || answer.status === 200) ? await call('GET', '/v1/products/' + panel.product.id) : null;
      if (fresh && fresh.status === 200) {
        panel.product.images = fresh.body.images;
        say(msg, answer.status === 201 ? '已上传照片 Uploaded' : '这张照片已经有了 Already there', true);
      } else if (!answer || answer.status !== 401) say(msg, photoFailure(answer), false);
      draw();
    });
    draw();
    return el('div', { class: 'manage-part' }, el('h3', {}, '商品照片 ', el('span', { class: 'en', text: 'Photos' }), ' ', count),
      list, input, add, msg);
  }

  // A SKU changed here: the panel and the dashboard's row learn it.
  function update(panel, sku) {
    panel.sku = Object.assign(panel.sku, sku);
    panel.row.classList.toggle('retired', !!panel.sku.retired);
    if (panel.retireButtons) panel.retireButtons[0].disabled = !!panel.sku.retired;
    onSku(panel.sku);
  }

  // The panel's row under a SKU's row (colspan: the SKU table's columns); filled once the product is read.
  async function open(s, columns) {
    const box = el('div', { class: 'manage' }, el('div', { class: 'muted', text: '读取中… Loading…' }));
    const row = el('tr', { class: 'manage-row', 'data-manage-for': String(s.id) }, el('td', { colspan: String(columns) }, box));
    const panel = { sku: Object.assign({}, s), row, product: null, ledgerNext: null };
    const answer = await call('GET', '/v1/products/' + s.product_id);
    if (!answer || answer.status !== 200) {
      box.replaceChildren(el('div', { class: 'msg bad', text: '商品读取失败 Could not load the product ' + failure(answer) }));
      return row;
    }
    panel.product = answer.body;
    box.replaceChildren(skuForm(panel, s), photosPart(panel), adjustForm(panel, s), ledgerPart(panel),
      productForm(panel, answer.body), retirePart(panel, s));
    update(panel, {});
    loadLedger(panel, false);
    return row;
  }

  return { open };
};
