/*
 * livebuy-load's run: its settings, what it created on the server, its counters and series. Shared by main.c
 * (options, setup, check), scenario.c (the requests of each scenario on the event loop) and report.c (the output).
 */
#ifndef LIVEBUY_LOAD_LOAD_H
#define LIVEBUY_LOAD_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <jansson.h>
#include "arrival.h"
#include "check.h"
#include "h1client.h"
#include "h2client.h"
#include "hist.h"
#include "receiver.h"
#include "verdict.h"
#include "livebuy/base/idmap.h"

typedef enum en_lb_load_scenario_t {
    LB_LOAD_DROP,
    LB_LOAD_MIXED,
    LB_LOAD_HOT,
    LB_LOAD_HEALTHZ_ONLY, /* GET /healthz: the generator's own ceiling */
    LB_LOAD_GROUPBUY,
    LB_LOAD_CATALOG /* orders over --skus SKUs, popularity uniform or Zipf */
} lb_load_scenario_t;
typedef enum en_lb_load_kind_t {
    LB_LOAD_ORDER,
    LB_LOAD_BROWSE_LIVE,
    LB_LOAD_BROWSE_SKU,
    LB_LOAD_PAY,
    LB_LOAD_CANCEL,
    LB_LOAD_HEALTHZ,
    LB_LOAD_REFUND,
    LB_LOAD_NUM_KINDS
} lb_load_kind_t;

extern const char *const lb_load_scenario_names[];
extern const char *const lb_load_kind_names[];

#define LB_LOAD_MAX_CAMPAIGNS 64
#define LB_LOAD_MAX_SKUS      100000

/* The command line. */
typedef struct st_lb_load_options_t {
    const char *url, *admin_token, *buyer_secret, *payment_secret, *json_path, *plot_path, *spike, *shipping_secret;
    unsigned receiver_port;
    double shipping_wait;
    lb_load_scenario_t scenario;
    double rate, duration, ramp, drain;
    size_t concurrency; /* > 0: closed model */
    size_t connections, streams, campaigns;
    size_t skus;        /* catalog: how many SKUs */
    double zipf;        /* catalog: 0 uniform, else the Zipf exponent of the SKUs' popularity */
    double live_share;  /* catalog: share of orders on a SKU with a live item that go through it */
    double join_share;  /* catalog: share of orders on a SKU with a group-buy that join it */
    int64_t buyers, stock, quota, limit;
    double dup_share, pay_share, cancel_share, browse_share, refund_share;
    unsigned pay_delay_ms, max_retries;
    uint64_t seed;
    int check, quiet, dup_after_answer, http1;
    int cleanup; /* take the run's live item off air and retire its product afterwards */
    lb_verdict_threshold_t thresholds[LB_VERDICT_MAX_THRESHOLDS];
    size_t num_thresholds;
    lb_verdict_allow_t allow; /* the statuses the run may get */
} lb_load_options_t;

/* What the setup made through the API (and what the check reads back). */
typedef struct st_lb_load_setup_t {
    lb_h1_target_t target;
    char coop_token[128], host_token[128];
    int64_t coop_id, host_id, product_id, sku_id, live_id, live_item_id, price_cents;
    /* groupbuy: the campaigns, their pickup points and their common cut-off (Unix seconds) */
    lb_check_group_buy_t campaigns[LB_LOAD_MAX_CAMPAIGNS];
    int64_t pickup_points[LB_LOAD_MAX_CAMPAIGNS];
    size_t num_campaigns;
    int64_t closes_at;
    /* catalog: the SKUs by popularity rank, the live item and group-buy on each (0: none), the products, and the
     * popularity CDF */
    int64_t *skus, *sku_live_items, *sku_campaigns, *products;
    size_t num_skus, num_products;
    double *sku_cdf;
} lb_load_setup_t;

/* One second of the run. */
typedef struct st_lb_load_second_t {
    uint64_t offered, done, ok, failed; /* arrivals due; answers; 2xx; network errors and 5xx */
    uint64_t refused;                   /* other answers: 409 sold out or conflict, 422 over the limit, 4xx */
    double span_s;                      /* how long the second was: the last, cut short by the run's end, is less */
    uint64_t p50, p90, p99, max;        /* latency of the answers of this second, microseconds */
} lb_load_second_t;

typedef struct st_lb_load_run_t {
    lb_load_options_t opt;
    lb_load_setup_t setup;
    uv_loop_t *loop;
    lb_h2_client_t *client; /* HTTP/2, or with --http1: */
    lb_h1_client_t *h1;
    lb_arrival_t arrival;
    double next_due; /* seconds from start; negative once the arrivals are over */
    uint64_t start_ns, end_ns, rng;
    double cpu_s; /* the generator's own CPU time (user + system) during the run */
    uv_timer_t tick, progress, deadline;
    int arrivals_over, stopping, client_ready;

    /* the hot path's caches: ops for reuse, "Bearer ..." per buyer id, order bodies per [direct][qty] */
    void *free_ops, *waiting;
    char **tokens;
    size_t num_tokens;
    char **bodies;
    size_t num_bodies;

    uint64_t arrivals, requests_done, retries, ops_alive, unanswered_orders, network_errors, next_buyer, next_key;
    uint64_t status_counts[600];
    lb_verdict_codes_t codes; /* the error codes behind the statuses of 400 and more */
    lb_hist_t latency, service, this_second, by_kind[LB_LOAD_NUM_KINDS];
    uint64_t prev_offered, prev_done, prev_ok, prev_failed, prev_refused, ok, failed, refused, prev_second_ns;
    lb_load_second_t *series;
    size_t num_series, series_cap;

    /* what the check compares with the server's view */
    lb_check_grant_t *grants;
    size_t num_grants, grants_cap;
    int64_t *paid, *cancelled;
    size_t num_paid, paid_cap, num_cancelled, cancelled_cap;
    int64_t *pay_sent, *asked; /* orders a payment notify was sent for; orders a refund request was answered 200 for */
    size_t num_pay_sent, pay_sent_cap, num_asked, asked_cap;
    int64_t *refund_unsure; /* orders whose refund request got no 200 (lost with a restart: it may have been applied) */
    size_t num_refund_unsure, refund_unsure_cap;
    lb_idmap_t followed_up; /* orders that got their payment or cancellation: a duplicate tap's 201 gets none */

    lb_receiver_t *receiver;

    /* the check's outcome */
    json_t *violations;
    size_t orders_seen;
    int check_ran;

    /* the verdict (lb_load_verdict): requests of statuses not allowed (network errors included), and the thresholds */
    uint64_t unexpected;
    double errors, rps;
    double threshold_values[LB_VERDICT_MAX_THRESHOLDS];
    int threshold_ok[LB_VERDICT_MAX_THRESHOLDS], verdict_ran;
} lb_load_run_t;

/* Requests waiting for a free stream or connection. */
size_t lb_load_queued(const lb_load_run_t *run);

/* scenario.c: runs the load on a new loop until every arrival is answered (or the drain time is up). */
int lb_load_scenario_run(lb_load_run_t *run);

/* report.c: the summary on stdout, the JSON file, the HTML page. */
void lb_load_report_print(const lb_load_run_t *run);
int lb_load_report_json(const lb_load_run_t *run, const char *path);
int lb_load_report_html(const lb_load_run_t *run, const char *path);
/* Decides and prints (stderr) whether the run got only allowed statuses and met its thresholds: 0, or 3 (unexpected
 * statuses) or 4 (a threshold breached). */
int lb_load_verdict(lb_load_run_t *run);
/* The progress line on stderr. */
void lb_load_report_progress(const lb_load_run_t *run, const lb_load_second_t *second);

/* Appends to a growing array of elements of size elem. */
void lb_load_push(void **array, size_t *num, size_t *cap, size_t elem, const void *value);

#endif
