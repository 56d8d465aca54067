/*
 * The requests of each scenario on the event loop: arrivals (open model: due times from the arrival profile, checked
 * every millisecond; closed model: the next request as soon as the previous one is answered), retries of 429/503 after
 * Retry-After with the same idempotency key, and the follow-ups of an order (a payment or a cancellation, later).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/token.h"
#include "load.h"

#define RETRY_AFTER_DEFAULT 1 /* seconds, when a 429 or 503 names none */
#define RETRY_AFTER_MAX     5

/* One logical request, with its retries. */
typedef struct st_op_t {
    lb_h2_request_t req;
    lb_load_run_t *run;
    lb_load_kind_t kind;
    int closed_worker; /* in the closed model, its answer starts the next arrival */
    int dup_pending;   /* a duplicate tap follows this order's answer (--dup-after-answer) */
    unsigned attempts;
    uint64_t intended_ns, sent_ns;
    int64_t buyer_id, qty, order_id, amount_cents;
    uint64_t key;
    uv_timer_t timer;
    int timer_used;
    char path[96], auth[192], idem_key[64], timestamp[24], signature[80];
    char *body;
} op_t;

static uint64_t next_random(lb_load_run_t *run)
{
    /* xorshift64*: plenty for choosing actions */
    run->rng ^= run->rng >> 12;
    run->rng ^= run->rng << 25;
    run->rng ^= run->rng >> 27;
    return run->rng * UINT64_C(2685821657736338717);
}

static double uniform(lb_load_run_t *run)
{
    return (double)(next_random(run) >> 11) / (double)(UINT64_C(1) << 53);
}

static void add_header(op_t *op, const char *name, const char *value)
{
    op->req.header_names[op->req.num_headers] = name;
    op->req.header_values[op->req.num_headers++] = value;
}

static void on_answer(lb_h2_request_t *req, int status, const char *body, size_t body_len);

static op_t *op_new(lb_load_run_t *run, lb_load_kind_t kind, uint64_t intended_ns)
{
    op_t *op = lb_calloc(1, sizeof(*op));
    op->run = run;
    op->kind = kind;
    op->intended_ns = intended_ns;
    op->req.path = op->path;
    op->req.method = "GET";
    op->req.on_response = on_answer;
    ++run->ops_alive;
    return op;
}

static void op_freed(uv_handle_t *handle)
{
    free(handle->data);
}

static void op_free(op_t *op)
{
    --op->run->ops_alive;
    lb_h2_request_dispose(&op->req);
    free(op->body);
    if (op->timer_used) {
        op->timer.data = op;
        uv_close((uv_handle_t *)&op->timer, op_freed);
    } else {
        free(op);
    }
}

static void op_send(op_t *op)
{
    ++op->attempts;
    op->sent_ns = uv_hrtime();
    lb_h2_client_submit(op->run->client, &op->req);
}

static void set_body(op_t *op, json_t *body)
{
    op->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    op->req.method = "POST";
    op->req.body = op->body;
    op->req.body_len = strlen(op->body);
    add_header(op, "content-type", "application/json");
}

static void set_buyer(op_t *op, int64_t buyer_id)
{
    char token[160];
    op->buyer_id = buyer_id;
    lb_token_buyer_make(op->run->opt.buyer_secret, buyer_id, lb_now() + 86400, token, sizeof(token));
    snprintf(op->auth, sizeof(op->auth), "Bearer %s", token);
    add_header(op, "authorization", op->auth);
}

/* An order of qty on the live item (or the SKU itself when direct) by buyer, with a fresh idempotency key. */
static op_t *order_new(lb_load_run_t *run, uint64_t intended_ns, int64_t buyer_id, int64_t qty, int direct)
{
    op_t *op = op_new(run, LB_LOAD_ORDER, intended_ns);
    op->qty = qty;
    op->key = ++run->next_key;
    strcpy(op->path, "/v1/orders");
    set_buyer(op, buyer_id);
    snprintf(op->idem_key, sizeof(op->idem_key), "load-%llu", (unsigned long long)op->key);
    add_header(op, "idempotency-key", op->idem_key);
    set_body(op, json_pack("{s:I,s:I,s:{s:s,s:s,s:s}}", direct ? "sku_id" : "live_item_id",
                           (json_int_t)(direct ? run->setup.sku_id : run->setup.live_item_id), "qty", (json_int_t)qty, "ship_to",
                           "name", "王芳", "phone", "13800000000", "address", "山西省长治市武乡县丰州镇"));
    return op;
}

/* A duplicate tap: the same order (same buyer, body and key) sent again at once. */
static op_t *order_copy(const op_t *first)
{
    lb_load_run_t *run = first->run;
    op_t *op = op_new(run, LB_LOAD_ORDER, first->intended_ns);
    op->qty = first->qty;
    op->key = first->key;
    strcpy(op->path, first->path);
    strcpy(op->idem_key, first->idem_key);
    set_buyer(op, first->buyer_id);
    add_header(op, "idempotency-key", op->idem_key);
    op->body = lb_strdup(first->body);
    op->req.method = "POST";
    op->req.body = op->body;
    op->req.body_len = first->req.body_len;
    add_header(op, "content-type", "application/json");
    return op;
}

/* A signed payment notify for an order (the provider's transaction id made from the order id). */
static op_t *pay_new(lb_load_run_t *run, uint64_t intended_ns, int64_t order_id, int64_t amount_cents)
{
    op_t *op = op_new(run, LB_LOAD_PAY, intended_ns);
    char txn[32], hex[65];
    op->order_id = order_id;
    strcpy(op->path, "/v1/payments/notify");
    snprintf(txn, sizeof(txn), "load-txn-%lld", (long long)order_id);
    set_body(op, json_pack("{s:I,s:s,s:I}", "order_id", (json_int_t)order_id, "provider_txn_id", txn, "amount_cents",
                           (json_int_t)amount_cents));
    snprintf(op->timestamp, sizeof(op->timestamp), "%lld", (long long)lb_now());
    lb_token_signature_hex(run->opt.payment_secret, op->timestamp, strlen(op->timestamp), op->body, op->req.body_len, hex);
    snprintf(op->signature, sizeof(op->signature), "sha256=%s", hex);
    add_header(op, "x-livebuy-timestamp", op->timestamp);
    add_header(op, "x-livebuy-signature", op->signature);
    return op;
}

static op_t *cancel_new(lb_load_run_t *run, uint64_t intended_ns, int64_t order_id, int64_t buyer_id)
{
    op_t *op = op_new(run, LB_LOAD_CANCEL, intended_ns);
    op->order_id = order_id;
    snprintf(op->path, sizeof(op->path), "/v1/orders/%lld/cancel", (long long)order_id);
    op->req.method = "POST";
    set_buyer(op, buyer_id);
    return op;
}

static op_t *browse_new(lb_load_run_t *run, uint64_t intended_ns, lb_load_kind_t kind)
{
    op_t *op = op_new(run, kind, intended_ns);
    if (kind == LB_LOAD_BROWSE_LIVE)
        snprintf(op->path, sizeof(op->path), "/v1/lives/%lld", (long long)run->setup.live_id);
    else
        snprintf(op->path, sizeof(op->path), "/v1/skus/%lld", (long long)run->setup.sku_id);
    return op;
}

static int64_t random_qty(lb_load_run_t *run)
{
    return 1 + (int64_t)(next_random(run) % (uint64_t)run->opt.limit);
}

/* The next arrival of the scenario, due at intended_ns; NULL when the scenario has no more (drop: every buyer came). */
static op_t *arrival_new(lb_load_run_t *run, uint64_t intended_ns)
{
    const lb_load_options_t *opt = &run->opt;
    switch (opt->scenario) {
    case LB_LOAD_DROP:
        if ((int64_t)run->next_buyer >= opt->buyers)
            return NULL;
        return order_new(run, intended_ns, (int64_t)++run->next_buyer, random_qty(run), 0);
    case LB_LOAD_HOT:
        return order_new(run, intended_ns, 1 + (int64_t)(run->next_key % (uint64_t)opt->buyers), 1, 1);
    case LB_LOAD_MIXED:
    default: {
        double r = uniform(run);
        if (r < opt->browse_share)
            return browse_new(run, intended_ns, r < opt->browse_share * 0.6 ? LB_LOAD_BROWSE_LIVE : LB_LOAD_BROWSE_SKU);
        int64_t buyer = 1 + (int64_t)(next_random(run) % (uint64_t)opt->buyers);
        return order_new(run, intended_ns, buyer, random_qty(run), uniform(run) < 0.3);
    }
    }
}

static void arrivals_over(lb_load_run_t *run);

/* Starts one arrival (and maybe its duplicate tap); returns 0 when the scenario has no more. */
static int start_arrival(lb_load_run_t *run, uint64_t intended_ns, int closed_worker)
{
    op_t *op = arrival_new(run, intended_ns);
    if (op == NULL)
        return 0;
    ++run->arrivals;
    op->closed_worker = closed_worker;
    /* Copied before sending: a send may be answered (failed) at once, and the answer frees the op. */
    op_t *copy = NULL;
    if (op->kind == LB_LOAD_ORDER && run->opt.dup_share > 0 && uniform(run) < run->opt.dup_share) {
        if (run->opt.dup_after_answer)
            op->dup_pending = 1;
        else
            copy = order_copy(op);
    }
    op_send(op);
    if (copy != NULL)
        op_send(copy);
    return 1;
}

static void on_follow_up_due(uv_timer_t *timer)
{
    op_send(timer->data);
}

/* Sends op after delay_ms; its latency counts from then. */
static void send_later(op_t *op, uint64_t delay_ms)
{
    op->timer_used = 1;
    uv_timer_init(op->run->loop, &op->timer);
    op->timer.data = op;
    uv_timer_start(&op->timer, on_follow_up_due, delay_ms, 0);
}

/* What a 201 for an order leads to: recorded for the check; in mixed, a payment or a cancellation later. */
static void order_granted(op_t *op, const char *body, size_t body_len)
{
    lb_load_run_t *run = op->run;
    json_t *answer = json_loadb(body, body_len, 0, NULL);
    int64_t order_id = answer != NULL ? json_integer_value(json_object_get(answer, "id")) : 0;
    int64_t amount = answer != NULL ? json_integer_value(json_object_get(answer, "amount_cents")) : 0;
    json_decref(answer);
    lb_check_grant_t grant = {op->key, order_id, op->buyer_id, op->qty};
    lb_load_push((void **)&run->grants, &run->num_grants, &run->grants_cap, sizeof(grant), &grant);
    /* A duplicate tap's 201 names the same order, however late it comes: one follow-up per order. */
    if (run->opt.scenario != LB_LOAD_MIXED || run->stopping || order_id <= 0 || lb_idmap_get(&run->followed_up, order_id))
        return;
    lb_idmap_set(&run->followed_up, order_id, run);
    double r = uniform(run);
    uint64_t when = uv_hrtime() + (uint64_t)run->opt.pay_delay_ms * 1000000;
    if (r < run->opt.pay_share)
        send_later(pay_new(run, when, order_id, amount), run->opt.pay_delay_ms);
    else if (r < run->opt.pay_share + run->opt.cancel_share)
        send_later(cancel_new(run, when, order_id, op->buyer_id), run->opt.pay_delay_ms);
}

static void record(op_t *op, int status)
{
    lb_load_run_t *run = op->run;
    uint64_t now = uv_hrtime();
    uint64_t latency = (now - op->intended_ns) / 1000, service = (now - op->sent_ns) / 1000;
    ++run->requests_done;
    lb_hist_record(&run->latency, latency);
    lb_hist_record(&run->this_second, latency);
    lb_hist_record(&run->service, service);
    lb_hist_record(&run->by_kind[op->kind], latency);
    if (status > 0 && status < 600)
        ++run->status_counts[status];
    else
        ++run->network_errors;
    if (status >= 200 && status < 300)
        ++run->ok;
    else if (status < 0 || status >= 500)
        ++run->failed;
}

static void finish_if_done(lb_load_run_t *run);
static void close_series(lb_load_run_t *run);

static void on_answer(lb_h2_request_t *req, int status, const char *body, size_t body_len)
{
    op_t *op = (op_t *)req;
    lb_load_run_t *run = op->run;
    if ((status == 429 || status == 503) && op->attempts <= run->opt.max_retries && !run->stopping) {
        unsigned after = req->retry_after != 0 ? req->retry_after : RETRY_AFTER_DEFAULT;
        ++run->retries;
        if (!op->timer_used) {
            op->timer_used = 1;
            uv_timer_init(run->loop, &op->timer);
            op->timer.data = op;
        }
        uv_timer_start(&op->timer, on_follow_up_due, (after < RETRY_AFTER_MAX ? after : RETRY_AFTER_MAX) * 1000, 0);
        return;
    }
    record(op, status);
    if (op->kind == LB_LOAD_ORDER) {
        if (status == 201)
            order_granted(op, body, body_len);
        else if (status < 0 || status >= 500)
            ++run->unanswered_orders;
    } else if (op->kind == LB_LOAD_PAY && status == 200) {
        json_t *answer = json_loadb(body, body_len, 0, NULL);
        const char *state = json_string_value(json_object_get(answer, "status"));
        if (state != NULL && strcmp(state, "paid") == 0)
            lb_load_push((void **)&run->paid, &run->num_paid, &run->paid_cap, sizeof(int64_t), &op->order_id);
        json_decref(answer);
    } else if (op->kind == LB_LOAD_CANCEL && status == 200) {
        lb_load_push((void **)&run->cancelled, &run->num_cancelled, &run->cancelled_cap, sizeof(int64_t), &op->order_id);
    }
    if (op->dup_pending && !run->stopping) {
        op_t *copy = order_copy(op);
        copy->intended_ns = uv_hrtime();
        op_send(copy);
    }
    int worker = op->closed_worker;
    op_free(op);
    if (worker && !run->arrivals_over && !run->stopping) {
        if ((double)(uv_hrtime() - run->start_ns) / 1e9 >= run->opt.duration || !start_arrival(run, uv_hrtime(), 1))
            arrivals_over(run);
    }
    finish_if_done(run);
}

/* A follow-up or a retry still waiting for its time when the run stops is dropped. */
static void drop_waiting(uv_handle_t *handle, void *arg)
{
    if (handle->type == UV_TIMER && handle->data != arg && uv_is_active(handle)) {
        op_t *op = handle->data;
        if (op->kind == LB_LOAD_ORDER && op->attempts != 0)
            ++op->run->unanswered_orders; /* waiting for a retry: its outcome is unknown */
        op_free(op);
    }
}

static void close_run(lb_load_run_t *run)
{
    if (run->stopping)
        return;
    run->stopping = 1;
    run->end_ns = uv_hrtime();
    close_series(run);
    uv_close((uv_handle_t *)&run->tick, NULL);
    uv_close((uv_handle_t *)&run->progress, NULL);
    uv_close((uv_handle_t *)&run->deadline, NULL);
    uv_walk(run->loop, drop_waiting, run);
    lb_h2_client_close(run->client);
}

static void finish_if_done(lb_load_run_t *run)
{
    if (run->arrivals_over && run->ops_alive == 0)
        close_run(run);
}

static void on_deadline(uv_timer_t *timer)
{
    lb_load_run_t *run = timer->data;
    fprintf(stderr, "livebuy-load: %llu requests still open after the drain time; giving up on them\n",
            (unsigned long long)run->ops_alive);
    close_run(run);
}

static void arrivals_over(lb_load_run_t *run)
{
    if (run->arrivals_over)
        return;
    run->arrivals_over = 1;
    uv_timer_stop(&run->tick);
    uv_timer_start(&run->deadline, on_deadline, (uint64_t)(run->opt.drain * 1000), 0);
}

/* Open model: every millisecond, start the arrivals that are due (each keeps its own due time). */
static void on_tick(uv_timer_t *timer)
{
    lb_load_run_t *run = timer->data;
    double now = (double)(uv_hrtime() - run->start_ns) / 1e9;
    while (run->next_due >= 0 && run->next_due <= now) {
        if (!start_arrival(run, run->start_ns + (uint64_t)(run->next_due * 1e9), 0)) {
            run->next_due = -1;
            break;
        }
        run->next_due = lb_arrival_next(&run->arrival);
    }
    if (run->next_due < 0) {
        arrivals_over(run);
        finish_if_done(run);
    }
}

static void on_progress(uv_timer_t *timer);

/* The last, partial second of the run, when it saw anything. */
static void close_series(lb_load_run_t *run)
{
    if (run->client_ready && (run->requests_done != run->prev_done || run->arrivals != run->prev_offered))
        on_progress(&run->progress);
}

static void on_progress(uv_timer_t *timer)
{
    lb_load_run_t *run = timer->data;
    lb_load_second_t second = {
        .offered = run->arrivals - run->prev_offered,
        .done = run->requests_done - run->prev_done,
        .ok = run->ok - run->prev_ok,
        .failed = run->failed - run->prev_failed,
        .p50 = lb_hist_percentile(&run->this_second, 50),
        .p90 = lb_hist_percentile(&run->this_second, 90),
        .p99 = lb_hist_percentile(&run->this_second, 99),
        .max = run->this_second.max,
    };
    run->prev_offered = run->arrivals;
    run->prev_done = run->requests_done;
    run->prev_ok = run->ok;
    run->prev_failed = run->failed;
    lb_hist_reset(&run->this_second);
    lb_load_push((void **)&run->series, &run->num_series, &run->series_cap, sizeof(second), &second);
    if (!run->opt.quiet)
        lb_load_report_progress(run, &second);
}

static void on_ready(lb_h2_client_t *client, int ok)
{
    lb_load_run_t *run = lb_h2_client_data(client);
    if (!ok) {
        fprintf(stderr, "livebuy-load: no connection to %s:%s\n", run->setup.target.host, run->setup.target.port);
        run->arrivals_over = 1;
        close_run(run);
        return;
    }
    run->client_ready = 1;
    run->start_ns = uv_hrtime();
    uv_timer_start(&run->progress, on_progress, 1000, 1000);
    if (run->opt.concurrency > 0) {
        size_t started = 0;
        while (started < run->opt.concurrency && start_arrival(run, uv_hrtime(), 1))
            ++started;
        if (started == 0)
            arrivals_over(run);
    } else {
        run->next_due = lb_arrival_next(&run->arrival);
        uv_timer_start(&run->tick, on_tick, 0, 1);
    }
    finish_if_done(run);
}

static void close_leftover(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

int lb_load_scenario_run(lb_load_run_t *run)
{
    uv_loop_t loop;
    char err[256];
    uv_loop_init(&loop);
    run->loop = &loop;
    run->rng = run->opt.seed != 0 ? run->opt.seed : 0x9e3779b97f4a7c15u;
    lb_hist_reset(&run->latency);
    lb_hist_reset(&run->service);
    lb_hist_reset(&run->this_second);
    for (size_t i = 0; i != LB_LOAD_NUM_KINDS; ++i)
        lb_hist_reset(&run->by_kind[i]);
    if (run->opt.concurrency == 0 &&
        lb_arrival_init(&run->arrival, run->opt.rate, run->opt.duration, run->opt.ramp, run->opt.spike, err, sizeof(err)) != 0) {
        fprintf(stderr, "livebuy-load: %s\n", err);
        return -1;
    }
    uv_timer_init(&loop, &run->tick);
    uv_timer_init(&loop, &run->progress);
    uv_timer_init(&loop, &run->deadline);
    run->tick.data = run->progress.data = run->deadline.data = run;
    run->client = lb_h2_client_new(&loop, run->setup.target.host, run->setup.target.port, run->opt.connections, run->opt.streams,
                                   on_ready, run);
    if (run->client == NULL)
        return -1;
    uv_run(&loop, UV_RUN_DEFAULT);
    if (run->end_ns == 0)
        run->end_ns = uv_hrtime();
    uv_walk(&loop, close_leftover, run);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return run->client_ready ? 0 : -1;
}
