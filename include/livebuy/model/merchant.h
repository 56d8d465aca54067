/*
 * Merchants: the co-ops that list produce, the hosts that sell it live, the shippers that carry it, and the village
 * stations that hand it out.
 */
#ifndef LIVEBUY_MODEL_MERCHANT_H
#define LIVEBUY_MODEL_MERCHANT_H

#include <stdint.h>

typedef enum en_lb_merchant_kind_t {
    LB_MERCHANT_COOP,
    LB_MERCHANT_HOST,
    LB_MERCHANT_SHIPPER,
    LB_MERCHANT_STATION
} lb_merchant_kind_t;
/* The kinds' names as the API and the schema spell them, NULL-terminated. */
extern const char *const lb_merchant_kinds[];

typedef struct st_lb_merchant_t {
    int64_t id;
    lb_merchant_kind_t kind;
} lb_merchant_t;

#endif
