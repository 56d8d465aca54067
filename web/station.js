// The village station keeper's page, /station: sign in with the station's token (kept in localStorage until 退出), the
// shipments coming to the station's pickup points, newest first, with their delivery status (GET
// /v1/station/shipments); a shipment's pick list (GET /v1/shipments/{id}/pick-list), printable; 领取 marks an order
// collected once the shipment is delivered (POST /v1/shipments/{id}/collect).
'use strict';

(() => {
  const { failure, say, chinaDateTime, el, merchantSession } = LB;

  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  const deliveryNames = {
    none: ['未发出', 'not picked up'], picked_up: ['已揽收', 'picked up'], in_transit: ['运输中', 'in transit'],
    delivered: ['已到站', 'delivered'],
  };
  let next = null;
  let shown = null; // the shipment whose pick list is open

  const session = merchantSession({
    storage: localStorage,
    key: 'livebuy.station_token',
    // Resolves true, or the answer that refused the token (merchantSession: a 401/403 signs out, a busy server retries).
    check: async () => {
      const answer = await call('GET', '/v1/station/shipments?limit=' + PAGE);
      if (answer && answer.status === 200) {
        showShipments(answer.body, false);
        return true;
      }
      return answer;
    },
    forbidden: '这不是服务站的令牌 Not a station\'s token',
    onSignOut: () => {
      $('shipments').replaceChildren();
      closePick();
    },
  });
  const call = session.call;

  function deliveryPill(status) {
    const [zh, en] = deliveryNames[status] || [status, status];
    return el('span', { class: 'status ' + (status === 'delivered' ? 'delivered' : 'pending'), 'data-role': 'delivery', text: zh + ' ' + en });
  }

  // ---- the shipments ----------------------------------------------------------------------------------------------------

  function shipmentRow(s) {
    const campaign = s.group_buy_id ? '团购 #' + s.group_buy_id + ' · ' : '';
    return el('div', { class: 'list-row', 'data-shipment-id': String(s.shipment_id) },
      el('div', {},
        el('div', {}, el('b', { text: '#' + s.shipment_id + ' ' + s.title }), ' ', deliveryPill(s.delivery_status)),
        el('div', { class: 'muted', text: campaign + s.pickup_point.name + ' · ' + chinaDateTime(s.created_at) }),
        el('div', { 'data-role': 'counts', text: s.orders + ' 单 ' + s.qty + ' 件 · 已领取 ' + s.collected + '/' + s.orders +
          ' · collected ' + s.collected + ' of ' + s.orders })),
      el('div', { class: 'actions' },
        el('button', { class: 'btn small', type: 'button', 'data-action': 'pick', onclick: () => openPick(s.shipment_id) },
          '拣货单 ', el('span', { class: 'en', text: 'Pick list' }))));
  }

  function showShipments(page, more) {
    if (!more) $('shipments').replaceChildren();
    for (const s of page.shipments) $('shipments').append(shipmentRow(s));
    next = page.next;
    $('shipments-more').classList.toggle('hidden', next === null || next === undefined);
    say('shipments-msg', $('shipments').children.length === 0 ? '还没有货物发往本站 Nothing is on its way to this station yet' : '');
  }

  async function loadShipments(more) {
    let path = '/v1/station/shipments?limit=' + PAGE;
    if (more && next) path += '&after=' + next;
    const answer = await call('GET', path);
    if (answer && answer.status === 200) showShipments(answer.body, more);
    else if (!answer || answer.status !== 401) say('shipments-msg', '读取失败 Could not load ' + failure(answer), false);
  }

  // ---- the pick list ----------------------------------------------------------------------------------------------------

  function pickRow(shipment, p) {
    const delivered = shipment.delivery_status === 'delivered';
    let cell;
    if (p.collected) cell = el('span', { class: 'status delivered', 'data-role': 'collected', text: '已领取 ✓ ' + chinaDateTime(p.collected_at).slice(5, 16) });
    else if (p.status !== 'delivered' && delivered) cell = el('span', { class: 'status failed', text: p.status });
    else {
      cell = el('button', { class: 'btn small', type: 'button', 'data-action': 'collect', disabled: !delivered,
        title: delivered ? '' : '货物到站后才能领取 Collected once the shipment is delivered' }, '领取 ', el('span', { class: 'en', text: 'Collect' }));
      cell.addEventListener('click', () => collect(shipment, p, cell));
    }
    return el('tr', { 'data-order-id': String(p.order_id) },
      el('td', { text: '#' + p.order_id }),
      el('td', { text: p.buyer_name || '买家 #' + p.buyer_id }),
      el('td', { text: p.phone_last4 || '—' }),
      el('td', { class: 'num', text: String(p.qty) }),
      el('td', { class: p.collected ? '' : 'tick' }, cell));
  }

  function showPick(body) {
    const s = body.shipment;
    shown = s.shipment_id;
    $('pick-title').replaceChildren('拣货单 #' + s.shipment_id + ' ', el('span', { class: 'en', text: 'Pick list' }));
    $('pick-summary').replaceChildren(
      el('div', {}, el('b', { text: s.title }), ' ', deliveryPill(s.delivery_status)),
      el('div', { text: s.pickup_point.name + ' · ' + s.pickup_point.address }),
      el('div', { text: s.orders + ' 单 ' + s.qty + ' 件 · 已领取 ' + s.collected + '/' + s.orders + (s.tracking_no ? ' · 运单 ' + s.tracking_no : '') }));
    $('pick-table').tBodies[0].replaceChildren(...body.pick_list.map((p) => pickRow(s, p)));
    say('pick-msg', s.delivery_status === 'delivered' ? '' : '货物还没到站，到站后才能领取 Not delivered yet: orders are collected once it is');
    $('pick').classList.remove('hidden');
    $('shipments-card').classList.add('hidden');
  }

  async function openPick(id) {
    const answer = await call('GET', '/v1/shipments/' + id + '/pick-list');
    if (answer && answer.status === 200) showPick(answer.body);
    else if (!answer || answer.status !== 401) say('shipments-msg', '读取失败 Could not load ' + failure(answer), false);
  }

  function closePick() {
    shown = null;
    $('pick').classList.add('hidden');
    $('shipments-card').classList.remove('hidden');
  }

  async function collect(shipment, p, button) {
    button.disabled = true;
    const answer = await call('POST', '/v1/shipments/' + shipment.shipment_id + '/collect', { order_id: p.order_id });
    if (answer && answer.status === 200) {
      await openPick(shipment.shipment_id);
      say('pick-msg', '已领取 Collected: #' + p.order_id + ' ' + (p.buyer_name || '买家 #' + p.buyer_id) + ' × ' + p.qty, true);
      loadShipments(false);
    } else {
      button.disabled = false;
      if (!answer || answer.status !== 401) say('pick-msg', '领取失败 Not collected ' + failure(answer), false);
    }
  }

  $('shipments-refresh').addEventListener('click', () => loadShipments(false));
  $('shipments-more').addEventListener('click', () => loadShipments(true));
  $('pick-close').addEventListener('click', closePick);
  $('pick-print').addEventListener('click', () => window.print());
  session.resume();
})();
