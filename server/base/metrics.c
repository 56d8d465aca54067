/* Metrics: relaxed atomics written by loop and worker threads, read when /metrics renders the Prometheus text. */
#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/metrics.h"
#include "livebuy/base/process.h"

#define MAX_ROUTES 96

/* Upper bounds of the latency buckets, in seconds (the last bucket, +Inf, is implicit). */
static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NUM_BUCKETS (LB_ARRAY_SIZE(bucket_bounds) + 1)

/* The statuses livebuy answers with; anything else is counted as "other". */
static const int known_statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503};
#define NUM_STATUSES (LB_ARRAY_SIZE(known_statuses) + 1)

typedef struct st_histogram_t {
    atomic_ullong buckets[NUM_BUCKETS]; /* not cumulative; summed when rendered */
    atomic_ullong count;
    atomic_ullong sum_ns;
} histogram_t;

static const char *const *route_labels;
static size_t num_routes;
static atomic_ullong requests[MAX_ROUTES][NUM_STATUSES];
static histogram_t request_latency[MAX_ROUTES];
static histogram_t db_wait, db_total;
static atomic_llong db_queued, db_running, connections_open;
static atomic_ullong connections_total, connections_evicted, connections_refused;
static atomic_ullong connections_over_budget[2]; /* budget: connection, process */
static atomic_ullong memory_purges[2];           /* light, thorough */
static atomic_llong answers_held;
static atomic_ullong payments[LB_METRICS_PAYMENT_OUTCOMES];
static const char *const payment_outcomes[] = {"applied", "replayed", "refund_required", "rejected"};
_Static_assert(LB_ARRAY_SIZE(payment_outcomes) == LB_METRICS_PAYMENT_OUTCOMES, "a label for each payment outcome");
static atomic_ullong orders_expired;
static atomic_ullong order_lookups;
static atomic_ullong batches, batch_requests, order_transactions, orders_dropped, orders_timed_out, reset_closes, public_cache_hits;
static atomic_llong sse_viewers;
static atomic_llong calls_waiting;
static atomic_ullong calls_refused;
static atomic_int database_up;
static char build_labels[192] = "version=\"unknown\"";
#define MAX_ORDER_OUTCOMES 24
static const char *const *order_outcome_labels;
static size_t num_order_outcomes;
static atomic_ullong order_outcomes[MAX_ORDER_OUTCOMES];
static atomic_llong outbox_backlog;
static atomic_ullong shipping_pushes[LB_METRICS_PUSH_RESULTS], shipping_dead_letters;
static const char *const push_results[] = {"acked", "failed"};
_Static_assert(LB_ARRAY_SIZE(push_results) == LB_METRICS_PUSH_RESULTS, "a label for each push result");
static atomic_llong refunds_pending;
static atomic_ullong refund_pushes[LB_METRICS_REFUND_PUSH_RESULTS];
static const char *const refund_push_results[] = {"sent", "refused", "failed"};
_Static_assert(LB_ARRAY_SIZE(refund_push_results) == LB_METRICS_REFUND_PUSH_RESULTS, "a label for each refund push result");
static atomic_ullong refunds_created[LB_METRICS_REFUND_CAUSES], refund_events[LB_METRICS_REFUND_EVENTS];
static const char *const refund_causes[] = {"buyer", "late_payment", "paid_twice", "campaign_failed"};
_Static_assert(LB_ARRAY_SIZE(refund_causes) == LB_METRICS_REFUND_CAUSES, "a label for each refund cause");
static const char *const refund_events_labels[] = {"requested", "approved", "rejected", "refunded", "failed", "dead", "retried"};
_Static_assert(LB_ARRAY_SIZE(refund_events_labels) == LB_METRICS_REFUND_EVENTS, "a label for each refund event");

void lb_metrics_init(const char *const *labels, size_t n)
{
    assert(n <= MAX_ROUTES);
    route_labels = labels;
    num_routes = n;
}

const char *lb_metrics_route_label(size_t route)
{
    return route < num_routes ? route_labels[route] : "unmatched";
}

void lb_metrics_init_orders(const char *const *outcome_labels, size_t n)
{
    assert(n <= MAX_ORDER_OUTCOMES);
    order_outcome_labels = outcome_labels;
    num_order_outcomes = n;
}

void lb_metrics_order(unsigned outcome)
{
    assert(outcome < num_order_outcomes);
    atomic_fetch_add_explicit(&order_outcomes[outcome], 1, memory_order_relaxed);
}

void lb_metrics_build_info(const char *version, const char *h2o_version, const char *libuv_version)
{
    snprintf(build_labels, sizeof(build_labels), "version=\"%s\",h2o=\"%s\",libuv=\"%s\"", version, h2o_version, libuv_version);
}

void lb_metrics_database_up(int up)
{
    atomic_store_explicit(&database_up, up, memory_order_relaxed);
}

static void observe(histogram_t *h, uint64_t ns)
{
    double seconds = (double)ns / 1e9;
    size_t i = 0;
    while (i != LB_ARRAY_SIZE(bucket_bounds) && seconds > bucket_bounds[i])
        ++i;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void lb_metrics_request(size_t route, int status, uint64_t latency_ns)
{
    size_t s = 0;
    while (s != LB_ARRAY_SIZE(known_statuses) && known_statuses[s] != status)
        ++s;
    atomic_fetch_add_explicit(&requests[route][s], 1, memory_order_relaxed);
    observe(&request_latency[route], latency_ns);
}

void lb_metrics_connection(int delta)
{
    atomic_fetch_add_explicit(&connections_open, delta, memory_order_relaxed);
    if (delta > 0)
        atomic_fetch_add_explicit(&connections_total, 1, memory_order_relaxed);
}

void lb_metrics_connection_capped(int evicted)
{
    atomic_fetch_add_explicit(evicted ? &connections_evicted : &connections_refused, 1, memory_order_relaxed);
}

void lb_metrics_connection_over_budget(int process)
{
    atomic_fetch_add_explicit(&connections_over_budget[process != 0], 1, memory_order_relaxed);
}

void lb_metrics_memory_purge(int thorough)
{
    atomic_fetch_add_explicit(&memory_purges[thorough != 0], 1, memory_order_relaxed);
}

void lb_metrics_answers_held(int64_t delta)
{
    atomic_fetch_add_explicit(&answers_held, delta, memory_order_relaxed);
}

void lb_metrics_db_queued(void)
{
    atomic_fetch_add_explicit(&db_queued, 1, memory_order_relaxed);
}

void lb_metrics_db_started(uint64_t wait_ns)
{
    atomic_fetch_sub_explicit(&db_queued, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db_running, 1, memory_order_relaxed);
    observe(&db_wait, wait_ns);
}

void lb_metrics_payment(lb_metrics_payment_t outcome)
{
    atomic_fetch_add_explicit(&payments[outcome], 1, memory_order_relaxed);
}

void lb_metrics_orders_expired(uint64_t n)
{
    atomic_fetch_add_explicit(&orders_expired, n, memory_order_relaxed);
}

void lb_metrics_order_lookup(void)
{
    atomic_fetch_add_explicit(&order_lookups, 1, memory_order_relaxed);
}

void lb_metrics_batch(uint64_t requests)
{
    atomic_fetch_add_explicit(&batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&batch_requests, requests, memory_order_relaxed);
}

void lb_metrics_order_transaction(void)
{
    atomic_fetch_add_explicit(&order_transactions, 1, memory_order_relaxed);
}

void lb_metrics_connection_closed_for_resets(void)
{
    atomic_fetch_add_explicit(&reset_closes, 1, memory_order_relaxed);
}

void lb_metrics_orders_timed_out(uint64_t n)
{
    atomic_fetch_add_explicit(&orders_timed_out, n, memory_order_relaxed);
}

void lb_metrics_calls_waiting(int delta)
{
    atomic_fetch_add_explicit(&calls_waiting, delta, memory_order_relaxed);
}

void lb_metrics_call_refused(void)
{
    atomic_fetch_add_explicit(&calls_refused, 1, memory_order_relaxed);
}

void lb_metrics_orders_dropped(uint64_t n)
{
    atomic_fetch_add_explicit(&orders_dropped, n, memory_order_relaxed);
}

void lb_metrics_public_cache_hit(void)
{
    atomic_fetch_add_explicit(&public_cache_hits, 1, memory_order_relaxed);
}

void lb_metrics_outbox_backlog(int64_t pending)
{
    atomic_store_explicit(&outbox_backlog, pending, memory_order_relaxed);
}

void lb_metrics_shipping_push(lb_metrics_push_t result)
{
    atomic_fetch_add_explicit(&shipping_pushes[result], 1, memory_order_relaxed);
}

void lb_metrics_refunds_pending(int64_t pending)
{
    atomic_store_explicit(&refunds_pending, pending, memory_order_relaxed);
}

void lb_metrics_refund_push(lb_metrics_refund_push_t result)
{
    atomic_fetch_add_explicit(&refund_pushes[result], 1, memory_order_relaxed);
}

void lb_metrics_shipping_dead_letter(void)
{
    atomic_fetch_add_explicit(&shipping_dead_letters, 1, memory_order_relaxed);
}

void lb_metrics_refund_created(lb_metrics_refund_cause_t cause)
{
    atomic_fetch_add_explicit(&refunds_created[cause], 1, memory_order_relaxed);
}

void lb_metrics_refund_event(lb_metrics_refund_event_t event)
{
    atomic_fetch_add_explicit(&refund_events[event], 1, memory_order_relaxed);
}

void lb_metrics_sse_viewers(int delta)
{
    atomic_fetch_add_explicit(&sse_viewers, delta, memory_order_relaxed);
}

void lb_metrics_db_done(uint64_t total_ns)
{
    atomic_fetch_sub_explicit(&db_running, 1, memory_order_relaxed);
    observe(&db_total, total_ns);
}

typedef struct st_text_t {
    char *buf;
    size_t len, cap;
} text_t;

static void emit(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, args);
        va_end(args);
        assert(n >= 0);
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n;
        t->buf = lb_realloc(t->buf, t->cap);
    }
}

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* One histogram's bucket, sum and count lines; labels is "" or `route="..."`. */
static void emit_histogram(text_t *t, const char *name, const char *labels, histogram_t *h)
{
    const char *sep = *labels != '\0' ? "," : "";
    unsigned long long cumulative = 0;
    for (size_t i = 0; i != NUM_BUCKETS; ++i) {
        cumulative += load(&h->buckets[i]);
        if (i == LB_ARRAY_SIZE(bucket_bounds))
            emit(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, cumulative);
        else
            emit(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bucket_bounds[i], cumulative);
    }
    const char *open = *labels != '\0' ? "{" : "", *close = *labels != '\0' ? "}" : "";
    emit(t, "%s_sum%s%s%s %.6f\n", name, open, labels, close, (double)load(&h->sum_ns) / 1e9);
    emit(t, "%s_count%s%s%s %llu\n", name, open, labels, close, load(&h->count));
}

/* What runs, and the process's own figures under the names every Prometheus client library gives them. */
static void emit_process(text_t *t)
{
    lb_process_stats_t p;
    emit(t,
         "# HELP livebuy_build_info The running build: 1, with its version and those of its libraries as labels.\n"
         "# TYPE livebuy_build_info gauge\nlivebuy_build_info{%s} 1\n",
         build_labels);
    if (lb_process_stats(&p) != 0)
        return;
    emit(t,
         "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
         "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
         "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
         "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n"
         "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds %llu\n"
         "# HELP process_max_fds Maximum number of open file descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds %llu\n"
         "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
         "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
         p.cpu_seconds, (unsigned long long)p.resident_bytes, (unsigned long long)p.open_fds, (unsigned long long)p.max_fds,
         p.start_time_seconds);
}

static void emit_orders(text_t *t)
{
    emit(t, "# HELP livebuy_orders_total Order requests (POST /v1/orders) by outcome: created, replayed, or the error code "
            "and cause that refused them.\n# TYPE livebuy_orders_total counter\n");
    for (size_t i = 0; i != num_order_outcomes; ++i)
        if (order_outcome_labels[i] != NULL)
            emit(t, "livebuy_orders_total{outcome=\"%s\"} %llu\n", order_outcome_labels[i], load(&order_outcomes[i]));
}

char *lb_metrics_render(size_t *len)
{
    text_t t = {lb_malloc(8192), 0, 8192};
    char labels[128];

    emit_process(&t);
    emit(&t,
         "# HELP livebuy_database_up Whether the database answered the last time a worker used or tried to open a "
         "connection (1) or not (0).\n# TYPE livebuy_database_up gauge\nlivebuy_database_up %d\n",
         atomic_load(&database_up));
    emit_orders(&t);

    emit(&t, "# HELP livebuy_http_requests_total Requests answered, by route and HTTP status code.\n"
             "# TYPE livebuy_http_requests_total counter\n");
    for (size_t r = 0; r != num_routes; ++r) {
        for (size_t s = 0; s != NUM_STATUSES; ++s) {
            unsigned long long n = load(&requests[r][s]);
            if (n == 0)
                continue;
            if (s == LB_ARRAY_SIZE(known_statuses))
                emit(&t, "livebuy_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", route_labels[r], n);
            else
                emit(&t, "livebuy_http_requests_total{route=\"%s\",code=\"%d\"} %llu\n", route_labels[r], known_statuses[s], n);
        }
    }
    emit(&t, "# HELP livebuy_http_request_duration_seconds Time from request start to answer, by route.\n"
             "# TYPE livebuy_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r != num_routes; ++r) {
        if (load(&request_latency[r].count) == 0)
            continue;
        snprintf(labels, sizeof(labels), "route=\"%s\"", route_labels[r]);
        emit_histogram(&t, "livebuy_http_request_duration_seconds", labels, &request_latency[r]);
    }
    emit(&t,
         "# HELP livebuy_http_connections_open HTTP connections open now.\n# TYPE livebuy_http_connections_open gauge\n"
         "livebuy_http_connections_open %lld\n"
         "# HELP livebuy_http_connections_total HTTP connections accepted.\n# TYPE livebuy_http_connections_total counter\n"
         "livebuy_http_connections_total %llu\n"
         "# HELP livebuy_http_connections_capped_total Connections closed at --max-connections: the idlest one closed to "
         "make room (evicted), or the new one when none was idle (refused).\n"
         "# TYPE livebuy_http_connections_capped_total counter\n"
         "livebuy_http_connections_capped_total{action=\"evicted\"} %llu\n"
         "livebuy_http_connections_capped_total{action=\"refused\"} %llu\n",
         (long long)atomic_load(&connections_open), load(&connections_total), load(&connections_evicted),
         load(&connections_refused));
    emit(&t,
         "# HELP livebuy_http_answers_held_bytes Memory held by answers given to h2o and not yet delivered (clients that "
         "do not read), as counted against the budgets.\n# TYPE livebuy_http_answers_held_bytes gauge\n"
         "livebuy_http_answers_held_bytes %lld\n"
         "# HELP livebuy_http_connections_over_budget_total Connections closed for the memory their undelivered answers "
         "held: over the connection's budget, or the biggest holder when the process was over its own.\n"
         "# TYPE livebuy_http_connections_over_budget_total counter\n"
         "livebuy_http_connections_over_budget_total{budget=\"connection\"} %llu\n"
         "livebuy_http_connections_over_budget_total{budget=\"process\"} %llu\n",
         (long long)atomic_load(&answers_held), load(&connections_over_budget[0]), load(&connections_over_budget[1]));
    emit(&t,
         "# HELP livebuy_memory_purges_total Freed memory the allocator was asked to give back to the system after "
         "clients let go of answers: light while they still did, thorough once they had gone.\n"
         "# TYPE livebuy_memory_purges_total counter\n"
         "livebuy_memory_purges_total{kind=\"light\"} %llu\n"
         "livebuy_memory_purges_total{kind=\"thorough\"} %llu\n",
         load(&memory_purges[0]), load(&memory_purges[1]));
    emit(&t,
         "# HELP livebuy_db_queue_depth Database jobs waiting for a worker.\n# TYPE livebuy_db_queue_depth gauge\n"
         "livebuy_db_queue_depth %lld\n"
         "# HELP livebuy_db_jobs_running Database jobs running on workers.\n# TYPE livebuy_db_jobs_running gauge\n"
         "livebuy_db_jobs_running %lld\n",
         (long long)atomic_load(&db_queued), (long long)atomic_load(&db_running));
    emit(&t, "# HELP livebuy_db_job_wait_seconds Time a database job waited for a worker.\n"
             "# TYPE livebuy_db_job_wait_seconds histogram\n");
    emit_histogram(&t, "livebuy_db_job_wait_seconds", "", &db_wait);
    emit(&t, "# HELP livebuy_db_job_duration_seconds Time from queueing a database job to its result on the loop.\n"
             "# TYPE livebuy_db_job_duration_seconds histogram\n");
    emit_histogram(&t, "livebuy_db_job_duration_seconds", "", &db_total);
    emit(&t, "# HELP livebuy_payments_total Payment notifies, by outcome.\n# TYPE livebuy_payments_total counter\n");
    for (size_t i = 0; i != LB_METRICS_PAYMENT_OUTCOMES; ++i)
        emit(&t, "livebuy_payments_total{outcome=\"%s\"} %llu\n", payment_outcomes[i], load(&payments[i]));
    emit(&t,
         "# HELP livebuy_batches_total Reservation batches run (the orders of one SKU in one transaction).\n"
         "# TYPE livebuy_batches_total counter\nlivebuy_batches_total %llu\n"
         "# HELP livebuy_order_transactions_total Reservation transactions committed, each carrying the batches of one "
         "or more SKUs (batches divided by these: the SKUs a transaction).\n"
         "# TYPE livebuy_order_transactions_total counter\nlivebuy_order_transactions_total %llu\n"
         "# HELP livebuy_batch_requests_total Order requests decided by those batches (divided by batches: the mean "
         "batch size).\n# TYPE livebuy_batch_requests_total counter\nlivebuy_batch_requests_total %llu\n",
         load(&batches), load(&order_transactions), load(&batch_requests));
    emit(&t,
         "# HELP livebuy_orders_dropped_total Order requests left out of every batch because their client had gone (a "
         "reset stream, a closed connection) before a batch took them: they reserved nothing.\n"
         "# TYPE livebuy_orders_dropped_total counter\nlivebuy_orders_dropped_total %llu\n",
         load(&orders_dropped));
    emit(&t,
         "# HELP livebuy_connections_closed_for_resets_total Connections closed for resetting more orders a second than an "
         "honest client would (HTTP/2 Rapid Reset).\n"
         "# TYPE livebuy_connections_closed_for_resets_total counter\nlivebuy_connections_closed_for_resets_total %llu\n",
         load(&reset_closes));
    emit(&t,
         "# HELP livebuy_orders_timed_out_total Order requests answered 503 because no batch took them within the order "
         "deadline (--order-wait-ms): the database did not answer; nothing was reserved.\n"
         "# TYPE livebuy_orders_timed_out_total counter\nlivebuy_orders_timed_out_total %llu\n",
         load(&orders_timed_out));
    emit(&t,
         "# HELP livebuy_calls_waiting Requests other than orders and payments waiting for a database worker (admission: "
         "their jobs leave the order batches a worker).\n"
         "# TYPE livebuy_calls_waiting gauge\nlivebuy_calls_waiting %lld\n"
         "# HELP livebuy_calls_refused_total Requests other than orders and payments answered 503 because too many waited "
         "for a database worker (--max-waiting-calls) or one waited past --order-wait-ms.\n"
         "# TYPE livebuy_calls_refused_total counter\nlivebuy_calls_refused_total %llu\n",
         (long long)atomic_load(&calls_waiting), load(&calls_refused));
    emit(&t,
         "# HELP livebuy_public_cache_hits_total Public GETs answered from the last answer (at most 250 ms old).\n"
         "# TYPE livebuy_public_cache_hits_total counter\nlivebuy_public_cache_hits_total %llu\n",
         load(&public_cache_hits));
    emit(&t,
         "# HELP livebuy_orders_expired_total Unpaid reservations expired and returned to stock.\n"
         "# TYPE livebuy_orders_expired_total counter\nlivebuy_orders_expired_total %llu\n",
         load(&orders_expired));
    emit(&t,
         "# HELP livebuy_order_lookups_total Orders read by id to find their SKU before a payment or cancellation: ones this "
         "process had not made or read, nor their block of the order directory.\n"
         "# TYPE livebuy_order_lookups_total counter\nlivebuy_order_lookups_total %llu\n",
         load(&order_lookups));
    emit(&t,
         "# HELP livebuy_outbox_backlog Shipments waiting to be pushed (pending), counted every 2 s.\n"
         "# TYPE livebuy_outbox_backlog gauge\nlivebuy_outbox_backlog %lld\n",
         (long long)atomic_load(&outbox_backlog));
    emit(&t, "# HELP livebuy_shipping_pushes_total Pushes to the shipping system, by result.\n"
             "# TYPE livebuy_shipping_pushes_total counter\n");
    for (size_t i = 0; i != LB_METRICS_PUSH_RESULTS; ++i)
        emit(&t, "livebuy_shipping_pushes_total{result=\"%s\"} %llu\n", push_results[i], load(&shipping_pushes[i]));
    emit(&t,
         "# HELP livebuy_shipping_dead_letters_total Shipments given up after --shipping-max-attempts pushes.\n"
         "# TYPE livebuy_shipping_dead_letters_total counter\nlivebuy_shipping_dead_letters_total %llu\n",
         load(&shipping_dead_letters));
    emit(&t, "# HELP livebuy_refunds_total Refunds created, by cause.\n# TYPE livebuy_refunds_total counter\n");
    for (size_t i = 0; i != LB_METRICS_REFUND_CAUSES; ++i)
        emit(&t, "livebuy_refunds_total{cause=\"%s\"} %llu\n", refund_causes[i], load(&refunds_created[i]));
    emit(&t, "# HELP livebuy_refund_events_total What happened to refunds: requested, decided by the co-op, confirmed "
             "by the provider, given up, sent again.\n# TYPE livebuy_refund_events_total counter\n");
    for (size_t i = 0; i != LB_METRICS_REFUND_EVENTS; ++i)
        emit(&t, "livebuy_refund_events_total{event=\"%s\"} %llu\n", refund_events_labels[i], load(&refund_events[i]));
    emit(&t,
         "# HELP livebuy_refunds_pending Refunds waiting to be pushed to the payment provider, counted every 2 s.\n"
         "# TYPE livebuy_refunds_pending gauge\nlivebuy_refunds_pending %lld\n",
         (long long)atomic_load(&refunds_pending));
    emit(&t, "# HELP livebuy_refund_pushes_total Refund requests pushed to the payment provider, by result.\n"
             "# TYPE livebuy_refund_pushes_total counter\n");
    for (size_t i = 0; i != LB_METRICS_REFUND_PUSH_RESULTS; ++i)
        emit(&t, "livebuy_refund_pushes_total{result=\"%s\"} %llu\n", refund_push_results[i], load(&refund_pushes[i]));
    emit(&t,
         "# HELP livebuy_sse_viewers Clients streaming a live's stock (GET /v1/lives/{id}/stock) now.\n"
         "# TYPE livebuy_sse_viewers gauge\nlivebuy_sse_viewers %lld\n",
         (long long)atomic_load(&sse_viewers));
    *len = t.len;
    return t.buf;
}
