/* The rules of offers (include/livebuy/model/offer.h): which rule an item breaks, its message, the state machine. Pure. */
#include <stdio.h>
#include "livebuy/common.h"
#include "livebuy/model/offer.h"

const char *const lb_offer_statuses[] = {"pending", "accepted", "declined", "ended", NULL};
const char *const lb_offer_parties[] = {NULL, "coop", "host"};
const char *const lb_offer_actions[] = {"accept", "decline", "end"};

int lb_offer_is_current(const lb_offer_t *offer, int64_t now)
{
    return offer->status == LB_OFFER_ACCEPTED && offer->starts_at <= now && now < offer->ends_at;
}

lb_offer_rule_t lb_offer_check(const lb_offer_t *offer, int64_t sku_id, int64_t now, int64_t quota, int64_t price_cents)
{
    if (offer == NULL)
        return LB_OFFER_NONE;
    if (offer->sku_id != sku_id)
        return LB_OFFER_OTHER_SKU;
    if (offer->status != LB_OFFER_ACCEPTED)
        return LB_OFFER_NOT_ACCEPTED;
    if (!lb_offer_is_current(offer, now))
        return LB_OFFER_NOT_CURRENT;
    if (quota > LB_OFFER_LEFT(offer))
        return LB_OFFER_EXCEEDED;
    if (price_cents < offer->min_price_cents)
        return LB_OFFER_BELOW_FLOOR;
    return LB_OFFER_USABLE;
}

void lb_offer_explain(char *buf, size_t size, lb_offer_rule_t rule, const lb_offer_t *offer, int64_t sku_id, int64_t host_id,
                      int64_t quota, int64_t price_cents)
{
    long long id = offer != NULL ? (long long)offer->id : 0;
    switch (rule) {
    case LB_OFFER_USABLE:
        snprintf(buf, size, "offer %lld allows it", id);
        break;
    case LB_OFFER_NONE:
        snprintf(buf, size, "no offer of SKU %lld to host %lld", (long long)sku_id, (long long)host_id);
        break;
    case LB_OFFER_UNKNOWN:
        snprintf(buf, size, "no offer %lld to host %lld", id, (long long)host_id);
        break;
    case LB_OFFER_OTHER_SKU:
        snprintf(buf, size, "offer %lld is of SKU %lld, not SKU %lld", id, (long long)offer->sku_id, (long long)sku_id);
        break;
    case LB_OFFER_NOT_ACCEPTED:
        if (offer->status == LB_OFFER_PENDING)
            snprintf(buf, size, "offer %lld is pending: the host has not accepted it", id);
        else if (offer->status == LB_OFFER_DECLINED)
            snprintf(buf, size, "offer %lld was declined by the host", id);
        else
            snprintf(buf, size, "offer %lld was ended by the %s", id, offer->ended_by == LB_OFFER_HOST ? "host" : "co-op");
        break;
    case LB_OFFER_NOT_CURRENT:
        snprintf(buf, size, "offer %lld runs from %lld to %lld", id, (long long)offer->starts_at, (long long)offer->ends_at);
        break;
    case LB_OFFER_EXCEEDED:
        snprintf(buf, size, "quota %lld is more than offer %lld has left (%lld of %lld)", (long long)quota, id,
                 (long long)LB_OFFER_LEFT(offer), (long long)offer->max_quota);
        break;
    case LB_OFFER_BELOW_FLOOR:
        snprintf(buf, size, "price_cents %lld is under offer %lld's floor of %lld", (long long)price_cents, id,
                 (long long)offer->min_price_cents);
        break;
    }
}

int lb_offer_move(lb_offer_t *offer, lb_offer_action_t action, lb_offer_party_t by, int64_t now)
{
    switch (action) {
    case LB_OFFER_ACCEPT:
    case LB_OFFER_DECLINE:
        if (by != LB_OFFER_HOST)
            return LB_EFORBIDDEN;
        if (offer->status != LB_OFFER_PENDING || (action == LB_OFFER_ACCEPT && now >= offer->ends_at))
            return LB_ECONFLICT;
        offer->status = action == LB_OFFER_ACCEPT ? LB_OFFER_ACCEPTED : LB_OFFER_DECLINED;
        offer->ended_by = action == LB_OFFER_ACCEPT ? LB_OFFER_NOBODY : LB_OFFER_HOST;
        return 0;
    case LB_OFFER_END:
        if (by != LB_OFFER_COOP && by != LB_OFFER_HOST)
            return LB_EFORBIDDEN;
        if (offer->status != LB_OFFER_PENDING && offer->status != LB_OFFER_ACCEPTED)
            return LB_ECONFLICT;
        offer->status = LB_OFFER_ENDED;
        offer->ended_by = by;
        return 0;
    }
    return LB_EFORBIDDEN;
}
