/* Process-wide counters and histograms, updated from any thread (atomics), rendered as Prometheus text for /metrics. */
#ifndef LIVEBUY_METRICS_H
#define LIVEBUY_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Names the routes (labels of the request metrics); labels[i] must live as long as the process. At most 64. */
void lb_metrics_init(const char *const *route_labels, size_t num_routes);

/* Names the outcomes of order requests (labels of livebuy_orders_total), indexed by outcome; NULL: not shown. At most 24. */
void lb_metrics_init_orders(const char *const *outcome_labels, size_t n);
/* One order request decided (or refused before a batch) with outcome, an index of those labels. */
void lb_metrics_order(unsigned outcome);
/* The labels of livebuy_build_info (set once at start, before /metrics is served). */
void lb_metrics_build_info(const char *version, const char *h2o_version, const char *libuv_version);
/* Whether the database answered (1) or not (0), as a worker last found it opening or using its connection. */
void lb_metrics_database_up(int up);

/* The label of a route (what lb_metrics_init was given). */
const char *lb_metrics_route_label(size_t route);

/* One answered request: its route index, HTTP status and time from the request's start to the answer. */
void lb_metrics_request(size_t route, int status, uint64_t latency_ns);
/* HTTP connections accepted (+1) and closed (-1). */
void lb_metrics_connection(int delta);
/* A connection closed at the connection cap: the idlest one to make room (evicted), or the new one (refused). */
void lb_metrics_connection_capped(int evicted);
/* A connection closed for the memory its answers held: over its own budget (process 0) or the process's (1). */
void lb_metrics_connection_over_budget(int process);
/* Freed memory the allocator was asked to give back to the system: while clients let go (thorough 0), or once gone. */
void lb_metrics_memory_purge(int thorough);
/* Bytes held by answers not yet delivered, up or down. */
void lb_metrics_answers_held(int64_t delta);
/* A database job queued; started on a worker after waiting wait_ns; done total_ns after it was queued. */
void lb_metrics_db_queued(void);
void lb_metrics_db_started(uint64_t wait_ns);
void lb_metrics_db_done(uint64_t total_ns);

/* Payment notifies by outcome (the label of livebuy_payments_total). */
typedef enum en_lb_metrics_payment_t {
    LB_METRICS_PAYMENT_APPLIED,
    LB_METRICS_PAYMENT_REPLAYED,
    LB_METRICS_PAYMENT_REFUND_REQUIRED,
    LB_METRICS_PAYMENT_REJECTED, /* bad signature, malformed or wrong amount, unknown order */
    LB_METRICS_PAYMENT_OUTCOMES
} lb_metrics_payment_t;
void lb_metrics_payment(lb_metrics_payment_t outcome);
/* Reservations the expiry sweeper expired (their units returned). */
void lb_metrics_orders_expired(uint64_t n);
/* An order read by id to find its SKU (lb_sku_action_submit: its block unknown to this process). */
void lb_metrics_order_lookup(void);
/* A reservation batch decided requests order requests. */
void lb_metrics_batch(uint64_t requests);
/* A reservation transaction (the batches of one or more SKUs) committed. */
void lb_metrics_order_transaction(void);
/* Calls waiting for admission to the database pool (lb_call_job_submit): +1 or -1; one answered 503 there. */
void lb_metrics_calls_waiting(int delta);
void lb_metrics_call_refused(void);
/* Order requests answered 503 because no batch took them within the order deadline (--order-wait-ms). */
void lb_metrics_orders_timed_out(uint64_t n);
/* A connection closed for resetting orders as an attack does (livebuy/order/fairness.h). */
void lb_metrics_connection_closed_for_resets(void);
/* Order requests whose client had gone (stream reset, connection closed) before a batch took them: never worked. */
void lb_metrics_orders_dropped(uint64_t n);
/* A public GET answered from the public answer cache (server/http/call.c). */
void lb_metrics_public_cache_hit(void);

/* The shipping outbox (server/jobs/dispatcher.c): pending shipments as last counted (server/jobs/backlogs.c), pushes by result, dead letters. */
typedef enum en_lb_metrics_push_t { LB_METRICS_PUSH_ACKED, LB_METRICS_PUSH_FAILED, LB_METRICS_PUSH_RESULTS } lb_metrics_push_t;
void lb_metrics_outbox_backlog(int64_t pending);
void lb_metrics_shipping_push(lb_metrics_push_t result);
void lb_metrics_shipping_dead_letter(void);

/* The refund outbox (server/jobs/refund_push.c): pending refunds as last counted (server/jobs/backlogs.c), pushes by result. */
typedef enum en_lb_metrics_refund_push_t {
    LB_METRICS_REFUND_PUSH_SENT,    /* a 2xx answer: the provider took it */
    LB_METRICS_REFUND_PUSH_REFUSED, /* a 4xx (but 408, 429): refused for good, the refund failed */
    LB_METRICS_REFUND_PUSH_FAILED,  /* no answer or another one: to be retried (or dead) */
    LB_METRICS_REFUND_PUSH_RESULTS
} lb_metrics_refund_push_t;
void lb_metrics_refunds_pending(int64_t pending);
void lb_metrics_refund_push(lb_metrics_refund_push_t result);
/* Refunds (server/order/refund.c): created, by cause (livebuy_refunds_total), and what happened to them since
 * (livebuy_refund_events_total). Counted after the transaction that decided them committed. */
typedef enum en_lb_metrics_refund_cause_t {
    LB_METRICS_REFUND_BUYER,
    LB_METRICS_REFUND_LATE_PAYMENT,
    LB_METRICS_REFUND_PAID_TWICE,
    LB_METRICS_REFUND_CAMPAIGN_FAILED,
    LB_METRICS_REFUND_CAUSES
} lb_metrics_refund_cause_t;
void lb_metrics_refund_created(lb_metrics_refund_cause_t cause);
typedef enum en_lb_metrics_refund_event_t {
    LB_METRICS_REFUND_REQUESTED,
    LB_METRICS_REFUND_APPROVED,
    LB_METRICS_REFUND_REJECTED,
    LB_METRICS_REFUND_REFUNDED,
    LB_METRICS_REFUND_FAILED,
    LB_METRICS_REFUND_DEAD,
    LB_METRICS_REFUND_RETRIED,
    LB_METRICS_REFUND_EVENTS
} lb_metrics_refund_event_t;
void lb_metrics_refund_event(lb_metrics_refund_event_t event);

/* Viewers of the live stock stream (server/feed/stock_feed.c): +1 when a stream starts, -1 when it ends. */
void lb_metrics_sse_viewers(int delta);

/* The whole exposition text; malloc'd, the caller frees it. */
char *lb_metrics_render(size_t *len);

#endif
