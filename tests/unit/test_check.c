/*
 * Unit tests of livebuy-load's correctness check: a small consistent world passes, and each rule of lb_check_run and
 * lb_check_group_buys, broken on its own, is reported under its name.
 */
#include <stdlib.h>
#include "check.h"
/* The loadtest library's header has the same name as the kit's: the kit is found first beside this file. */
#include "../../loadtest/check.h"

/* What the report callback was given: every line preceded by '\n', so "\nRULE:" matches a line starting with RULE. */
typedef struct st_report_t {
    char text[8192];
    size_t len, lines;
} report_t;

static report_t got;

static void collect(void *ctx, const char *line)
{
    report_t *report = ctx;
    int n = snprintf(report->text + report->len, sizeof(report->text) - report->len, "\n%s", line);
    if (n > 0)
        report->len += (size_t)n < sizeof(report->text) - report->len ? (size_t)n : sizeof(report->text) - report->len - 1;
    ++report->lines;
}

static void report_reset(void)
{
    got.text[0] = '\0';
    got.len = got.lines = 0;
}

/* "\nRULE:", which only a line naming the rule contains. */
static const char *rule_line(const char *rule)
{
    static char needle[128];
    snprintf(needle, sizeof(needle), "\n%s:", rule);
    return needle;
}

/* How many reported lines start with rule. */
static size_t lines_of(const char *rule)
{
    const char *needle = rule_line(rule);
    size_t n = 0;
    for (const char *p = got.text; (p = strstr(p, needle)) != NULL; ++p)
        ++n;
    return n;
}

static lb_check_order_t make_order(int64_t id, int64_t buyer_id, int64_t live_item_id, int64_t group_buy_id, int64_t qty,
                                   const char *status)
{
    lb_check_order_t o = {
        .id = id, .buyer_id = buyer_id, .sku_id = 10, .live_item_id = live_item_id, .group_buy_id = group_buy_id, .qty = qty};
    int state = lb_check_state_of(status);
    if (state < 0) {
        fprintf(stderr, "test_check: no state for status \"%s\"\n", status);
        abort();
    }
    o.state = (lb_check_state_t)state;
    snprintf(o.status, sizeof(o.status), "%s", status);
    return o;
}

static void set_status(lb_check_order_t *o, const char *status)
{
    *o = make_order(o->id, o->buyer_id, o->live_item_id, o->group_buy_id, o->qty, status);
}

static lb_check_order_t *find(lb_check_order_t *orders, size_t n, int64_t id)
{
    for (size_t i = 0; i != n; ++i)
        if (orders[i].id == id)
            return &orders[i];
    return NULL;
}

/* ---- lb_check_run ---------------------------------------------------------------------------------------------------- */

/*
 * SKU 10 (stock 100) and its live item 20 (quota 30, 5 a buyer). Reserved: orders 1 and 7 (4 units); sold: 2, 4, 6
 * (10 units); released: 3 (cancelled), 5 (expired). Order 8 is of another SKU. The live item's orders hold 6 units
 * (1, 2, 6), so 24 are available and held. Buyer 1 holds exactly the limit; buyer 2's live order was cancelled.
 */
typedef struct st_run_world_t {
    lb_check_order_t orders[32];
    lb_check_grant_t grants[32];
    int64_t paid[8], cancelled[8];
    lb_check_input_t in;
} run_world_t;

static run_world_t w;

static void add_order(lb_check_order_t o)
{
    w.orders[w.in.num_orders++] = o;
}

static void add_grant(uint64_t key, int64_t order_id, int64_t buyer_id, int64_t qty)
{
    w.grants[w.in.num_grants++] = (lb_check_grant_t){key, order_id, buyer_id, qty};
}

/* Takes the 201s for key out, as if they never arrived. */
static void drop_grants(uint64_t key)
{
    size_t kept = 0;
    for (size_t i = 0; i != w.in.num_grants; ++i)
        if (w.grants[i].key != key)
            w.grants[kept++] = w.grants[i];
    w.in.num_grants = kept;
}

static lb_check_grant_t *first_grant(uint64_t key)
{
    for (size_t i = 0; i != w.in.num_grants; ++i)
        if (w.grants[i].key == key)
            return &w.grants[i];
    return NULL;
}

static void world_init(void)
{
    memset(&w, 0, sizeof(w));
    w.in = (lb_check_input_t){.sku_id = 10,
                              .stock = 100,
                              .reserved = 4,
                              .sold = 10,
                              .held = 24,
                              .has_live_item = 1,
                              .live_item_id = 20,
                              .quota = 30,
                              .available = 24,
                              .per_buyer_limit = 5,
                              .orders = w.orders,
                              .has_observations = 1,
                              .grants = w.grants,
                              .paid = w.paid,
                              .cancelled = w.cancelled};
    add_order(make_order(1, 1, 20, 0, 2, "reserved"));
    add_order(make_order(2, 1, 20, 0, 3, "paid"));
    add_order(make_order(3, 2, 20, 0, 4, "cancelled"));
    add_order(make_order(4, 2, 0, 0, 6, "paid"));
    add_order(make_order(5, 3, 0, 0, 1, "expired"));
    add_order(make_order(6, 3, 20, 0, 1, "delivered"));
    add_order(make_order(7, 4, 0, 0, 2, "reserved"));
    add_order(make_order(8, 4, 0, 0, 50, "paid"));
    w.orders[7].sku_id = 11;
    add_grant(1, 1, 1, 2);
    add_grant(2, 2, 1, 3);
    add_grant(2, 2, 1, 3); /* a duplicate tap's 201 names the same order */
    add_grant(3, 3, 2, 4);
    add_grant(4, 4, 2, 6);
    add_grant(5, 5, 3, 1);
    add_grant(6, 6, 3, 1);
    add_grant(7, 7, 4, 2);
    add_grant(8, 8, 4, 50);
    static const int64_t paid[] = {2, 4, 6, 8}, cancelled[] = {3};
    memcpy(w.paid, paid, sizeof(paid));
    w.in.num_paid = sizeof(paid) / sizeof(paid[0]);
    memcpy(w.cancelled, cancelled, sizeof(cancelled));
    w.in.num_cancelled = sizeof(cancelled) / sizeof(cancelled[0]);
}

static lb_check_order_t *world_order(int64_t id)
{
    return find(w.orders, w.in.num_orders, id);
}

static size_t run_check(void)
{
    report_reset();
    size_t violations = lb_check_run(&w.in, collect, &got);
    CHECK(violations == got.lines);
    return violations;
}

/* The world breaking one rule: exactly one violation, named by the rule. */
static void check_only(const char *rule)
{
    size_t violations = run_check();
    CHECK(violations == 1);
    CHECK_CONTAINS(got.text, rule_line(rule));
    CHECK(lines_of(rule) == 1);
}

static void test_state_of(void)
{
    static const char *const reserved[] = {"reserved"}, *const sold[] = {"paid", "handed_off", "shipped", "delivered"},
                             *const released[] = {"expired", "cancelled", "refund_required", "refunded"},
                             *const unknown[] = {"", "open", "Paid", "paid ", "refund", "succeeded"};
    CHECK(lb_check_state_of(reserved[0]) == LB_CHECK_RESERVED);
    for (size_t i = 0; i != sizeof(sold) / sizeof(sold[0]); ++i)
        CHECK(lb_check_state_of(sold[i]) == LB_CHECK_SOLD);
    for (size_t i = 0; i != sizeof(released) / sizeof(released[0]); ++i)
        CHECK(lb_check_state_of(released[i]) == LB_CHECK_RELEASED);
    for (size_t i = 0; i != sizeof(unknown) / sizeof(unknown[0]); ++i)
        CHECK(lb_check_state_of(unknown[i]) == -1);
}

static void test_consistent(void)
{
    world_init();
    CHECK(run_check() == 0);
    CHECK(got.text[0] == '\0');
}

/* Every limit reached exactly: the stock sold out (nothing held), the quota taken, buyer 1 at the limit (already). */
static void test_at_the_limits(void)
{
    world_init();
    w.in.stock = 14;
    w.in.held = 0;
    CHECK(run_check() == 0);
    world_init();
    w.in.quota = 6;
    w.in.available = 0;
    CHECK(run_check() == 0);
}

/* The orders come in any order; the check sorts them by id (bsearch needs it) and still passes. */
static void test_unsorted(void)
{
    world_init();
    for (size_t i = 0, j = w.in.num_orders - 1; i < j; ++i, --j) {
        lb_check_order_t o = w.orders[i];
        w.orders[i] = w.orders[j];
        w.orders[j] = o;
    }
    CHECK(w.orders[0].id == 8);
    CHECK(run_check() == 0);
    for (size_t i = 1; i != w.in.num_orders; ++i)
        CHECK(w.orders[i - 1].id < w.orders[i].id);
}

static void test_order_listing(void)
{
    world_init();
    add_order(*world_order(5)); /* a released order listed twice: the counters do not move */
    w.in.unanswered = 1;        /* else the extra row is also an order no 201 named */
    check_only("order listing");
}

/* Orders adding up to more than the stock with true counters: the counters exceed the stock too, necessarily. */
static void test_oversold(void)
{
    world_init();
    w.in.stock = 13;
    CHECK(run_check() == 2);
    CHECK_CONTAINS(got.text, rule_line("oversold"));
    CHECK_CONTAINS(got.text, rule_line("counters exceed stock"));
}

static void test_counters_exceed_stock(void)
{
    world_init();
    w.in.held = 87;
    check_only("counters exceed stock");
}

static void test_reserved_counter(void)
{
    world_init();
    w.in.reserved = 5;
    check_only("reserved counter");
}

static void test_sold_counter(void)
{
    world_init();
    w.in.sold = 9;
    check_only("sold counter");
    /* an order paid behind the counters' back: sold counter off by its quantity, reserved counter too */
    world_init();
    set_status(world_order(7), "paid");
    CHECK(run_check() == 2);
    CHECK(lines_of("sold counter") == 1 && lines_of("reserved counter") == 1);
}

/* Over quota alone needs a live item that shows what its orders hold: available below zero. */
static void test_over_quota(void)
{
    world_init();
    w.in.quota = 5;
    w.in.available = -1;
    check_only("over quota");
}

static void test_live_item_counter(void)
{
    world_init();
    w.in.available = 23;
    check_only("live item counter");
}

static void test_no_live_item(void)
{
    world_init();
    w.in.has_live_item = 0;
    w.in.quota = 0;
    w.in.per_buyer_limit = 0;
    CHECK(run_check() == 0);
}

static void test_live_buyer_limit(void)
{
    world_init();
    w.in.per_buyer_limit = 4; /* buyer 1 holds 5 */
    check_only("per-buyer limit");
    CHECK_CONTAINS(got.text, "buyer 1 holds 5 units");
    /* limit 1: buyer 3 holds 1, buyer 2's 4 units were cancelled, buyer 4's 2 are not of the live item */
    world_init();
    w.in.per_buyer_limit = 1;
    check_only("per-buyer limit");
}

/* Twelve buyers over the limit: ten lines, the rest is the same news. */
static void test_live_buyer_limit_capped(void)
{
    world_init();
    w.in.num_orders = w.in.num_grants = w.in.num_paid = w.in.num_cancelled = 0;
    w.in.has_observations = 0;
    w.in.reserved = 24;
    w.in.sold = 0;
    w.in.available = w.in.held = 6;
    w.in.per_buyer_limit = 1;
    for (int64_t buyer = 1; buyer <= 12; ++buyer)
        add_order(make_order(buyer, buyer, 20, 0, 2, "reserved"));
    CHECK(run_check() == 10);
    CHECK(lines_of("per-buyer limit") == 10);
}

static void test_one_order_per_key(void)
{
    world_init();
    add_grant(5, 6, 3, 1); /* key 5 answered with order 6 too */
    check_only("one order per idempotency key");
    CHECK_CONTAINS(got.text, "key #5 was answered 201 with orders 5 and 6");
    /* as a server would break it: a second order for the key, which no other 201 names either */
    world_init();
    add_order(make_order(9, 3, 0, 0, 1, "expired"));
    add_grant(5, 9, 3, 1);
    CHECK(run_check() == 2);
    CHECK(lines_of("one order per idempotency key") == 1 && lines_of("unannounced orders") == 1);
}

/* Two keys are two orders: a 201 of another key naming an order already named hides an order no 201 named. */
static void test_one_key_per_order(void)
{
    world_init();
    drop_grants(5);
    add_grant(9, 3, 2, 4); /* key 9 names order 3, as key 3 does; order 5 is named by none */
    CHECK(run_check() == 2);
    CHECK(lines_of("one order per idempotency key") == 1 && lines_of("unannounced orders") == 1);
    CHECK_CONTAINS(got.text, "order 3 was answered 201 for two keys");
    /* more 201s than orders never wrap the count of unnamed orders around */
    world_init();
    add_grant(9, 3, 2, 4);
    add_grant(10, 3, 2, 4);
    run_check();
    CHECK(lines_of("unannounced orders") == 0);
}

static void test_lost_order(void)
{
    world_init();
    add_grant(9, 99, 5, 1);
    check_only("lost order");
    CHECK_CONTAINS(got.text, "order 99 (201 for key #9)");
}

/* The 201's order exists with another quantity: it is a mismatch, and so also an order no 201 named. */
static void test_order_mismatch(void)
{
    world_init();
    first_grant(7)->qty = 3;
    CHECK(run_check() == 2);
    CHECK(lines_of("order mismatch") == 1 && lines_of("unannounced orders") == 1);
    world_init();
    first_grant(7)->buyer_id = 5;
    w.in.unanswered = 1;
    check_only("order mismatch");
}

/* An order no 201 named is fine only as the outcome of a request whose answer never came. */
static void test_unannounced(void)
{
    world_init();
    drop_grants(5);
    check_only("unannounced orders");
    CHECK_CONTAINS(got.text, "1 orders exist that no 201 named, but only 0");
    world_init();
    drop_grants(5);
    w.in.unanswered = 1;
    CHECK(run_check() == 0);
}

static void test_paid_not_paid(void)
{
    world_init();
    w.paid[w.in.num_paid++] = 7; /* still reserved */
    check_only("paid order not paid");
    CHECK_CONTAINS(got.text, "order 7 has another status");
    world_init();
    w.paid[w.in.num_paid++] = 99;
    check_only("paid order not paid");
    CHECK_CONTAINS(got.text, "order 99 is missing");
}

static void test_cancelled_not_cancelled(void)
{
    world_init();
    w.cancelled[w.in.num_cancelled++] = 1; /* still reserved */
    check_only("cancelled order not cancelled");
    CHECK_CONTAINS(got.text, "order 1 has another status");
    world_init();
    w.cancelled[w.in.num_cancelled++] = 99;
    check_only("cancelled order not cancelled");
    CHECK_CONTAINS(got.text, "order 99 is missing");
    /* "cancelled" means released: an order that expired before the cancellation's answer counts */
    world_init();
    w.cancelled[w.in.num_cancelled++] = 5;
    CHECK(run_check() == 0);
}

/* Without observations (a check before any run) grants, payments and cancellations are not looked at. */
static void test_no_observations(void)
{
    world_init();
    w.in.has_observations = 0;
    add_grant(9, 99, 5, 1);
    w.paid[w.in.num_paid++] = 7;
    w.cancelled[w.in.num_cancelled++] = 1;
    CHECK(run_check() == 0);
}

static void test_empty(void)
{
    lb_check_input_t in = {.sku_id = 10,
                           .stock = 5,
                           .has_live_item = 1,
                           .live_item_id = 20,
                           .quota = 3,
                           .available = 3,
                           .per_buyer_limit = 1,
                           .has_observations = 1};
    /* a run that got nothing: no arrays at all */
    report_reset();
    CHECK(lb_check_run(&in, collect, &got) == 0);
    CHECK(lb_check_group_buys(NULL, 0, NULL, 0, NULL, 0, collect, &got) == 0);
}

/* ---- lb_check_group_buys --------------------------------------------------------------------------------------------- */

/*
 * Campaign 100 succeeded (min 5, joined 8 at its cut-off and now: paid 11 and 15, handed-off 14, reserved 12; 13 expired
 * unpaid after the cut-off). Campaign 200 failed (min 10, joined 3 at its cut-off): its paid join 21 is refund_required
 * by the closer's refund and no longer counts, its unpaid joins 22, 23 were cancelled (joined 0). Campaign 300 failed
 * without a join. Buyer 1 is at the limit (3) in both 100 and 200.
 * Order 31 is not a join, order 32 joins a campaign the check was not given.
 */
typedef struct st_group_world_t {
    lb_check_group_buy_t campaigns[3];
    lb_check_order_t orders[32];
    size_t num_orders, num_paid;
    int64_t paid[8];
} group_world_t;

static group_world_t g;

static void set_campaign(size_t i, int64_t id, int64_t min_qty, int64_t joined_qty, int64_t at_close, const char *status)
{
    g.campaigns[i] = (lb_check_group_buy_t){
        .id = id, .min_qty = min_qty, .joined_qty = joined_qty, .joined_qty_at_close = at_close, .per_buyer_limit = 3};
    snprintf(g.campaigns[i].status, sizeof(g.campaigns[i].status), "%s", status);
}

static void join(int64_t id, int64_t buyer_id, int64_t group_buy_id, int64_t qty, const char *status)
{
    g.orders[g.num_orders++] = make_order(id, buyer_id, 0, group_buy_id, qty, status);
}

static void group_init(void)
{
    memset(&g, 0, sizeof(g));
    set_campaign(0, 100, 5, 8, 8, "succeeded");
    set_campaign(1, 200, 10, 0, 3, "failed");
    set_campaign(2, 300, 2, 0, 0, "failed");
    join(11, 1, 100, 3, "paid");
    join(12, 2, 100, 2, "reserved");
    join(13, 3, 100, 1, "expired");
    join(14, 4, 100, 1, "handed_off");
    join(15, 5, 100, 2, "paid");
    join(21, 1, 200, 3, "refund_required");
    join(22, 2, 200, 2, "cancelled");
    join(23, 5, 200, 1, "cancelled");
    join(31, 6, 0, 1, "paid");
    join(32, 7, 999, 9, "reserved");
    static const int64_t paid[] = {11, 14, 15, 21, 31};
    memcpy(g.paid, paid, sizeof(paid));
    g.num_paid = sizeof(paid) / sizeof(paid[0]);
}

static lb_check_order_t *group_order(int64_t id)
{
    return find(g.orders, g.num_orders, id);
}

static size_t group_check(void)
{
    report_reset();
    size_t violations = lb_check_group_buys(g.campaigns, 3, g.orders, g.num_orders, g.paid, g.num_paid, collect, &got);
    CHECK(violations == got.lines);
    return violations;
}

static void group_check_only(const char *rule)
{
    size_t violations = group_check();
    CHECK(violations == 1);
    CHECK_CONTAINS(got.text, rule_line(rule));
    CHECK(lines_of(rule) == 1);
}

static void test_group_consistent(void)
{
    group_init();
    CHECK(group_check() == 0);
    /* a campaign that succeeded at exactly its min_qty */
    group_init();
    g.campaigns[0].min_qty = 8;
    CHECK(group_check() == 0);
    /* a failed campaign one unit short of its min_qty, counting the joins it cancelled */
    group_init();
    g.campaigns[1].min_qty = 7;
    CHECK(group_check() == 0);
}

static void test_group_not_closed(void)
{
    group_init();
    snprintf(g.campaigns[2].status, sizeof(g.campaigns[2].status), "open");
    group_check_only("group-buy not closed");
    CHECK_CONTAINS(got.text, "group-buy 300 is open");
    group_init();
    g.campaigns[2].status[0] = '\0';
    group_check_only("group-buy not closed");
}

static void test_group_below_min(void)
{
    group_init();
    g.campaigns[0].min_qty = 9;
    group_check_only("group-buy succeeded below min_qty");
    CHECK_CONTAINS(got.text, "group-buy 100 joined 8 of 9");
    /* decided on less than min_qty, whatever its joins count now */
    group_init();
    g.campaigns[0].joined_qty_at_close = 4;
    group_check_only("group-buy succeeded below min_qty");
    CHECK_CONTAINS(got.text, "group-buy 100 joined 4 of 5");
    /* refunds after the cut-off take joined_qty below min_qty: the campaign succeeded all the same */
    group_init();
    set_status(group_order(11), "refund_required");
    set_status(group_order(15), "refunded");
    g.campaigns[0].joined_qty = 3;
    CHECK(group_check() == 0);
}

/* Reaching min_qty exactly is success: the joins it cancelled count, the failed campaign had 6 units. */
static void test_group_failed_at_min(void)
{
    group_init();
    g.campaigns[1].min_qty = 6;
    group_check_only("group-buy failed at min_qty");
    CHECK_CONTAINS(got.text, "group-buy 200 had joins of 6 units for a min_qty of 6");
}

static void test_group_counter(void)
{
    group_init();
    g.campaigns[0].joined_qty = 7;
    group_check_only("group-buy counter");
    CHECK_CONTAINS(got.text, "group-buy 100 says joined_qty 7, its joins still counting add up to 8");
    /* a failed campaign whose counter kept the joins it cancelled */
    group_init();
    g.campaigns[1].joined_qty = 6;
    group_check_only("group-buy counter");
    /* a failed campaign whose counter kept the paid join the closer refunded: the money went back */
    group_init();
    g.campaigns[1].joined_qty = 3;
    group_check_only("group-buy counter");
    CHECK_CONTAINS(got.text, "group-buy 200 says joined_qty 3, its joins still counting add up to 0");
    /* a campaign without joins that counts some */
    group_init();
    g.campaigns[2].joined_qty = 1;
    group_check_only("group-buy counter");
}

/* Every refund leaves the counter: a join paid after the closer released it, a buyer's own refund, the closer's. */
static void test_group_counter_refunds(void)
{
    group_init();
    join(24, 8, 200, 2, "refund_required");  /* cancelled by the closer, then paid: its money goes back */
    set_status(group_order(15), "refunded"); /* its buyer asked while the campaign was open */
    g.campaigns[0].joined_qty = 6;
    CHECK(group_check() == 0);
    /* counting them is the counter's fault */
    g.campaigns[1].joined_qty = 2;
    group_check_only("group-buy counter");
    CHECK_CONTAINS(got.text, "group-buy 200 says joined_qty 2, its joins still counting add up to 0");
}

static void test_group_unpaid_not_released(void)
{
    group_init();
    set_status(group_order(22), "reserved"); /* the closer left it, and its units still count */
    g.campaigns[1].joined_qty = 2;
    group_check_only("unpaid join not released");
    CHECK_CONTAINS(got.text, "order 22 of failed group-buy 200 is reserved");
}

static void test_group_paid_not_refund_required(void)
{
    group_init();
    set_status(group_order(21), "cancelled"); /* released like an unpaid join: the payment is lost */
    g.campaigns[1].joined_qty = 0;
    group_check_only("paid join not refund_required");
    CHECK_CONTAINS(got.text, "order 21 of failed group-buy 200 is cancelled");
    /* left paid: not released either, so two lines for the one order */
    group_init();
    set_status(group_order(21), "paid");
    g.campaigns[1].joined_qty = 3;
    CHECK(group_check() == 2);
    CHECK(lines_of("paid join not refund_required") == 1 && lines_of("unpaid join not released") == 1);
}

static void test_group_join_cancelled(void)
{
    group_init();
    set_status(group_order(12), "cancelled");
    g.campaigns[0].joined_qty = 6;
    group_check_only("join cancelled");
    CHECK_CONTAINS(got.text, "order 12 of succeeded group-buy 100 was cancelled");
}

static void test_group_buyer_limit(void)
{
    group_init();
    join(33, 2, 100, 2, "reserved"); /* buyer 2: 4 units in campaign 100 (ids stay sorted) */
    g.campaigns[0].joined_qty = 10;
    group_check_only("per-buyer limit");
    CHECK_CONTAINS(got.text, "buyer 2 joined group-buy 100 with 4 units, the limit is 3");
    /* the limit is per campaign: buyer 1's 3 units in campaign 100 break a limit of 2 there, whatever campaign 200 says */
    group_init();
    g.campaigns[0].per_buyer_limit = 2;
    group_check_only("per-buyer limit");
    CHECK_CONTAINS(got.text, "buyer 1 joined group-buy 100 with 3 units");
    /* only joins that hold stock count, as on the server: a refund_required join of 3 against a limit of 2 is fine */
    group_init();
    g.campaigns[1].per_buyer_limit = 2;
    CHECK(group_check() == 0);
    /* an expired join and a new one: 2 units held against a limit of 3 (4 joined in all) */
    group_init();
    join(33, 3, 100, 2, "reserved");
    g.campaigns[0].joined_qty = 10;
    group_order(13)->qty = 2;
    CHECK(group_check() == 0);
}

/* A failed campaign's join that expired before the cut-off is released too. */
static void test_group_expired_join_of_failed(void)
{
    group_init();
    join(34, 8, 300, 1, "expired");
    CHECK(group_check() == 0);
}

/* As livebuy-load runs them: lb_check_run sorts the orders the group-buy rules then search. */
static void test_group_after_run(void)
{
    group_init();
    set_status(group_order(21), "cancelled");
    g.campaigns[1].joined_qty = 0;
    for (size_t i = 0, j = g.num_orders - 1; i < j; ++i, --j) {
        lb_check_order_t o = g.orders[i];
        g.orders[i] = g.orders[j];
        g.orders[j] = o;
    }
    lb_check_input_t in = {.sku_id = 10, .stock = 100, .orders = g.orders, .num_orders = g.num_orders};
    for (size_t i = 0; i != g.num_orders; ++i) {
        in.reserved += g.orders[i].state == LB_CHECK_RESERVED ? g.orders[i].qty : 0;
        in.sold += g.orders[i].state == LB_CHECK_SOLD ? g.orders[i].qty : 0;
    }
    report_reset();
    CHECK(lb_check_run(&in, collect, &got) == 0);
    CHECK(g.orders[0].id == 11);
    group_check_only("paid join not refund_required");
}


/* ---- lb_check_refunds ------------------------------------------------------------------------------------------------ */

/*
 * Orders 41 (paid, then refunded at once: refunded), 42 (refund_required, its refund pending), 43 (handed_off, its
 * refund requested), 44 (late payment: refund_required, refund late_payment sent), 45 (paid, no refund), 46 (a failed
 * campaign's join: refund_required, campaign_failed pending). Each order cost 100 per unit. The run paid 41-46 and asked
 * refunds of 41, 42, 43.
 */
typedef struct st_refund_world_t {
    lb_check_order_t orders[8];
    lb_check_refund_t refunds[8];
    size_t num_orders, num_refunds;
    int64_t asked[4], pay_sent[8];
    lb_check_refunds_input_t in;
} refund_world_t;

static refund_world_t rw;

static void refund_order(int64_t id, int64_t group_buy_id, const char *status)
{
    lb_check_order_t *o = &rw.orders[rw.num_orders++];
    *o = make_order(id, id - 40, 0, group_buy_id, 2, status);
    o->amount_cents = 200;
}

static void add_refund(int64_t id, int64_t order_id, const char *cause, const char *status)
{
    lb_check_refund_t *r = &rw.refunds[rw.num_refunds++];
    *r = (lb_check_refund_t){.id = id, .order_id = order_id, .amount_cents = 200};
    snprintf(r->cause, sizeof(r->cause), "%s", cause);
    snprintf(r->status, sizeof(r->status), "%s", status);
}

static void refund_init(void)
{
    memset(&rw, 0, sizeof(rw));
    refund_order(41, 0, "refunded");
    refund_order(42, 0, "refund_required");
    refund_order(43, 0, "handed_off");
    refund_order(44, 0, "refund_required");
    refund_order(45, 0, "paid");
    refund_order(46, 100, "refund_required");
    add_refund(1, 41, "buyer", "refunded");
    add_refund(2, 42, "buyer", "pending");
    add_refund(3, 43, "buyer", "requested");
    add_refund(4, 44, "late_payment", "sent");
    add_refund(5, 46, "campaign_failed", "pending");
    static const int64_t asked[] = {41, 42, 43}, pay_sent[] = {41, 42, 43, 44, 45, 46};
    memcpy(rw.asked, asked, sizeof(asked));
    memcpy(rw.pay_sent, pay_sent, sizeof(pay_sent));
    rw.in = (lb_check_refunds_input_t){.refunds = rw.refunds,
                                       .num_refunds = 5,
                                       .orders = rw.orders,
                                       .num_orders = rw.num_orders,
                                       .has_observations = 1,
                                       .asked = rw.asked,
                                       .num_asked = 3,
                                       .pay_sent = rw.pay_sent,
                                       .num_pay_sent = 6};
}

static size_t refund_check(void)
{
    rw.in.num_refunds = rw.num_refunds;
    report_reset();
    size_t violations = lb_check_refunds(&rw.in, collect, &got);
    CHECK(violations == got.lines);
    return violations;
}

static void refund_check_only(const char *rule)
{
    size_t violations = refund_check();
    CHECK(violations == 1);
    CHECK_CONTAINS(got.text, rule_line(rule));
}

static void test_refund_consistent(void)
{
    refund_init();
    CHECK(refund_check() == 0);
    /* a rejected request leaves the order as it was; a failed or dead refund leaves it refund_required */
    snprintf(rw.refunds[2].status, sizeof(rw.refunds[2].status), "rejected");
    snprintf(rw.refunds[1].status, sizeof(rw.refunds[1].status), "dead");
    CHECK(refund_check() == 0);
    /* without observations (livebuy-load check) nothing is known of payments and requests */
    refund_init();
    rw.in.has_observations = 0;
    rw.in.asked = rw.in.pay_sent = NULL;
    CHECK(refund_check() == 0);
    /* nothing at all */
    lb_check_refunds_input_t empty = {0};
    report_reset();
    CHECK(lb_check_refunds(&empty, collect, &got) == 0);
}

static void test_refund_lost(void)
{
    refund_init();
    --rw.num_refunds; /* the failed campaign's join lost its refund */
    refund_check_only("refund lost");
    CHECK_CONTAINS(got.text, "order 46 is refund_required");
    refund_init();
    rw.refunds[0] = rw.refunds[4]; /* order 41 refunded without a refund */
    --rw.num_refunds;
    refund_check();
    CHECK(lines_of("refund lost") == 2); /* its status, and the request answered 200 */
    /* a paid_twice refund is no refund of the order's own money */
    refund_init();
    snprintf(rw.refunds[1].cause, sizeof(rw.refunds[1].cause), "paid_twice");
    rw.in.has_observations = 0;
    refund_check_only("refund lost");
}

static void test_refunded_twice(void)
{
    refund_init();
    add_refund(6, 42, "late_payment", "pending");
    refund_check_only("refunded twice");
    CHECK_CONTAINS(got.text, "refunds 2 and 6");
    refund_init();
    add_refund(6, 45, "paid_twice", "pending");
    refund_check_only("refunded twice");
    CHECK_CONTAINS(got.text, "paid once");
    /* without observations a second payment may have been: a paid_twice refund beside the order's own is fine */
    rw.in.has_observations = 0;
    CHECK(refund_check() == 0);
    /* money never paid */
    refund_init();
    rw.in.num_pay_sent = 5; /* no payment was sent for 46 */
    refund_check_only("refunded twice");
    CHECK_CONTAINS(got.text, "never paid");
}

static void test_refund_amount(void)
{
    refund_init();
    rw.refunds[3].amount_cents = 400;
    refund_check_only("refund amount");
}

static void test_refund_not_applied(void)
{
    refund_init();
    set_status(&rw.orders[0], "refund_required"); /* refund refunded, order not */
    rw.orders[0].amount_cents = 200;
    refund_check_only("refund not applied");
    refund_init();
    set_status(&rw.orders[1], "paid"); /* refund pending, order still paid */
    rw.orders[1].amount_cents = 200;
    refund_check();
    CHECK(lines_of("refund not applied") == 1);
    refund_init();
    set_status(&rw.orders[2], "refund_required"); /* request only, order moved: and no own refund applies */
    rw.orders[2].amount_cents = 200;
    refund_check();
    CHECK(lines_of("refund not applied") == 1);
}

int main(void)
{
    test_state_of();
    test_consistent();
    test_at_the_limits();
    test_unsorted();
    test_order_listing();
    test_oversold();
    test_counters_exceed_stock();
    test_reserved_counter();
    test_sold_counter();
    test_over_quota();
    test_live_item_counter();
    test_no_live_item();
    test_live_buyer_limit();
    test_live_buyer_limit_capped();
    test_one_order_per_key();
    test_one_key_per_order();
    test_lost_order();
    test_order_mismatch();
    test_unannounced();
    test_paid_not_paid();
    test_cancelled_not_cancelled();
    test_no_observations();
    test_empty();
    test_group_consistent();
    test_group_not_closed();
    test_group_below_min();
    test_group_failed_at_min();
    test_group_counter();
    test_group_counter_refunds();
    test_group_unpaid_not_released();
    test_group_paid_not_refund_required();
    test_group_join_cancelled();
    test_group_buyer_limit();
    test_group_expired_join_of_failed();
    test_group_after_run();
    test_refund_consistent();
    test_refund_lost();
    test_refunded_twice();
    test_refund_amount();
    test_refund_not_applied();
    return CHECK_RESULT("check");
}
