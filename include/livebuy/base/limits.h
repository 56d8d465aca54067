/* The bounds of input values, shared by every handler that reads them. */
#ifndef LIVEBUY_LIMITS_H
#define LIVEBUY_LIMITS_H

#define LB_TIME_MAX      4102444800LL  /* 2100-01-01, for Unix-second fields */
#define LB_PRICE_MAX     10000000000LL /* cents: 100 million yuan */
#define LB_QUANTITY_MAX  1000000000LL  /* stock, quota, minimum quantity */
#define LB_PER_BUYER_MAX 10000         /* per-buyer limits */
#define LB_WEIGHT_MAX    100000000LL   /* grams: 100 tonnes */

/* The longest Idempotency-Key, of an order or a product (order_keys.idem_key, products.idem_key: VARBINARY(64)). */
#define LB_IDEMPOTENCY_KEY_MAX 64

#endif
