/*
 * Stock feeds: one per live per loop thread, alive while the live has viewers on the thread.
 *
 *   first viewer --> loading (one job: does the live exist? its items) --> ready: viewers get a snapshot,
 *   then every POLL_INTERVAL one job re-reads the counts (other processes' orders, payments, cancels, expiry), and the
 *   lanes of this thread publish their batches' results at once --> last viewer gone: freed (after a job in flight)
 *
 * A feed holds each item's counts (available, reserved, sold) and price, and serves two kinds of viewer: the public
 * (the stock stream: available only) and the live's host (the sales stream: all the counts, and revenue). Each kind
 * has its own channel: its changes numbered (seq) and its message caches, so a change the public does not see (a
 * payment moves reserved to sold) sends the public nothing. An item's new value is published to a channel at most
 * every MIN_EVENT_GAP (later values wait for the thread's tick); a viewer remembers the seq it was last sent and,
 * whenever its previous write is done, gets one message with every item published since. So a slow viewer holds one
 * message, never a queue, and viewers of a kind at the same seq share the same message (refcounted). One timer per
 * thread drives polls, delayed events and heartbeats.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <h2o.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/base/idmap.h"
#include "livebuy/base/metrics.h"
#include "livebuy/feed/stock_feed.h"
#include "livebuy/http/answer.h"
#include "livebuy/store/lives.h"

#define MS                 1000000ull
#define TICK_MS            100
#define POLL_INTERVAL_NS   (500 * MS)
#define MIN_EVENT_GAP_NS   (200 * MS) /* at most 5 events a second per item */
#define HEARTBEAT_NS       (15000 * MS)
#define RETRY_LINE         "retry: 2000\n\n"
#define HEARTBEAT_LINE     ": heartbeat\n\n"
#define ITEM_TEXT_MAX      96  /* bytes of one item's stock event (or snapshot entry), at most */
#define SALES_TEXT_MAX     192 /* bytes of one item's entry in a sales event, at most */
#define MESSAGE_HEADER_MAX 128
#define STOPPING           1 /* why a viewer waiting for the first load is refused, besides the LB_E* codes */

/* Bytes sent to viewers; a refcounted chunk (h2o_mem_*_shared) held by the feed's caches and by viewers writing it. */
typedef struct st_message_t {
    size_t len;
    char bytes[];
} message_t;

/* Who a viewer is, and so what its stream shows. */
typedef enum { VIEWER_PUBLIC, VIEWER_HOST, NUM_VIEWER_KINDS } viewer_kind_t;

typedef struct st_counts_t {
    int64_t available, reserved, sold;
} counts_t;

/* An item as one kind of viewer is shown it. */
typedef struct st_shown_t {
    counts_t published;    /* what this kind of viewer is being sent */
    uint64_t seq;          /* the channel's seq when published last changed */
    uint64_t published_ns; /* when published last changed */
} shown_t;

typedef struct st_feed_item_t {
    int64_t id, price_cents;
    counts_t latest;    /* the latest counts known */
    uint64_t pushed_ns; /* when this thread's lanes last reported them */
    shown_t shown[NUM_VIEWER_KINDS];
} feed_item_t;

/* What one kind of viewer of a feed is sent: its changes, numbered, and its caches of messages. */
typedef struct st_channel_t {
    uint64_t seq;
    message_t *snapshot, *delta; /* the snapshot at snapshot_seq; the changes from delta_since to delta_seq */
    uint64_t snapshot_seq, delta_since, delta_seq;
} channel_t;

typedef struct st_feed_t feed_t;

typedef struct st_poll_t {
    lb_db_job_t job;
    feed_t *feed;
    int64_t live_id;
    int check_live; /* the first load: is there such a live? */
    int found;
    lb_live_item_t *items;
    size_t num_items;
} poll_t;

struct st_feed_t {
    int64_t live_id;
    h2o_linklist_t link;    /* in the thread's feeds */
    h2o_linklist_t viewers; /* viewer_t.link */
    size_t num_viewers;
    h2o_linklist_t *cursor; /* the next viewer of a walk in progress: unlinking it moves this on */
    unsigned busy;          /* walks (and the poll's answer) in progress: the feed is not freed under them */
    int ready, polling;
    poll_t poll; /* the job in flight, when polling */
    uint64_t poll_started_ns, heartbeat_ns;
    feed_item_t *items; /* by id */
    size_t num_items;
    channel_t channels[NUM_VIEWER_KINDS];
};

/* One client's stream; lives in its request's pool. */
typedef struct st_viewer_t {
    h2o_generator_t generator;
    h2o_linklist_t link;
    feed_t *feed; /* NULL once it has left */
    viewer_kind_t kind;
    lb_call_t *call;
    message_t *in_flight; /* what its write in progress sends */
    uint64_t sent_seq;
    unsigned char streaming, writing;
} viewer_t;

/* This loop thread's feeds. */
static _Thread_local struct {
    uv_loop_t *loop; /* NULL until the first viewer */
    uv_timer_t tick;
    h2o_linklist_t feeds;
    lb_idmap_t by_live, by_item; /* live id -> feed; live item id -> feed */
    int stopping;
} thread;

/* ---- messages ---------------------------------------------------------------------------------------------------- */

static message_t *message_new(size_t capacity)
{
    message_t *m = h2o_mem_alloc_shared(NULL, offsetof(message_t, bytes) + capacity, NULL);
    m->len = 0;
    return m;
}

static void message_release(message_t **m)
{
    if (*m != NULL)
        h2o_mem_release_shared(*m);
    *m = NULL;
}

static void message_append(message_t *m, size_t capacity, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void message_append(message_t *m, size_t capacity, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(m->bytes + m->len, capacity - m->len, fmt, args);
    va_end(args);
    assert(n >= 0 && (size_t)n < capacity - m->len);
    m->len += (size_t)n;
}

/* ---- what each kind of viewer is sent ----------------------------------------------------------------------------- */

/* Whether two counts differ in what a kind of viewer is shown: the public sees available only. */
static int counts_differ(viewer_kind_t kind, const counts_t *a, const counts_t *b)
{
    return a->available != b->available || (kind == VIEWER_HOST && (a->reserved != b->reserved || a->sold != b->sold));
}

/* The public's snapshot: every item's available count. */
static void append_stock_snapshot(message_t *m, size_t capacity, const feed_t *feed)
{
    message_append(m, capacity, "event: snapshot\ndata: {\"live_id\":%" PRId64 ",\"items\":[", feed->live_id);
    for (size_t i = 0; i != feed->num_items; ++i)
        message_append(m, capacity, "%s{\"item_id\":%" PRId64 ",\"available\":%" PRId64 "}", i == 0 ? "" : ",", feed->items[i].id,
                       feed->items[i].shown[VIEWER_PUBLIC].published.available);
    message_append(m, capacity, "]}\n\n");
}

/* The public's changes: a stock event per item published after seq since. */
static void append_stock_changes(message_t *m, size_t capacity, const feed_t *feed, uint64_t since)
{
    for (size_t i = 0; i != feed->num_items; ++i)
        if (feed->items[i].shown[VIEWER_PUBLIC].seq > since)
            message_append(m, capacity, "event: stock\ndata: {\"item_id\":%" PRId64 ",\"available\":%" PRId64 "}\n\n",
                           feed->items[i].id, feed->items[i].shown[VIEWER_PUBLIC].published.available);
}

/*
 * The host's changes: one sales event of the items published after seq since. Revenue is the units sold at the item's
 * flash price (at most 10^9 units of 10^10 cents: within 64 unsigned bits).
 */
static void append_sales_changes(message_t *m, size_t capacity, const feed_t *feed, uint64_t since)
{
    const char *separator = "";
    message_append(m, capacity, "event: sales\ndata: {\"items\":[");
    for (size_t i = 0; i != feed->num_items; ++i) {
        const feed_item_t *item = &feed->items[i];
        const counts_t *c = &item->shown[VIEWER_HOST].published;
        if (item->shown[VIEWER_HOST].seq <= since)
            continue;
        message_append(m, capacity,
                       "%s{\"id\":%" PRId64 ",\"available\":%" PRId64 ",\"reserved\":%" PRId64 ",\"sold\":%" PRId64
                       ",\"revenue_cents\":%" PRIu64 "}",
                       separator, item->id, c->available, c->reserved, c->sold, (uint64_t)c->sold * (uint64_t)item->price_cents);
        separator = ",";
    }
    message_append(m, capacity, "]}\n\n");
}

/* The host's snapshot: a sales event of every item (each was published after seq 0). */
static void append_sales_snapshot(message_t *m, size_t capacity, const feed_t *feed)
{
    append_sales_changes(m, capacity, feed, 0);
}

static const struct {
    size_t item_text_max; /* bytes of one item in a message, at most */
    void (*append_snapshot)(message_t *m, size_t capacity, const feed_t *feed);
    void (*append_changes)(message_t *m, size_t capacity, const feed_t *feed, uint64_t since);
} kinds[NUM_VIEWER_KINDS] = {
    [VIEWER_PUBLIC] = {ITEM_TEXT_MAX, append_stock_snapshot, append_stock_changes},
    [VIEWER_HOST] = {SALES_TEXT_MAX, append_sales_snapshot, append_sales_changes},
};

static size_t message_capacity(const feed_t *feed, viewer_kind_t kind)
{
    return MESSAGE_HEADER_MAX + feed->num_items * kinds[kind].item_text_max;
}

/* A kind's snapshot as of now, after the retry line (a reference for the caller). */
static message_t *feed_snapshot(feed_t *feed, viewer_kind_t kind)
{
    channel_t *channel = &feed->channels[kind];
    if (channel->snapshot == NULL || channel->snapshot_seq != channel->seq) {
        size_t capacity = message_capacity(feed, kind);
        message_release(&channel->snapshot);
        channel->snapshot = message_new(capacity);
        channel->snapshot_seq = channel->seq;
        message_append(channel->snapshot, capacity, RETRY_LINE);
        kinds[kind].append_snapshot(channel->snapshot, capacity, feed);
    }
    h2o_mem_addref_shared(channel->snapshot);
    return channel->snapshot;
}

/* A kind's events of the items published after seq since (a reference for the caller). */
static message_t *feed_delta(feed_t *feed, viewer_kind_t kind, uint64_t since)
{
    channel_t *channel = &feed->channels[kind];
    if (channel->delta == NULL || channel->delta_since != since || channel->delta_seq != channel->seq) {
        size_t capacity = message_capacity(feed, kind);
        message_release(&channel->delta);
        channel->delta = message_new(capacity);
        channel->delta_since = since;
        channel->delta_seq = channel->seq;
        kinds[kind].append_changes(channel->delta, capacity, feed, since);
    }
    h2o_mem_addref_shared(channel->delta);
    return channel->delta;
}

/* ---- feeds ------------------------------------------------------------------------------------------------------- */

static void feed_free_if_idle(feed_t *feed)
{
    if (feed->num_viewers != 0 || feed->polling || feed->busy != 0)
        return;
    lb_idmap_remove(&thread.by_live, feed->live_id);
    for (size_t i = 0; i != feed->num_items; ++i)
        if (lb_idmap_get(&thread.by_item, feed->items[i].id) == feed)
            lb_idmap_remove(&thread.by_item, feed->items[i].id);
    h2o_linklist_unlink(&feed->link);
    if (h2o_linklist_is_empty(&thread.feeds))
        uv_timer_stop(&thread.tick);
    for (int kind = 0; kind != NUM_VIEWER_KINDS; ++kind) {
        message_release(&feed->channels[kind].snapshot);
        message_release(&feed->channels[kind].delta);
    }
    free(feed->items);
    free(feed);
}

static feed_item_t *feed_find_item(feed_t *feed, int64_t id)
{
    size_t lo = 0, hi = feed->num_items;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (feed->items[mid].id == id)
            return &feed->items[mid];
        if (feed->items[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static counts_t counts_of(const lb_live_item_t *row)
{
    return (counts_t){LB_LIVE_ITEM_AVAILABLE(row), row->reserved, row->sold};
}

/* An item the feed did not know (the first load, or one put on air since): published with its first counts. */
static void feed_add_item(feed_t *feed, const lb_live_item_t *row, uint64_t now)
{
    size_t at = feed->num_items;
    while (at != 0 && feed->items[at - 1].id > row->id)
        --at;
    feed->items = lb_realloc(feed->items, (feed->num_items + 1) * sizeof(*feed->items));
    memmove(&feed->items[at + 1], &feed->items[at], (feed->num_items - at) * sizeof(*feed->items));
    ++feed->num_items;
    feed_item_t *item = &feed->items[at];
    *item = (feed_item_t){.id = row->id, .price_cents = row->price_cents, .latest = counts_of(row)};
    for (int kind = 0; kind != NUM_VIEWER_KINDS; ++kind)
        item->shown[kind] = (shown_t){item->latest, feed->channels[kind].seq, now};
    lb_idmap_set(&thread.by_item, row->id, feed);
}

static void viewer_send(viewer_t *v, message_t *message, uint64_t seq);

/* Calls fn for each viewer of the feed; a viewer may leave (and the feed empty) meanwhile. */
static void feed_walk(feed_t *feed, void (*fn)(viewer_t *v, void *arg), void *arg)
{
    assert(feed->cursor == NULL); /* walks do not nest */
    ++feed->busy;
    for (h2o_linklist_t *node = feed->viewers.next; node != &feed->viewers; node = feed->cursor) {
        feed->cursor = node->next;
        fn(H2O_STRUCT_FROM_MEMBER(viewer_t, link, node), arg);
    }
    feed->cursor = NULL;
    --feed->busy;
    feed_free_if_idle(feed);
}

/* Sends the viewer what its channel published since its last message, if anything. */
static void viewer_send_changes(viewer_t *v)
{
    uint64_t seq = v->feed->channels[v->kind].seq;
    if (v->sent_seq < seq)
        viewer_send(v, feed_delta(v->feed, v->kind, v->sent_seq), seq);
}

static void send_changes(viewer_t *v, void *arg)
{
    if (v->streaming && !v->writing)
        viewer_send_changes(v);
}

/* Sends each viewer that is not writing what was published since its last message (the others get it when done). */
static void feed_notify(feed_t *feed)
{
    if (!thread.stopping)
        feed_walk(feed, send_changes, NULL);
}

/*
 * Publishes to each channel the items whose latest counts differ from what its viewers were shown, each at most every
 * MIN_EVENT_GAP (the thread's tick publishes what had to wait). Returns whether anything was published.
 */
static int feed_flush(feed_t *feed, uint64_t now)
{
    int changed = 0;
    for (int kind = 0; kind != NUM_VIEWER_KINDS; ++kind) {
        channel_t *channel = &feed->channels[kind];
        int channel_changed = 0;
        for (size_t i = 0; i != feed->num_items; ++i) {
            feed_item_t *item = &feed->items[i];
            if (!counts_differ(kind, &item->latest, &item->shown[kind].published) ||
                now - item->shown[kind].published_ns < MIN_EVENT_GAP_NS)
                continue;
            if (!channel_changed) {
                ++channel->seq;
                channel_changed = changed = 1;
            }
            item->shown[kind] = (shown_t){item->latest, channel->seq, now};
        }
    }
    return changed;
}

static void send_heartbeat(viewer_t *v, void *arg)
{
    if (v->streaming && !v->writing)
        viewer_send(v, NULL, v->sent_seq);
}

/* ---- polls ------------------------------------------------------------------------------------------------------- */

static int poll_work(lb_db_job_t *job, lb_db_t *db)
{
    poll_t *poll = H2O_STRUCT_FROM_MEMBER(poll_t, job, job);
    lb_live_t live;
    int ret;
    /* Run again after a deadlock: start from scratch. */
    free(poll->items);
    poll->items = NULL;
    poll->num_items = 0;
    poll->found = 1;
    if (poll->check_live && (ret = lb_store_live_get(db, poll->live_id, &live)) != 0) {
        poll->found = 0;
        return ret == LB_ENOTFOUND ? 0 : ret;
    }
    return lb_store_live_items(db, poll->live_id, &poll->items, &poll->num_items);
}

static void poll_done(lb_db_job_t *job, int status);

static void feed_poll(feed_t *feed)
{
    assert(!feed->polling);
    feed->polling = 1;
    feed->poll_started_ns = lb_monotonic_ns();
    feed->poll = (poll_t){.feed = feed, .live_id = feed->live_id, .check_live = !feed->ready};
    lb_db_submit(thread.loop, &feed->poll.job, poll_work, poll_done);
}

/*
 * A poll's counts: newer than what the feed has, except for items this thread's lanes reported since it started.
 * Returns whether it found new items (published at once).
 */
static int feed_apply_poll(feed_t *feed, const poll_t *poll, uint64_t now)
{
    int added = 0;
    for (size_t i = 0; i != poll->num_items; ++i) {
        const lb_live_item_t *row = &poll->items[i];
        feed_item_t *item = feed_find_item(feed, row->id);
        if (item == NULL) {
            /* a new item: its first counts are a change for every viewer */
            for (int kind = 0; kind != NUM_VIEWER_KINDS; ++kind)
                ++feed->channels[kind].seq;
            feed_add_item(feed, row, now);
            added = 1;
        } else if (item->pushed_ns < feed->poll_started_ns) {
            item->latest = counts_of(row);
        }
    }
    return added;
}

static void viewer_start(viewer_t *v, void *arg);
static void viewer_refuse(viewer_t *v, void *arg);

static void poll_done(lb_db_job_t *job, int status)
{
    poll_t *poll = H2O_STRUCT_FROM_MEMBER(poll_t, job, job);
    feed_t *feed = poll->feed;
    uint64_t now = lb_monotonic_ns();

    feed->polling = 0;
    ++feed->busy; /* the poll is part of the feed: keep it until the end */
    if (feed->ready) {
        if (status == 0) {
            int added = feed_apply_poll(feed, poll, now);
            if (feed_flush(feed, now) || added)
                feed_notify(feed);
        }
    } else if (status == 0 && poll->found && !thread.stopping) {
        feed->ready = 1;
        for (int kind = 0; kind != NUM_VIEWER_KINDS; ++kind)
            feed->channels[kind].seq = 1;
        feed->heartbeat_ns = now;
        for (size_t i = 0; i != poll->num_items; ++i)
            feed_add_item(feed, &poll->items[i], now);
        feed_walk(feed, viewer_start, NULL);
    } else {
        /* The viewers waiting for the first load are answered, and the feed goes with them. */
        int reason = status != 0 ? status : !poll->found ? LB_ENOTFOUND : STOPPING;
        feed_walk(feed, viewer_refuse, &reason);
    }
    free(poll->items);
    poll->items = NULL;
    --feed->busy;
    feed_free_if_idle(feed);
}

static void on_tick(uv_timer_t *timer)
{
    uint64_t now = lb_monotonic_ns();
    h2o_linklist_t *node, *next;
    for (node = thread.feeds.next; node != &thread.feeds; node = next) {
        next = node->next;
        feed_t *feed = H2O_STRUCT_FROM_MEMBER(feed_t, link, node);
        if (!feed->ready || feed->num_viewers == 0)
            continue;
        if (!feed->polling && now - feed->poll_started_ns >= POLL_INTERVAL_NS)
            feed_poll(feed);
        if (feed_flush(feed, now))
            feed_notify(feed);
        if (now - feed->heartbeat_ns >= HEARTBEAT_NS) {
            feed->heartbeat_ns = now;
            feed_walk(feed, send_heartbeat, NULL);
        }
    }
}

static feed_t *feed_new(int64_t live_id)
{
    feed_t *feed = lb_calloc(1, sizeof(*feed));
    feed->live_id = live_id;
    h2o_linklist_init_anchor(&feed->viewers);
    if (h2o_linklist_is_empty(&thread.feeds))
        uv_timer_start(&thread.tick, on_tick, TICK_MS, TICK_MS);
    h2o_linklist_insert(&thread.feeds, &feed->link);
    lb_idmap_set(&thread.by_live, live_id, feed);
    feed_poll(feed);
    return feed;
}

/* ---- viewers ----------------------------------------------------------------------------------------------------- */

static void viewer_leave(viewer_t *v)
{
    feed_t *feed = v->feed;
    if (feed == NULL)
        return;
    if (feed->cursor == &v->link)
        feed->cursor = v->link.next;
    h2o_linklist_unlink(&v->link);
    --feed->num_viewers;
    if (v->streaming)
        lb_metrics_sse_viewers(-1);
    v->streaming = 0;
    v->feed = NULL;
    feed_free_if_idle(feed);
}

static void viewer_send(viewer_t *v, message_t *message, uint64_t seq)
{
    static const h2o_iovec_t heartbeat = {H2O_STRLIT(HEARTBEAT_LINE)};
    h2o_iovec_t buf = message != NULL ? h2o_iovec_init(message->bytes, message->len) : heartbeat;
    assert(!v->writing && v->in_flight == NULL);
    v->in_flight = message;
    v->sent_seq = seq;
    v->writing = 1;
    h2o_send(v->call->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

/* Ends the stream cleanly (the server is stopping); h2o frees the request when the end is written. */
static void viewer_end(viewer_t *v)
{
    h2o_req_t *req = v->call->req;
    viewer_leave(v);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

static void on_viewer_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    viewer_t *v = H2O_STRUCT_FROM_MEMBER(viewer_t, generator, generator);
    v->writing = 0;
    message_release(&v->in_flight);
    if (v->feed == NULL)
        return;
    if (thread.stopping)
        viewer_end(v);
    else
        viewer_send_changes(v);
}

static void on_viewer_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    viewer_leave(H2O_STRUCT_FROM_MEMBER(viewer_t, generator, generator));
}

static void on_viewer_disposed(void *p)
{
    viewer_t *v = p;
    viewer_leave(v);
    message_release(&v->in_flight);
    lb_call_release(v->call);
}

static void viewer_start(viewer_t *v, void *arg)
{
    h2o_req_t *req = v->call->req;
    feed_t *feed = v->feed;
    lb_call_answering(v->call, 200, 0); /* a stream: its bytes are not known when it starts */
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/event-stream"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    v->generator = (h2o_generator_t){on_viewer_proceed, on_viewer_stop};
    /* a stream holds its request, pool and stream as an answer does, until it ends: counted against the budgets like
     * one, so that streams a client never reads cannot pile up past them */
    lb_answer_hold(req);
    h2o_start_response(req, &v->generator);
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        viewer_end(v);
        return;
    }
    v->streaming = 1;
    lb_metrics_sse_viewers(1);
    viewer_send(v, feed_snapshot(feed, v->kind), feed->channels[v->kind].seq);
}

static void reply_refused(lb_call_t *call, int reason)
{
    if (reason == LB_ENOTFOUND)
        lb_reply_error(call, 404, "not_found", "no live %" PRId64, call->id);
    else if (reason == STOPPING)
        lb_reply_error(call, 503, "unavailable", "the server is stopping; retry shortly");
    else
        lb_reply_failure(call, reason);
}

static void viewer_refuse(viewer_t *v, void *arg)
{
    lb_call_t *call = v->call;
    viewer_leave(v);
    reply_refused(call, *(int *)arg);
}

/* ---- the API ----------------------------------------------------------------------------------------------------- */

static void watch(lb_call_t *call, viewer_kind_t kind)
{
    if (thread.stopping) {
        reply_refused(call, STOPPING);
        return;
    }
    if (thread.loop == NULL) {
        thread.loop = call->loop;
        h2o_linklist_init_anchor(&thread.feeds);
        uv_timer_init(thread.loop, &thread.tick);
    }
    feed_t *feed = lb_idmap_get(&thread.by_live, call->id);
    if (feed == NULL)
        feed = feed_new(call->id);

    viewer_t *v = h2o_mem_alloc_shared(&call->req->pool, sizeof(*v), on_viewer_disposed);
    *v = (viewer_t){.feed = feed, .kind = kind, .call = call};
    lb_call_retain(call);
    h2o_linklist_insert(&feed->viewers, &v->link);
    ++feed->num_viewers;
    if (feed->ready)
        viewer_start(v, NULL);
}

void lb_stock_feed_watch(lb_call_t *call)
{
    watch(call, VIEWER_PUBLIC);
}

void lb_stock_feed_watch_sales(lb_call_t *call)
{
    watch(call, VIEWER_HOST);
}

void lb_stock_feed_publish(int64_t live_item_id, int64_t available, int64_t reserved, int64_t sold)
{
    feed_t *feed = thread.loop != NULL ? lb_idmap_get(&thread.by_item, live_item_id) : NULL;
    feed_item_t *item = feed != NULL ? feed_find_item(feed, live_item_id) : NULL;
    if (item == NULL)
        return;
    item->latest = (counts_t){available, reserved, sold};
    item->pushed_ns = lb_monotonic_ns();
    if (feed_flush(feed, item->pushed_ns))
        feed_notify(feed);
}

static void end_stream(viewer_t *v, void *arg)
{
    /* A viewer still writing ends when its write is done (on_viewer_proceed); one still waiting for the load is refused. */
    if (v->streaming && !v->writing)
        viewer_end(v);
}

void lb_stock_feed_stop(void)
{
    thread.stopping = 1;
    if (thread.loop == NULL)
        return;
    uv_timer_stop(&thread.tick);
    uv_close((uv_handle_t *)&thread.tick, NULL);
    h2o_linklist_t *node, *next;
    for (node = thread.feeds.next; node != &thread.feeds; node = next) {
        feed_t *feed = H2O_STRUCT_FROM_MEMBER(feed_t, link, node);
        ++feed->busy; /* kept until the walk is over, so that next stays valid */
        feed_walk(feed, end_stream, NULL);
        next = node->next;
        --feed->busy;
        feed_free_if_idle(feed);
    }
}
