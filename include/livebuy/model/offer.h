/*
 * Offers: a co-op's agreement that one host may put one of its SKUs on air (sql/012_offers.sql), and the rules an item
 * created under one must keep. The rules are pure (no I/O, the clock passed in): server/model/offer.c.
 */
#ifndef LIVEBUY_MODEL_OFFER_H
#define LIVEBUY_MODEL_OFFER_H

#include <stddef.h>
#include <stdint.h>
#include "livebuy/model/text.h"

typedef enum en_lb_offer_status_t { LB_OFFER_PENDING, LB_OFFER_ACCEPTED, LB_OFFER_DECLINED, LB_OFFER_ENDED } lb_offer_status_t;
/* The statuses' names as the API and the schema spell them, NULL-terminated. */
extern const char *const lb_offer_statuses[];

/* The two parties of an offer; NOBODY for an offer nobody declined or ended. */
typedef enum en_lb_offer_party_t { LB_OFFER_NOBODY, LB_OFFER_COOP, LB_OFFER_HOST } lb_offer_party_t;
/* The parties' names ("coop", "host"), by lb_offer_party_t; [LB_OFFER_NOBODY] is NULL. */
extern const char *const lb_offer_parties[];

typedef struct st_lb_offer_t {
    int64_t id, sku_id, coop_id, host_id;
    int64_t max_quota, placed; /* placed: units on air under the offer (item quotas less what closing gave back) */
    int64_t min_price_cents, commission_bp, starts_at, ends_at, created_at;
    lb_offer_status_t status;
    lb_offer_party_t ended_by; /* who declined or ended it */
    /* Read only, for answers: the product's title and the SKU's name, and the parties' names. */
    char title[LB_TEXT_SIZE(401)], coop_name[LB_TEXT_SIZE(200)], host_name[LB_TEXT_SIZE(200)];
} lb_offer_t;

/* Units the offer can still put on air. */
#define LB_OFFER_LEFT(offer) ((offer)->max_quota - (offer)->placed)

/* Accepted, and now within [starts_at, ends_at). */
int lb_offer_is_current(const lb_offer_t *offer, int64_t now);

/* Which rule an item (of sku_id, with quota and price_cents, created at now) breaks under an offer, the first that it
 * breaks in this order; LB_OFFER_USABLE when it breaks none. */
typedef enum en_lb_offer_rule_t {
    LB_OFFER_USABLE,
    LB_OFFER_NONE,         /* no offer at all (offer NULL) */
    LB_OFFER_UNKNOWN,      /* the offer named is not one to this host (never from lb_offer_check: the store decides it) */
    LB_OFFER_OTHER_SKU,    /* the offer is of another SKU */
    LB_OFFER_NOT_ACCEPTED, /* pending, declined or ended */
    LB_OFFER_NOT_CURRENT,  /* accepted, but now is before starts_at or at or after ends_at */
    LB_OFFER_EXCEEDED,     /* quota > what the offer has left */
    LB_OFFER_BELOW_FLOOR,  /* price_cents < min_price_cents */
} lb_offer_rule_t;
lb_offer_rule_t lb_offer_check(const lb_offer_t *offer, int64_t sku_id, int64_t now, int64_t quota, int64_t price_cents);

/*
 * The API message of a broken rule, into buf (snprintf's truncation): it names the rule and the offer, e.g. "offer 7 is
 * pending: the host has not accepted it". host_id is whose offers were looked for (the message of LB_OFFER_NONE).
 */
void lb_offer_explain(char *buf, size_t size, lb_offer_rule_t rule, const lb_offer_t *offer, int64_t sku_id, int64_t host_id,
                      int64_t quota, int64_t price_cents);

/* What a party does to an offer. */
typedef enum en_lb_offer_action_t { LB_OFFER_ACCEPT, LB_OFFER_DECLINE, LB_OFFER_END } lb_offer_action_t;
/* The actions' names as the routes spell them, by lb_offer_action_t. */
extern const char *const lb_offer_actions[];

/*
 * The offer's state machine: applies action, done by party `by` at now, to *offer (status and ended_by). Only the host
 * accepts or declines, and only a pending offer (not after its ends_at, for accept); either party ends a pending or
 * accepted offer. 0 when *offer changed; LB_EFORBIDDEN when `by` may not do that at all; LB_ECONFLICT when the offer's
 * state forbids it now (*offer unchanged then).
 */
int lb_offer_move(lb_offer_t *offer, lb_offer_action_t action, lb_offer_party_t by, int64_t now);

#endif
