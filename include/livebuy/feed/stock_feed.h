/*
 * The live streams (Server-Sent Events): one feed per live per loop thread holds the live's items' counts (available,
 * reserved, sold) and prices, and fans each change out to every viewer of that live on the thread: the public stock
 * stream (GET /v1/lives/{id}/stock: available counts) and the host's sales stream (GET /v1/lives/{id}/sales/stream:
 * every count and the revenue).
 */
#ifndef LIVEBUY_STOCK_FEED_H
#define LIVEBUY_STOCK_FEED_H

#include <stdint.h>
#include "livebuy/http/call.h"

/*
 * Streams the stock of live call->id to the call's client, from this loop thread's feed of that live (made, and loaded
 * with one database job, for its first viewer): a snapshot, then the changes. Answers 404 for an unknown live. The
 * viewer belongs to the request: it leaves the feed when h2o stops or frees the request (the client went away).
 */
void lb_stock_feed_watch(lb_call_t *call);

/*
 * The same for the sales of live call->id, to its host: the caller has checked that the call comes from the live's
 * host (the feed knows no credentials). Its events are "sales", with every count of an item and its revenue.
 */
void lb_stock_feed_watch_sales(lb_call_t *call);

/*
 * A live item's counts as a reservation batch of this loop thread left them: this thread's viewers see them at once,
 * without waiting for the next poll. Cheap when nobody watches.
 */
void lb_stock_feed_publish(int64_t live_item_id, int64_t available, int64_t reserved, int64_t sold);

/* On each loop thread when the server stops: no more polls, open streams ended, new viewers refused with 503. */
void lb_stock_feed_stop(void);

#endif
