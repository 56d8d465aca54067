/* GET /v1/lives/{id}/stock (public): the live's stock as Server-Sent Events, from this thread's feed of the live. */
#include "livebuy/handlers.h"
#include "livebuy/feed/stock_feed.h"

void lb_handle_live_stock(lb_call_t *call)
{
    lb_stock_feed_watch(call);
}
