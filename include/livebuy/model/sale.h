/*
 * Sales: what live items sold, and how the money splits between the host (its commission, from the offer the item went
 * on air under) and the co-op (the rest). One money rule for orders, items, totals and hosts (docs/api.md, "Sales"),
 * so that they add up exactly. Pure: server/model/sale.c, tests/unit/test_sale.c.
 */
#ifndef LIVEBUY_MODEL_SALE_H
#define LIVEBUY_MODEL_SALE_H

#include <stdint.h>
#include "livebuy/model/live.h"
#include "livebuy/model/text.h"

#define LB_COMMISSION_BP_MAX 10000 /* basis points: 10000 is the whole price */

/* The money of some units sold at one price. Amounts past INT64_MAX cents stay at INT64_MAX (never reached in practice:
 * 92 trillion yuan). */
typedef struct st_lb_sale_money_t {
    int64_t amount_cents;     /* units * price_cents: an order's amount, an item's revenue */
    int64_t commission_cents; /* units * floor(price_cents * commission_bp / 10000): the host's */
    int64_t coop_share_cents; /* amount - commission: the co-op's */
} lb_sale_money_t;

/* The money rule: units (>= 0) at price_cents (>= 0) under commission_bp (0..LB_COMMISSION_BP_MAX; 0 without an offer). */
lb_sale_money_t lb_sale_money(int64_t units, int64_t price_cents, int64_t commission_bp);

/* Units reserved and sold through some live items, and the money of the sold ones (a sum of lb_sale_money). */
typedef struct st_lb_sales_t {
    int64_t reserved, sold;
    lb_sale_money_t money;
} lb_sales_t;

/* Adds one live item's counters and the money of its sold units (lb_sale_money of sold at its price) to *sales. */
void lb_sales_add(lb_sales_t *sales, int64_t reserved, int64_t sold, int64_t price_cents, int64_t commission_bp);

/* A live item as its sales listing shows it: its counters, its live and host, the commission it sells under. */
typedef struct st_lb_sale_item_t {
    lb_hold_t hold;
    int64_t commission_bp; /* its offer's; 0 without one (a host's own SKU) */
    int64_t closed;        /* 1 once off air */
} lb_sale_item_t;

/* One host's part of a sales listing's sums. */
typedef struct st_lb_host_sales_t {
    int64_t host_id;
    char host_name[LB_TEXT_SIZE(200)];
    lb_sales_t sales;
} lb_host_sales_t;

#endif
