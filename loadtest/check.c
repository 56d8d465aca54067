/* The rules of lb_check_run, one function each; the rule names are what a failing run prints. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "check.h"

typedef struct st_checker_t {
    lb_check_input_t *in;
    lb_check_report_cb report;
    void *ctx;
    size_t violations;
} checker_t;

static void violation(checker_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violation(checker_t *c, const char *fmt, ...)
{
    char line[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    ++c->violations;
    c->report(c->ctx, line);
}

int lb_check_state_of(const char *status)
{
    static const char *const reserved[] = {"reserved", NULL}, *const sold[] = {"paid", "handed_off", "shipped", "delivered", NULL},
                             *const released[] = {"expired", "cancelled", "refund_required", "refunded", NULL};
    static const char *const *const states[] = {reserved, sold, released};
    for (size_t s = 0; s != sizeof(states) / sizeof(states[0]); ++s)
        for (const char *const *name = states[s]; *name != NULL; ++name)
            if (strcmp(status, *name) == 0)
                return (int)s;
    return -1;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const lb_check_order_t *)a)->id, y = ((const lb_check_order_t *)b)->id;
    return x < y ? -1 : x > y;
}

static int by_buyer(const void *a, const void *b)
{
    int64_t x = ((const lb_check_order_t *)a)->buyer_id, y = ((const lb_check_order_t *)b)->buyer_id;
    return x < y ? -1 : x > y;
}

static int grant_by_key(const void *a, const void *b)
{
    const lb_check_grant_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order_id < y->order_id ? -1 : x->order_id > y->order_id;
}

static lb_check_order_t *find_order(checker_t *c, int64_t id)
{
    lb_check_order_t key = {.id = id};
    return bsearch(&key, c->in->orders, c->in->num_orders, sizeof(key), by_id);
}

/* Counters: the SKU's reserved and sold are the sums of its orders, and nothing is promised beyond the stock. */
static void check_counters(checker_t *c)
{
    lb_check_input_t *in = c->in;
    int64_t reserved = 0, sold = 0, live_taken = 0;
    for (size_t i = 0; i != in->num_orders; ++i) {
        const lb_check_order_t *o = &in->orders[i];
        if (o->sku_id != in->sku_id || o->state == LB_CHECK_RELEASED)
            continue;
        *(o->state == LB_CHECK_RESERVED ? &reserved : &sold) += o->qty;
        if (in->has_live_item && o->live_item_id == in->live_item_id)
            live_taken += o->qty;
    }
    if (reserved + sold > in->stock)
        violation(c, "oversold: SKU %lld granted %lld units (reserved %lld + sold %lld) with a stock of %lld",
                  (long long)in->sku_id, (long long)(reserved + sold), (long long)reserved, (long long)sold, (long long)in->stock);
    if (in->reserved + in->sold + in->held > in->stock)
        violation(c, "counters exceed stock: SKU %lld reserved %lld + sold %lld + held %lld > stock %lld", (long long)in->sku_id,
                  (long long)in->reserved, (long long)in->sold, (long long)in->held, (long long)in->stock);
    if (in->reserved != reserved)
        violation(c, "reserved counter: SKU %lld says reserved %lld, its reserved orders add up to %lld", (long long)in->sku_id,
                  (long long)in->reserved, (long long)reserved);
    if (in->sold != sold)
        violation(c, "sold counter: SKU %lld says sold %lld, its paid orders add up to %lld", (long long)in->sku_id,
                  (long long)in->sold, (long long)sold);
    if (!in->has_live_item)
        return;
    if (live_taken > in->quota)
        violation(c, "over quota: live item %lld granted %lld units with a quota of %lld", (long long)in->live_item_id,
                  (long long)live_taken, (long long)in->quota);
    if (in->quota - in->available != live_taken)
        violation(c, "live item counter: live item %lld shows %lld of %lld available, its orders hold %lld",
                  (long long)in->live_item_id, (long long)in->available, (long long)in->quota, (long long)live_taken);
}

/* No buyer holds more of the live item than its per-buyer limit. */
static void check_buyer_limits(checker_t *c)
{
    lb_check_input_t *in = c->in;
    if (!in->has_live_item)
        return;
    lb_check_order_t *live = lb_malloc((in->num_orders + 1) * sizeof(*live));
    size_t n = 0, reported = 0;
    for (size_t i = 0; i != in->num_orders; ++i)
        if (in->orders[i].live_item_id == in->live_item_id && in->orders[i].state != LB_CHECK_RELEASED)
            live[n++] = in->orders[i];
    if (n > 1)
        qsort(live, n, sizeof(*live), by_buyer);
    for (size_t i = 0; i != n;) {
        int64_t sum = 0;
        size_t j = i;
        for (; j != n && live[j].buyer_id == live[i].buyer_id; ++j)
            sum += live[j].qty;
        if (sum > in->per_buyer_limit && reported++ < 10)
            violation(c, "per-buyer limit: buyer %lld holds %lld units of live item %lld, the limit is %lld",
                      (long long)live[i].buyer_id, (long long)sum, (long long)in->live_item_id, (long long)in->per_buyer_limit);
        i = j;
    }
    free(live);
}

static int by_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* One order per idempotency key (and one key per order); every 201 names an order that exists, for that buyer and quantity. */
static void check_grants(checker_t *c)
{
    lb_check_input_t *in = c->in;
    size_t reported = 0, known = 0;
    int64_t *named = lb_malloc((in->num_grants + 1) * sizeof(*named)); /* the orders the 201s named, one per key */
    if (in->num_grants > 1)
        qsort(in->grants, in->num_grants, sizeof(*in->grants), grant_by_key);
    for (size_t i = 0; i != in->num_grants; ++i) {
        const lb_check_grant_t *g = &in->grants[i];
        if (i != 0 && g->key == in->grants[i - 1].key) {
            if (g->order_id != in->grants[i - 1].order_id && reported++ < 10)
                violation(c, "one order per idempotency key: key #%llu was answered 201 with orders %lld and %lld",
                          (unsigned long long)g->key, (long long)in->grants[i - 1].order_id, (long long)g->order_id);
            continue;
        }
        const lb_check_order_t *o = find_order(c, g->order_id);
        if (o == NULL) {
            if (reported++ < 10)
                violation(c, "lost order: order %lld (201 for key #%llu) is not in the merchant's orders", (long long)g->order_id,
                          (unsigned long long)g->key);
        } else if (o->buyer_id != g->buyer_id || o->qty != g->qty) {
            if (reported++ < 10)
                violation(c, "order mismatch: order %lld is buyer %lld qty %lld, the 201 was for buyer %lld qty %lld",
                          (long long)o->id, (long long)o->buyer_id, (long long)o->qty, (long long)g->buyer_id, (long long)g->qty);
        } else {
            named[known++] = o->id;
        }
    }
    /* Two keys are two orders: an order named by the 201s of two keys was given twice. */
    if (known > 1)
        qsort(named, known, sizeof(*named), by_int64);
    size_t distinct = 0;
    for (size_t i = 0; i != known; ++i) {
        if (i != 0 && named[i] == named[i - 1]) {
            if (reported++ < 10)
                violation(c, "one order per idempotency key: order %lld was answered 201 for two keys", (long long)named[i]);
            continue;
        }
        ++distinct;
    }
    free(named);
    /* Orders nobody was told about can only come from requests whose answer never arrived. */
    size_t unnamed = in->num_orders > distinct ? in->num_orders - distinct : 0;
    if (unnamed > in->unanswered)
        violation(c, "unannounced orders: %zu orders exist that no 201 named, but only %llu order requests went unanswered",
                  unnamed, (unsigned long long)in->unanswered);
}

/* What the generator was told about payments and cancellations is what the orders show. */
static void check_transitions(checker_t *c, const int64_t *ids, size_t n, lb_check_state_t want, const char *what)
{
    size_t reported = 0;
    for (size_t i = 0; i != n; ++i) {
        const lb_check_order_t *o = find_order(c, ids[i]);
        if ((o == NULL || o->state != want) && reported++ < 10)
            violation(c, "%s order not %s: order %lld %s", what, what, (long long)ids[i],
                      o == NULL ? "is missing" : "has another status");
    }
}

size_t lb_check_run(lb_check_input_t *in, lb_check_report_cb report, void *ctx)
{
    checker_t c = {in, report, ctx, 0};
    if (in->num_orders > 1) /* (a run that got nothing has NULL arrays) */
        qsort(in->orders, in->num_orders, sizeof(*in->orders), by_id);
    for (size_t i = 1; i < in->num_orders; ++i)
        if (in->orders[i].id == in->orders[i - 1].id)
            violation(&c, "order listing: order %lld listed twice", (long long)in->orders[i].id);
    check_counters(&c);
    check_buyer_limits(&c);
    if (in->has_observations) {
        check_grants(&c);
        check_transitions(&c, in->paid, in->num_paid, LB_CHECK_SOLD, "paid");
        check_transitions(&c, in->cancelled, in->num_cancelled, LB_CHECK_RELEASED, "cancelled");
    }
    return c.violations;
}

static int by_campaign_buyer(const void *a, const void *b)
{
    const lb_check_order_t *x = a, *y = b;
    if (x->group_buy_id != y->group_buy_id)
        return x->group_buy_id < y->group_buy_id ? -1 : 1;
    return x->buyer_id < y->buyer_id ? -1 : x->buyer_id > y->buyer_id;
}

static const lb_check_group_buy_t *find_campaign(const lb_check_group_buy_t *campaigns, size_t n, int64_t id)
{
    for (size_t i = 0; i != n; ++i)
        if (campaigns[i].id == id)
            return &campaigns[i];
    return NULL;
}

/* Whether a join still counts in its campaign's joined_qty: reserved or paid, not released and its money not going back. */
static int join_counts(const lb_check_order_t *o)
{
    return strcmp(o->status, "cancelled") != 0 && strcmp(o->status, "expired") != 0 && strcmp(o->status, "refund_required") != 0 &&
           strcmp(o->status, "refunded") != 0;
}

size_t lb_check_group_buys(const lb_check_group_buy_t *campaigns, size_t num_campaigns, const lb_check_order_t *orders,
                           size_t num_orders, const int64_t *paid, size_t num_paid, lb_check_report_cb report, void *ctx)
{
    checker_t c = {NULL, report, ctx, 0};
    lb_check_input_t in = {.orders = (lb_check_order_t *)orders, .num_orders = num_orders};
    c.in = &in;
    size_t reported = 0;
    int64_t *counting = lb_calloc(num_campaigns + 1, sizeof(*counting)), *all = lb_calloc(num_campaigns + 1, sizeof(*all));
    lb_check_order_t *joins = lb_malloc((num_orders + 1) * sizeof(*joins));
    size_t num_joins = 0;
    for (size_t i = 0; i != num_orders; ++i) {
        const lb_check_order_t *o = &orders[i];
        const lb_check_group_buy_t *gb = o->group_buy_id != 0 ? find_campaign(campaigns, num_campaigns, o->group_buy_id) : NULL;
        if (gb == NULL)
            continue;
        size_t k = (size_t)(gb - campaigns);
        if (o->state != LB_CHECK_RELEASED) /* the per-buyer limit counts what a buyer holds, as the server does */
            joins[num_joins++] = *o;
        all[k] += o->qty;
        if (join_counts(o))
            counting[k] += o->qty;
        /* a failed campaign's unpaid joins are released (cancelled by the closer, or expired before its cut-off) */
        if (strcmp(gb->status, "failed") == 0 && strcmp(o->status, "cancelled") != 0 && strcmp(o->status, "expired") != 0 &&
            strcmp(o->status, "refund_required") != 0 && strcmp(o->status, "refunded") != 0 && reported++ < 10)
            violation(&c, "unpaid join not released: order %lld of failed group-buy %lld is %s", (long long)o->id,
                      (long long)gb->id, o->status);
        if (strcmp(gb->status, "succeeded") == 0 && strcmp(o->status, "cancelled") == 0 && reported++ < 10)
            violation(&c, "join cancelled: order %lld of succeeded group-buy %lld was cancelled", (long long)o->id,
                      (long long)gb->id);
    }
    for (size_t k = 0; k != num_campaigns; ++k) {
        const lb_check_group_buy_t *gb = &campaigns[k];
        if (strcmp(gb->status, "succeeded") != 0 && strcmp(gb->status, "failed") != 0)
            violation(&c, "group-buy not closed: group-buy %lld is %s after its cut-off", (long long)gb->id, gb->status);
        else if (strcmp(gb->status, "succeeded") == 0 && gb->joined_qty_at_close < gb->min_qty)
            violation(&c, "group-buy succeeded below min_qty: group-buy %lld joined %lld of %lld", (long long)gb->id,
                      (long long)gb->joined_qty_at_close, (long long)gb->min_qty);
        else if (strcmp(gb->status, "failed") == 0 && all[k] >= gb->min_qty)
            violation(&c, "group-buy failed at min_qty: group-buy %lld had joins of %lld units for a min_qty of %lld",
                      (long long)gb->id, (long long)all[k], (long long)gb->min_qty);
        if (gb->joined_qty != counting[k])
            violation(&c, "group-buy counter: group-buy %lld says joined_qty %lld, its joins still counting add up to %lld",
                      (long long)gb->id, (long long)gb->joined_qty, (long long)counting[k]);
    }
    for (size_t i = 0; i != num_paid; ++i) {
        lb_check_order_t key = {.id = paid[i]};
        const lb_check_order_t *o = num_orders != 0 ? bsearch(&key, orders, num_orders, sizeof(key), by_id) : NULL;
        const lb_check_group_buy_t *gb = o != NULL ? find_campaign(campaigns, num_campaigns, o->group_buy_id) : NULL;
        if (gb != NULL && strcmp(gb->status, "failed") == 0 && strcmp(o->status, "refund_required") != 0 && reported++ < 10)
            violation(&c, "paid join not refund_required: order %lld of failed group-buy %lld is %s", (long long)o->id,
                      (long long)gb->id, o->status);
    }
    if (num_joins > 1)
        qsort(joins, num_joins, sizeof(*joins), by_campaign_buyer);
    for (size_t i = 0; i != num_joins;) {
        int64_t sum = 0;
        size_t j = i;
        for (; j != num_joins && joins[j].group_buy_id == joins[i].group_buy_id && joins[j].buyer_id == joins[i].buyer_id; ++j)
            sum += joins[j].qty;
        const lb_check_group_buy_t *gb = find_campaign(campaigns, num_campaigns, joins[i].group_buy_id);
        if (sum > gb->per_buyer_limit && reported++ < 10)
            violation(&c, "per-buyer limit: buyer %lld joined group-buy %lld with %lld units, the limit is %lld",
                      (long long)joins[i].buyer_id, (long long)gb->id, (long long)sum, (long long)gb->per_buyer_limit);
        i = j;
    }
    free(joins);
    free(counting);
    free(all);
    return c.violations;
}

/* ---- Refunds ------------------------------------------------------------------------------------------------------ */

static int refund_by_order(const void *a, const void *b)
{
    const lb_check_refund_t *x = a, *y = b;
    if (x->order_id != y->order_id)
        return x->order_id < y->order_id ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int contains(const int64_t *sorted, size_t n, int64_t id)
{
    return n != 0 && bsearch(&id, sorted, n, sizeof(*sorted), by_int64) != NULL;
}

/* A sorted copy of ids[0..n) (malloc'd). */
static int64_t *sorted_ids(const int64_t *ids, size_t n)
{
    int64_t *copy = lb_malloc((n + 1) * sizeof(*copy));
    if (n != 0)
        memcpy(copy, ids, n * sizeof(*copy));
    if (n > 1)
        qsort(copy, n, sizeof(*copy), by_int64);
    return copy;
}

/* Whether a refund of an order's own payment in this status has moved its order (decided: pending and on). */
static int own_refund_applies(const char *status)
{
    return strcmp(status, "requested") != 0 && strcmp(status, "rejected") != 0;
}

/* The rules on one order's refunds (refunds[0..n), all of order o, which may be NULL when not listed). */
static void check_order_refunds(checker_t *c, const lb_check_refunds_input_t *in, const lb_check_order_t *o,
                                const lb_check_refund_t *refunds, size_t n, const int64_t *pay_sent, size_t *reported)
{
    const lb_check_refund_t *own = NULL;
    int64_t order_id = refunds[0].order_id;
    for (size_t i = 0; i != n; ++i) {
        const lb_check_refund_t *r = &refunds[i];
        if (in->has_observations && !contains(pay_sent, in->num_pay_sent, order_id) && (*reported)++ < 10)
            violation(c, "refunded twice: refund %lld gives back money never paid (no payment was sent for order %lld)",
                      (long long)r->id, (long long)order_id);
        if (strcmp(r->cause, "paid_twice") == 0) {
            if (in->has_observations && (*reported)++ < 10)
                violation(c, "refunded twice: refund %lld (paid_twice) of order %lld, which was paid once", (long long)r->id,
                          (long long)order_id);
            continue;
        }
        if (own != NULL) {
            if ((*reported)++ < 10)
                violation(c, "refunded twice: order %lld's payment has refunds %lld and %lld", (long long)order_id,
                          (long long)own->id, (long long)r->id);
            continue;
        }
        own = r;
    }
    if (own == NULL || o == NULL)
        return;
    if (own->amount_cents != o->amount_cents && (*reported)++ < 10)
        violation(c, "refund amount: refund %lld gives back %lld, order %lld was %lld", (long long)own->id,
                  (long long)own->amount_cents, (long long)o->id, (long long)o->amount_cents);
    const char *want = !own_refund_applies(own->status)          ? NULL
                       : strcmp(own->status, "refunded") == 0 ? "refunded"
                                                              : "refund_required";
    int applied = want != NULL ? strcmp(o->status, want) == 0 || (strcmp(want, "refund_required") == 0 && strcmp(o->status, "refunded") == 0)
                               : o->state == LB_CHECK_SOLD;
    if (!applied && (*reported)++ < 10)
        violation(c, "refund not applied: order %lld is %s with its refund %lld %s", (long long)o->id, o->status,
                  (long long)own->id, own->status);
}

size_t lb_check_refunds(const lb_check_refunds_input_t *in, lb_check_report_cb report, void *ctx)
{
    lb_check_input_t orders_only = {.orders = (lb_check_order_t *)in->orders, .num_orders = in->num_orders};
    checker_t c = {&orders_only, report, ctx, 0};
    size_t reported = 0, n = in->num_refunds;
    lb_check_refund_t *refunds = lb_malloc((n + 1) * sizeof(*refunds));
    if (n != 0)
        memcpy(refunds, in->refunds, n * sizeof(*refunds));
    if (n > 1)
        qsort(refunds, n, sizeof(*refunds), refund_by_order);
    int64_t *pay_sent = sorted_ids(in->pay_sent, in->has_observations ? in->num_pay_sent : 0);
    int64_t *refunded = lb_malloc((n + 1) * sizeof(*refunded)); /* orders with a refund of their own payment */
    size_t num_refunded = 0;
    for (size_t i = 0; i != n;) {
        size_t j = i;
        while (j != n && refunds[j].order_id == refunds[i].order_id)
            ++j;
        const lb_check_order_t *o = in->num_orders != 0 ? find_order(&c, refunds[i].order_id) : NULL;
        check_order_refunds(&c, in, o, refunds + i, j - i, pay_sent, &reported);
        for (size_t k = i; k != j; ++k)
            if (strcmp(refunds[k].cause, "paid_twice") != 0) {
                refunded[num_refunded++] = refunds[i].order_id;
                break;
            }
        i = j;
    }
    for (size_t i = 0; i != in->num_orders; ++i) {
        const lb_check_order_t *o = &in->orders[i];
        int must = strcmp(o->status, "refund_required") == 0 || strcmp(o->status, "refunded") == 0;
        if (must && !contains(refunded, num_refunded, o->id) && reported++ < 10)
            violation(&c, "refund lost: order %lld is %s and has no refund", (long long)o->id, o->status);
    }
    for (size_t i = 0; in->has_observations && i != in->num_asked; ++i)
        if (!contains(refunded, num_refunded, in->asked[i]) && reported++ < 10)
            violation(&c, "refund lost: order %lld's refund request was answered 200, the order has no refund",
                      (long long)in->asked[i]);
    free(refunded);
    free(pay_sent);
    free(refunds);
    return c.violations;
}
