"""Offers: a co-op's agreement that a host may put one of its SKUs on air (POST/GET /v1/offers, accept, decline, end),
the rules live item creation keeps under them (403 no_offer, 422 offer_exceeded, 422 below_floor; nothing held when
refused), closing by the co-op (the quota back to the SKU and the offer), GET /v1/merchant/holds, and three livebuyd
processes on one database never placing more than an offer's max_quota. Real HTTP against a real MariaDB."""

import itertools
import json
import threading
import time

import lb

TIME_MAX = lb.TIME_MAX
SHIP_TO = {"name": "张三", "phone": "13800000000", "address": "山西省长治市武乡县丰州镇"}
_keys = itertools.count(1)
OFFER_FIELDS = {"id", "sku_id", "title", "coop_id", "coop_name", "host_id", "host_name", "max_quota", "placed", "left",
                "min_price_cents", "commission_bp", "starts_at", "ends_at", "status", "ended_by", "current", "created_at"}


class Base(lb.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.coop_id, cls.coop = s.create_merchant("coop", "武乡县岭头小米专业合作社")
        cls.other_coop_id, cls.other_coop = s.create_merchant("coop", "沁县玉米合作社")
        cls.host_id, cls.host = s.create_merchant("host", "长治直播间·太行好物")
        cls.other_host_id, cls.other_host = s.create_merchant("host", "太原直播间")
        cls.shipper_id, cls.shipper = s.create_merchant("shipper", "县乡村物流")

    # -- helpers ------------------------------------------------------------------------------------------------------

    def new_sku(self, stock=100, token=None):
        skus = [{"name": "2.5kg 袋装", "price_cents": 3980, "stock": stock, "weight_grams": 2600}]
        return self.server.create_product(token or self.coop, skus, title="武乡小米")["skus"][0]["id"]

    def new_live(self, token=None):
        status, _, body = self.server.request("POST", "/v1/lives", {"title": "今晚八点 小米专场", "starts_at": 1700000000},
                                              token=token or self.host)
        self.assertEqual(status, 201, body)
        return body["id"]

    def offer(self, sku_id, host_id=None, token=None, **terms):
        return self.server.create_offer(token or self.coop, sku_id, host_id or self.host_id, **terms)

    def accepted(self, sku_id, **terms):
        return self.server.accepted_offer(self.coop, self.host, self.host_id, sku_id, **terms)

    def put_on_air(self, live_id, sku_id, token=None, **changes):
        body = {"sku_id": sku_id, "price_cents": 2990, "quota": 10, "per_buyer_limit": 5, "opens_at": 0}
        body.update(changes)
        return self.server.request("POST", "/v1/lives/%d/items" % live_id, body, token=token or self.host)

    def get_offer(self, offer_id, token=None):
        status, _, body = self.server.request("GET", "/v1/offers/%d" % offer_id, token=token or self.coop)
        self.assertEqual(status, 200, body)
        return body

    def held(self, sku_id):
        return self.server.sku(sku_id)["held"]

    def placed(self, offer_id):
        return int(self.sql("SELECT placed FROM offers WHERE id = %d" % offer_id)[0][0])

    def reserve(self, item_id, qty, buyer=1001):
        status, _, body = self.server.request("POST", "/v1/orders", {"live_item_id": item_id, "qty": qty, "ship_to": SHIP_TO},
                                              token=lb.buyer_token(buyer),
                                              headers={"Idempotency-Key": "offers-%d" % next(_keys)})
        self.assertEqual(status, 201, body)
        return body


class OfferTest(Base):

    def test_create_offer(self):
        s = self.server
        sku_id = self.new_sku()
        now = int(time.time())
        offer = self.offer(sku_id, max_quota=300, min_price_cents=2500, commission_bp=1000, starts_at=now - 10,
                           ends_at=now + 86400)
        self.assertEqual(set(offer), OFFER_FIELDS)
        self.assertEqual({k: v for k, v in offer.items() if k not in ("id", "created_at")},
                         {"sku_id": sku_id, "title": "武乡小米 2.5kg 袋装", "coop_id": self.coop_id,
                          "coop_name": "武乡县岭头小米专业合作社", "host_id": self.host_id, "host_name": "长治直播间·太行好物",
                          "max_quota": 300, "placed": 0, "left": 300, "min_price_cents": 2500, "commission_bp": 1000,
                          "starts_at": now - 10, "ends_at": now + 86400, "status": "pending", "ended_by": None,
                          "current": False})
        self.assertLessEqual(abs(offer["created_at"] - now), 5)
        self.assertEqual(self.get_offer(offer["id"]), offer)
        self.assertEqual(self.get_offer(offer["id"], token=self.host), offer)
        status, headers, packed = s.request("GET", "/v1/offers/%d" % offer["id"], token=self.host,
                                            accept="application/msgpack")
        self.assertEqual((status, headers["content-type"], packed), (200, "application/msgpack", offer))
        # The bounds are inclusive.
        self.offer(sku_id, max_quota=1000000000, min_price_cents=10000000000, commission_bp=10000, starts_at=0,
                   ends_at=TIME_MAX)
        self.offer(sku_id, max_quota=1, min_price_cents=0, commission_bp=0)

    def test_create_offer_refusals(self):
        s = self.server
        sku_id = self.new_sku()
        theirs = self.new_sku(token=self.other_coop)
        before = self.sql("SELECT COUNT(*) FROM offers")
        now = int(time.time())
        good = {"sku_id": sku_id, "host_id": self.host_id, "max_quota": 100, "min_price_cents": 100, "commission_bp": 500,
                "starts_at": now, "ends_at": now + 3600}

        def post(token=self.coop, **changes):
            body = dict(good)
            body.update(changes)
            for k in [k for k, v in body.items() if v is None]:
                del body[k]
            return s.request("POST", "/v1/offers", body, token=token)

        self.assertError(post(token=None), 401, "unauthorized", what="no token")
        self.assertError(post(token="no-such-token"), 401, "unauthorized", what="unknown token")
        self.assertError(post(token=self.host), 403, "forbidden", what="a host")
        self.assertError(post(token=self.shipper), 403, "forbidden", what="a shipper")
        self.assertError(post(sku_id=theirs), 403, "forbidden", what="another co-op's SKU")
        self.assertError(post(sku_id=999999), 422, "invalid", "sku_id", what="unknown SKU")
        self.assertError(post(host_id=self.other_coop_id), 422, "invalid", "host_id", what="a co-op as host")
        self.assertError(post(host_id=self.shipper_id), 422, "invalid", "host_id", what="a shipper as host")
        self.assertError(post(host_id=999999), 422, "invalid", "host_id", what="unknown host")
        self.assertError(post(ends_at=now), 422, "invalid", "ends_at", what="ends_at = starts_at")
        self.assertError(post(starts_at=now - 100, ends_at=now - 50), 422, "invalid", "ends_at", what="over already")
        for field, values in [
            ("sku_id", [None, 0, -1, "1"]),
            ("host_id", [None, 0, 1.5]),
            ("max_quota", [None, 0, 1000000001]),
            ("min_price_cents", [None, -1, 10000000001]),
            ("commission_bp", [None, -1, 10001, "10%"]),
            ("starts_at", [None, -1, TIME_MAX + 1]),
            ("ends_at", [None, TIME_MAX + 1]),
        ]:
            for value in values:
                body = dict(good)
                if value is None:
                    del body[field]
                else:
                    body[field] = value
                self.assertError(s.request("POST", "/v1/offers", body, token=self.coop), 422, "invalid", field,
                                 what="%s = %r" % (field, value))
        self.assertEqual(self.sql("SELECT COUNT(*) FROM offers"), before)

    def test_state_machine(self):
        s = self.server
        sku_id = self.new_sku()

        def act(token, offer_id, action):
            return s.request("POST", "/v1/offers/%d/%s" % (offer_id, action), token=token)

        # pending -> accepted -> ended by the host
        a = self.offer(sku_id)["id"]
        self.assertError(act(self.coop, a, "accept"), 403, "forbidden", what="the co-op accepts")
        self.assertError(act(self.coop, a, "decline"), 403, "forbidden", what="the co-op declines")
        for token, what in [(self.other_host, "another host"), (self.other_coop, "another co-op")]:
            for action in ("accept", "decline", "end"):
                self.assertError(act(token, a, action), 404, "not_found", what="%s: %s" % (what, action))
            self.assertError(s.request("GET", "/v1/offers/%d" % a, token=token), 404, "not_found", what=what)
        self.assertError(act(self.shipper, a, "accept"), 403, "forbidden", what="a shipper")
        self.assertError(act(None, a, "accept"), 401, "unauthorized", what="no token")
        self.assertError(act(self.host, 999999, "accept"), 404, "not_found", what="no such offer")
        self.assertEqual(self.get_offer(a)["status"], "pending")
        offer = s.offer_action(self.host, a, "accept")
        self.assertEqual((offer["status"], offer["ended_by"], offer["current"]), ("accepted", None, True))
        self.assertError(act(self.host, a, "accept"), 409, "conflict", "accepted", what="accept twice")
        self.assertError(act(self.host, a, "decline"), 409, "conflict", what="decline an accepted offer")
        offer = s.offer_action(self.host, a, "end")
        self.assertEqual((offer["status"], offer["ended_by"], offer["current"]), ("ended", "host", False))
        for token in (self.host, self.coop):
            self.assertError(act(token, a, "end"), 409, "conflict", "ended", what="end twice")
        self.assertError(act(self.host, a, "accept"), 409, "conflict", what="accept an ended offer")

        # pending -> declined; a declined offer cannot be ended or accepted
        b = self.offer(sku_id)["id"]
        offer = s.offer_action(self.host, b, "decline")
        self.assertEqual((offer["status"], offer["ended_by"]), ("declined", "host"))
        for token, action in [(self.host, "accept"), (self.host, "decline"), (self.host, "end"), (self.coop, "end")]:
            self.assertError(act(token, b, action), 409, "conflict", "declined", what=action)

        # pending -> ended by the co-op (withdrawn); accepted -> ended by the co-op
        c = self.offer(sku_id)["id"]
        self.assertEqual(s.offer_action(self.coop, c, "end")["ended_by"], "coop")
        d = self.accepted(sku_id)
        self.assertEqual(s.offer_action(self.coop, d, "end")["ended_by"], "coop")
        self.assertEqual(self.sql("SELECT status, ended_by FROM offers WHERE id IN (%d, %d, %d, %d) ORDER BY id"
                                  % (a, b, c, d)),
                         [("ended", "host"), ("declined", "host"), ("ended", "coop"), ("ended", "coop")])

        # a pending offer past its ends_at cannot be accepted (it can still be declined or ended)
        e = self.offer(sku_id)["id"]
        self.sql("UPDATE offers SET starts_at = 1000, ends_at = 2000 WHERE id = %d" % e)
        self.assertError(act(self.host, e, "accept"), 409, "conflict", "2000", what="accept too late")
        self.assertEqual(s.offer_action(self.host, e, "decline")["status"], "declined")

        # an offer accepted before it starts is not current until then
        f = self.offer(sku_id, starts_at=int(time.time()) + 3600)["id"]
        self.assertEqual(s.offer_action(self.host, f, "accept")["current"], False)


class OfferRulesTest(Base):
    """Each rule of live item creation under offers, and that nothing is held when one refuses."""

    def assertRefused(self, live_id, sku_id, offer_ids, status, code, words, what, **changes):
        """The item is refused with status/code and a message with words; nothing moved."""
        held = self.held(sku_id)
        placed = {o: self.placed(o) for o in offer_ids}
        items = self.sql("SELECT COUNT(*) FROM live_items")
        message = self.assertError(self.put_on_air(live_id, sku_id, **changes), status, code, *words, what=what)
        self.assertEqual(self.held(sku_id), held, what)
        self.assertEqual({o: self.placed(o) for o in offer_ids}, placed, what)
        self.assertEqual(self.sql("SELECT COUNT(*) FROM live_items"), items, what)
        return message

    def test_no_offer(self):
        sku_id = self.new_sku()
        live_id = self.new_live()
        message = self.assertRefused(live_id, sku_id, [], 403, "no_offer", [], "no offer")
        self.assertEqual(message, "no offer of SKU %d to host %d" % (sku_id, self.host_id))
        # Another host's accepted offer is not this host's.
        theirs = self.server.accepted_offer(self.coop, self.other_host, self.other_host_id, sku_id)
        self.assertRefused(live_id, sku_id, [theirs], 403, "no_offer", ["no offer of SKU %d" % sku_id], "another host's")
        message = self.assertRefused(live_id, sku_id, [theirs], 403, "no_offer", [], "another host's, named",
                                     offer_id=theirs)
        self.assertEqual(message, "no offer %d to host %d" % (theirs, self.host_id))
        self.assertRefused(live_id, sku_id, [], 403, "no_offer", ["no offer 999999"], "unknown offer", offer_id=999999)
        # An offer of another SKU, named.
        other_sku = self.new_sku()
        other = self.accepted(other_sku)
        message = self.assertRefused(live_id, sku_id, [other], 403, "no_offer", [], "another SKU's", offer_id=other)
        self.assertEqual(message, "offer %d is of SKU %d, not SKU %d" % (other, other_sku, sku_id))

    def test_offer_states(self):
        s = self.server
        sku_id = self.new_sku()
        live_id = self.new_live()
        pending = self.offer(sku_id)["id"]
        message = self.assertRefused(live_id, sku_id, [pending], 403, "no_offer", [], "pending")
        self.assertEqual(message, "offer %d is pending: the host has not accepted it" % pending)
        self.assertRefused(live_id, sku_id, [pending], 403, "no_offer", ["pending"], "pending, named", offer_id=pending)
        s.offer_action(self.host, pending, "decline")
        self.assertRefused(live_id, sku_id, [pending], 403, "no_offer", ["offer %d was declined by the host" % pending],
                           "declined")

        ended = self.accepted(sku_id)
        self.assertEqual(self.put_on_air(live_id, sku_id, quota=4)[0], 201)
        s.offer_action(self.coop, ended, "end")
        self.assertRefused(live_id, sku_id, [ended], 403, "no_offer", ["offer %d was ended by the co-op" % ended],
                           "ended by the co-op", offer_id=ended)
        by_host = self.accepted(sku_id)
        s.offer_action(self.host, by_host, "end")
        self.assertRefused(live_id, sku_id, [by_host], 403, "no_offer", ["offer %d was ended by the host" % by_host],
                           "ended by the host", offer_id=by_host)
        # The item put on air before the end stays on air.
        self.assertEqual(self.held(sku_id), 4)

        now = int(time.time())
        later = self.offer(sku_id, starts_at=now + 3600, ends_at=now + 7200)["id"]
        s.offer_action(self.host, later, "accept")
        message = self.assertRefused(live_id, sku_id, [later], 403, "no_offer", [], "not started")
        self.assertEqual(message, "offer %d runs from %d to %d" % (later, now + 3600, now + 7200))
        over = self.accepted(sku_id)
        self.sql("UPDATE offers SET starts_at = 1000, ends_at = 2000 WHERE id = %d" % over)
        self.assertRefused(live_id, sku_id, [over], 403, "no_offer", ["offer %d runs from 1000 to 2000" % over], "past",
                           offer_id=over)

    def test_quota_and_floor(self):
        sku_id = self.new_sku(stock=1000)
        live_id = self.new_live()
        offer_id = self.accepted(sku_id, max_quota=300, min_price_cents=2500)
        status, _, item = self.put_on_air(live_id, sku_id, quota=200, price_cents=2500)
        self.assertEqual(status, 201, item)
        self.assertEqual(item["offer_id"], offer_id)
        message = self.assertRefused(live_id, sku_id, [offer_id], 422, "offer_exceeded", [], "over the quota", quota=101)
        self.assertEqual(message, "quota 101 is more than offer %d has left (100 of 300)" % offer_id)
        message = self.assertRefused(live_id, sku_id, [offer_id], 422, "below_floor", [], "under the floor", quota=100,
                                     price_cents=2499)
        self.assertEqual(message, "price_cents 2499 is under offer %d's floor of 2500" % offer_id)
        status, _, item = self.put_on_air(live_id, sku_id, quota=100, price_cents=9900, offer_id=offer_id)
        self.assertEqual(status, 201, item)
        self.assertEqual((self.placed(offer_id), self.held(sku_id)), (300, 300))
        offer = self.get_offer(offer_id, token=self.host)
        self.assertEqual((offer["placed"], offer["left"], offer["current"]), (300, 0, True))
        self.assertRefused(live_id, sku_id, [offer_id], 422, "offer_exceeded", ["(0 of 300)"], "nothing left", quota=1)

    def test_stock_refusal_places_nothing(self):
        sku_id = self.new_sku(stock=10)
        live_id = self.new_live()
        offer_id = self.accepted(sku_id, max_quota=100)
        self.assertRefused(live_id, sku_id, [offer_id], 409, "conflict", ["only 10 available"], "past the stock", quota=11)

    def test_choice_of_offer(self):
        """Without offer_id: the accepted, current offer of the SKU to the host with most left."""
        sku_id = self.new_sku(stock=1000)
        live_id = self.new_live()
        small = self.accepted(sku_id, max_quota=20)
        big = self.accepted(sku_id, max_quota=50)
        self.offer(sku_id, max_quota=500)  # pending: not chosen
        status, _, item = self.put_on_air(live_id, sku_id, quota=40)
        self.assertEqual((status, item["offer_id"]), (201, big), item)
        status, _, item = self.put_on_air(live_id, sku_id, quota=15)
        self.assertEqual((status, item["offer_id"]), (201, small), item)
        # The chosen one (10 left in big, 5 in small) names itself when the quota is too much.
        self.assertRefused(live_id, sku_id, [small, big], 422, "offer_exceeded", ["offer %d has left (10 of 50)" % big],
                           "too much for any", quota=11)
        self.assertEqual(self.sql("SELECT offer_id, quota FROM live_items WHERE live_id = %d ORDER BY id" % live_id),
                         [(str(big), "40"), (str(small), "15")])

    def test_own_sku_needs_no_offer(self):
        own = self.new_sku(token=self.host)
        live_id = self.new_live()
        status, _, item = self.put_on_air(live_id, own, quota=5)
        self.assertEqual(status, 201, item)
        self.assertIsNone(item["offer_id"])
        self.assertEqual(self.sql("SELECT offer_id FROM live_items WHERE id = %d" % item["id"]), [(None,)])
        status, _, closed = self.server.request("POST", "/v1/live-items/%d/close" % item["id"], token=self.host)
        self.assertEqual((status, closed["offer_id"], closed["released"]), (200, None, 5), closed)


class CloseAndHoldsTest(Base):

    def test_coop_closes_a_hosts_item(self):
        s = self.server
        sku_id = self.new_sku(stock=100)
        live_id = self.new_live()
        offer_id = self.accepted(sku_id, max_quota=60)
        status, _, item = self.put_on_air(live_id, sku_id, quota=50)
        self.assertEqual(status, 201, item)
        self.reserve(item["id"], 3)
        self.assertEqual((self.server.sku(sku_id)["available"], self.placed(offer_id)), (50, 50))
        path = "/v1/live-items/%d/close" % item["id"]
        self.assertError(s.request("POST", path, token=self.other_coop), 403, "forbidden", what="another co-op")
        self.assertError(s.request("POST", path, token=self.other_host), 403, "forbidden", what="another host")
        self.assertError(s.request("POST", path, token=self.shipper), 403, "forbidden", what="a shipper")
        self.assertEqual(self.placed(offer_id), 50)
        status, _, closed = s.request("POST", path, token=self.coop)
        self.assertEqual(status, 200, closed)
        self.assertEqual((closed["released"], closed["quota"], closed["offer_id"], closed["available"]), (47, 3, offer_id, 0))
        sku = self.server.sku(sku_id)
        self.assertEqual((sku["held"], sku["reserved"], sku["available"]), (0, 3, 97))
        offer = self.get_offer(offer_id)
        self.assertEqual((offer["placed"], offer["left"]), (3, 57))
        self.assertError(s.request("POST", path, token=self.coop), 409, "conflict", what="closed twice")
        self.assertError(s.request("POST", path, token=self.host), 409, "conflict", what="closed twice, by the host")
        # What came back can be put on air again under the offer.
        status, _, again = self.put_on_air(live_id, sku_id, quota=57)
        self.assertEqual((status, self.placed(offer_id)), (201, 60), again)


class HoldsTest(Base):

    def test_holds(self):
        s = self.server
        first, second = self.new_sku(stock=100), self.new_sku(stock=100)
        theirs = self.new_sku(token=self.other_coop)
        live_id = self.new_live()
        other_live = self.new_live(token=self.other_host)
        offer_id = self.accepted(first)
        other_offer = s.accepted_offer(self.coop, self.other_host, self.other_host_id, second)
        s.accepted_offer(self.other_coop, self.host, self.host_id, theirs)
        ids = []
        for live, sku, token in [(live_id, first, self.host), (other_live, second, self.other_host),
                                 (live_id, theirs, self.host), (live_id, first, self.host)]:
            status, _, item = self.put_on_air(live, sku, token=token, quota=10, price_cents=3100)
            self.assertEqual(status, 201, item)
            ids.append(item["id"])
        self.reserve(ids[0], 2)
        self.assertEqual(s.request("POST", "/v1/live-items/%d/close" % ids[3], token=self.host)[0], 200)

        status, _, body = s.request("GET", "/v1/merchant/holds", token=self.coop)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["next"], None)
        self.assertEqual([h["live_item_id"] for h in body["holds"]], [ids[0], ids[1]])  # not another's SKU, not closed
        self.assertEqual(body["holds"][0],
                         {"live_item_id": ids[0], "live_id": live_id, "live_title": "今晚八点 小米专场", "host_id": self.host_id,
                          "host_name": "长治直播间·太行好物", "offer_id": offer_id, "sku_id": first, "title": "武乡小米 2.5kg 袋装",
                          "price_cents": 3100, "quota": 10, "reserved": 2, "sold": 0, "available": 8, "opens_at": 0})
        self.assertEqual((body["holds"][1]["host_id"], body["holds"][1]["offer_id"]), (self.other_host_id, other_offer))
        status, _, page = s.request("GET", "/v1/merchant/holds?limit=1", token=self.coop)
        self.assertEqual(([h["live_item_id"] for h in page["holds"]], page["next"]), ([ids[0]], ids[0]))
        status, _, page = s.request("GET", "/v1/merchant/holds?limit=1&after=%d" % ids[0], token=self.coop)
        self.assertEqual([h["live_item_id"] for h in page["holds"]], [ids[1]])
        status, _, page = s.request("GET", "/v1/merchant/holds?sku_id=%d" % second, token=self.coop)
        self.assertEqual([h["live_item_id"] for h in page["holds"]], [ids[1]])
        status, _, page = s.request("GET", "/v1/merchant/holds", token=self.other_coop)
        self.assertEqual([h["live_item_id"] for h in page["holds"]], [ids[2]])
        self.assertError(s.request("GET", "/v1/merchant/holds", token=self.host), 403, "forbidden", what="a host")
        self.assertError(s.request("GET", "/v1/merchant/holds"), 401, "unauthorized", what="no token")
        for query in ("limit=0", "limit=201", "sku_id=0", "sku_id=x", "after=-1"):
            self.assertError(s.request("GET", "/v1/merchant/holds?" + query, token=self.coop), 422, "invalid",
                             query.split("=")[0], what=query)


class ListingTest(Base):

    def test_listing_and_paging(self):
        s = self.server
        a, b = self.new_sku(), self.new_sku()
        mine = [self.offer(a)["id"], self.offer(b)["id"], self.accepted(a), self.offer(a, host_id=self.other_host_id)["id"],
                self.accepted(b)]
        self.server.offer_action(self.host, mine[1], "decline")
        theirs = self.server.create_offer(self.other_coop, self.new_sku(token=self.other_coop), self.host_id)["id"]

        def ids(token, query=""):
            out, after = [], 0
            while True:
                status, _, body = s.request("GET", "/v1/offers?limit=2&after=%d%s" % (after, query), token=token)
                self.assertEqual(status, 200, body)
                self.assertLessEqual(len(body["offers"]), 2)
                for o in body["offers"]:
                    self.assertEqual(set(o), OFFER_FIELDS)
                out += [o["id"] for o in body["offers"]]
                if body["next"] is None:
                    return out
                self.assertEqual(body["next"], out[-1])
                after = body["next"]

        self.assertEqual(ids(self.coop), mine)
        self.assertEqual(ids(self.host), [mine[0], mine[1], mine[2], mine[4], theirs])
        self.assertEqual(ids(self.other_host), [mine[3]])
        self.assertEqual(ids(self.other_coop), [theirs])
        self.assertEqual(ids(self.coop, "&status=accepted"), [mine[2], mine[4]])
        self.assertEqual(ids(self.coop, "&status=declined"), [mine[1]])
        self.assertEqual(ids(self.coop, "&sku_id=%d" % a), [mine[0], mine[2], mine[3]])
        self.assertEqual(ids(self.host, "&status=pending&sku_id=%d" % a), [mine[0]])
        self.assertEqual(ids(self.host, "&status=ended"), [])
        status, _, body = s.request("GET", "/v1/offers", token=self.coop)
        self.assertEqual((len(body["offers"]), body["next"]), (5, None))
        self.assertEqual(body["offers"][2], self.get_offer(mine[2]))
        for query in ("status=open", "status="):
            self.assertError(s.request("GET", "/v1/offers?" + query, token=self.coop), 400, "invalid_query", "status",
                             what=query)
        for query in ("sku_id=0", "limit=0", "limit=201", "after=x"):
            self.assertError(s.request("GET", "/v1/offers?" + query, token=self.coop), 422, "invalid",
                             query.split("=")[0], what=query)
        self.assertError(s.request("GET", "/v1/offers", token=self.shipper), 403, "forbidden", what="a shipper")
        self.assertError(s.request("GET", "/v1/offers"), 401, "unauthorized", what="no token")


class ThreeProcessesTest(Base):
    """Three livebuyd processes on one database, many item creations under one offer at once: never more placed than
    max_quota, and the offer's placed is exactly what its items hold."""

    MAX_QUOTA = 97
    REQUESTS = 90  # 30 per process, quotas 1-4: about 225 units asked for

    def test_max_quota_holds_across_processes(self):
        servers = [self.server] + [lb.Server(self.url, list(self.server_args)) for _ in range(2)]
        try:
            sku_id = self.new_sku(stock=100000)
            lives = [self.new_live() for _ in range(3)]
            offer_id = self.accepted(sku_id, max_quota=self.MAX_QUOTA)
            barrier = threading.Barrier(self.REQUESTS)
            answers = [None] * self.REQUESTS

            def create(i):
                server = servers[i % 3]
                conn = server.connection(timeout=60)
                body = {"sku_id": sku_id, "price_cents": 2990, "quota": 1 + i % 4, "per_buyer_limit": 1, "opens_at": 0}
                payload = json.dumps(body).encode()
                try:
                    conn.connect()
                    barrier.wait(20)
                    conn.request("POST", "/v1/lives/%d/items" % lives[i % 3], body=payload,
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.host})
                    resp = conn.getresponse()
                    answers[i] = (resp.status, lb.decode_body(resp.getheader("Content-Type", ""), resp.read()), body)
                finally:
                    conn.close()

            threads = [threading.Thread(target=create, args=(i,)) for i in range(self.REQUESTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(90)
            self.assertNotIn(None, answers)
            granted = 0
            for status, body, asked in answers:
                if status == 201:
                    self.assertEqual((body["offer_id"], body["quota"]), (offer_id, asked["quota"]))
                    granted += asked["quota"]
                else:
                    self.assertEqual((status, lb.error_code(body)), (422, "offer_exceeded"), body)
            self.assertLessEqual(granted, self.MAX_QUOTA)
            self.assertGreater(granted, self.MAX_QUOTA - 4, "a refusal while more than 3 units were left")
            placed, items_sum, count = self.sql("SELECT o.placed, SUM(i.quota), COUNT(*) FROM offers o "
                                                "JOIN live_items i ON i.offer_id = o.id WHERE o.id = %d" % offer_id)[0]
            self.assertEqual((int(placed), int(items_sum)), (granted, granted))
            self.assertEqual(int(count), sum(1 for a in answers if a[0] == 201))
            self.assertEqual(self.held(sku_id), granted)
            # Every process took part.
            for i, server in enumerate(servers):
                self.assertTrue(any(answers[j][0] in (201, 422) for j in range(i, self.REQUESTS, 3)))
        finally:
            for server in servers[1:]:
                server.stop()


if __name__ == "__main__":
    lb.main()
