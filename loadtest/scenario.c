/*
 * The requests of each scenario on the event loop: arrivals (open model: due times from the arrival profile, checked
 * every millisecond; closed model: the next request as soon as the previous one is answered), retries of 429/503 after
 * Retry-After and of requests whose connection broke, with the same idempotency key, and the follow-ups of an order (a
 * payment or a cancellation, later).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "livebuy/common.h"
#include "livebuy/base/token.h"
#include "load.h"

#define RETRY_AFTER_DEFAULT 1 /* seconds, when a 429 or 503 names none */
#define RETRY_AFTER_MAX     5

/* One logical request, with its retries. Ops are reused (run->free_ops): the hot path allocates nothing. */
typedef struct st_op_t {
    lb_h2_request_t req;
    lb_load_run_t *run;
    struct st_op_t *next_free;
    struct st_op_timer_t *timer; /* waiting for a retry or a follow-up */
    lb_load_kind_t kind;
    int closed_worker; /* in the closed model, its answer starts the next arrival */
    int dup_pending;   /* a duplicate tap follows this order's answer (--dup-after-answer) */
    unsigned attempts;
    uint64_t intended_ns, sent_ns;
    int64_t buyer_id, qty, order_id, amount_cents, group_buy;
    uint64_t key;
    char path[64], auth[192], idem_key[32], timestamp[24], signature[80], body[192];
} op_t;

/* A timer for an op that waits (a retry after Retry-After, a payment or cancellation later), in run->waiting. */
typedef struct st_op_timer_t {
    uv_timer_t timer;
    op_t *op;
    struct st_op_timer_t *prev, *next;
} op_timer_t;

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

static void add_header(op_t *op, const char *name, const char *value, int per_request)
{
    if (per_request)
        op->req.header_no_index |= 1u << op->req.num_headers;
    op->req.header_names[op->req.num_headers] = name;
    op->req.header_values[op->req.num_headers++] = value;
}

/* Writes v in decimal at out (NUL-terminated); returns the length. */
static size_t put_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (size_t i = 0; i != n; ++i)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

static void on_answer(lb_h2_request_t *req, int status, const char *body, size_t body_len);

static op_t *op_new(lb_load_run_t *run, lb_load_kind_t kind, uint64_t intended_ns)
{
    op_t *op = run->free_ops;
    if (op != NULL) {
        run->free_ops = op->next_free;
        /* keep the answer buffer; clear the rest */
        char *answer = op->req.answer;
        size_t cap = op->req.answer_cap;
        memset(op, 0, offsetof(op_t, path));
        op->path[0] = op->body[0] = '\0';
        op->req.answer = answer;
        op->req.answer_cap = cap;
    } else {
        op = lb_calloc(1, sizeof(*op));
    }
    op->run = run;
    op->kind = kind;
    op->intended_ns = intended_ns;
    op->req.path = op->path;
    op->req.method = "GET";
    op->req.on_response = on_answer;
    ++run->ops_alive;
    return op;
}

static void op_free(op_t *op)
{
    lb_load_run_t *run = op->run;
    --run->ops_alive;
    op->next_free = run->free_ops;
    run->free_ops = op;
}

/* Frees the ops kept for reuse (at the end of the run). */
static void free_ops(lb_load_run_t *run)
{
    while (run->free_ops != NULL) {
        op_t *op = run->free_ops;
        run->free_ops = op->next_free;
        lb_h2_request_dispose(&op->req);
        free(op);
    }
}

static void op_send(op_t *op)
{
    ++op->attempts;
    /* a first send right when it is due (closed model) need not read the clock again */
    int follow_up = op->kind == LB_LOAD_PAY || op->kind == LB_LOAD_CANCEL || op->kind == LB_LOAD_REFUND;
    op->sent_ns = op->attempts == 1 && !follow_up && op->run->opt.concurrency > 0
                      ? op->intended_ns
                      : uv_hrtime();
    if (op->run->h1 != NULL)
        lb_h1_client_submit(op->run->h1, &op->req);
    else
        lb_h2_client_submit(op->run->client, &op->req);
}

static void set_body(op_t *op, const char *body, size_t len)
{
    op->req.method = "POST";
    op->req.body = body;
    op->req.body_len = len;
    add_header(op, "content-type", "application/json", 0);
}

/* "Bearer <token>" for a buyer: minted once per buyer and kept (buyer ids up to 4M), else minted into the op. */
#define MAX_CACHED_BUYERS (4u << 20)

/* The cached "Bearer <token>" of a buyer (minted on first use). */
static const char *buyer_auth(lb_load_run_t *run, int64_t buyer_id)
{
    if ((size_t)buyer_id >= run->num_tokens) {
        size_t n = run->num_tokens != 0 ? run->num_tokens : 1024;
        while (n <= (size_t)buyer_id)
            n *= 2;
        run->tokens = lb_realloc(run->tokens, n * sizeof(*run->tokens));
        memset(run->tokens + run->num_tokens, 0, (n - run->num_tokens) * sizeof(*run->tokens));
        run->num_tokens = n;
    }
    if (run->tokens[buyer_id] == NULL) {
        char token[160], auth[192];
        lb_token_buyer_make(run->opt.buyer_secret, buyer_id, lb_now() + 86400, token, sizeof(token));
        snprintf(auth, sizeof(auth), "Bearer %s", token);
        run->tokens[buyer_id] = lb_strdup(auth);
    }
    return run->tokens[buyer_id];
}

static void set_buyer(op_t *op, int64_t buyer_id)
{
    lb_load_run_t *run = op->run;
    op->buyer_id = buyer_id;
    if (buyer_id > 0 && (uint64_t)buyer_id < MAX_CACHED_BUYERS) {
        add_header(op, "authorization", buyer_auth(run, buyer_id), 1);
        return;
    }
    char token[160];
    lb_token_buyer_make(run->opt.buyer_secret, buyer_id, lb_now() + 86400, token, sizeof(token));
    snprintf(op->auth, sizeof(op->auth), "Bearer %s", token);
    add_header(op, "authorization", op->auth, 1);
}

#define SHIP_TO "\"ship_to\":{\"name\":\"王芳\",\"phone\":\"13800000000\",\"address\":\"山西省长治市武乡县丰州镇\"}"

/* The SKU of popularity rank sku (catalog; else the run's one SKU) and its live item (0: none). */
static int64_t sku_of(const lb_load_run_t *run, size_t sku)
{
    return run->setup.skus != NULL ? run->setup.skus[sku] : run->setup.sku_id;
}

static int64_t live_item_of(const lb_load_run_t *run, size_t sku)
{
    return run->setup.sku_live_items != NULL ? run->setup.sku_live_items[sku] : run->setup.live_item_id;
}

/*
 * The body of an order of qty on the live item of the SKU of rank sku (or on the SKU itself when direct): the same bytes
 * every time, built once.
 */
static const char *order_body(lb_load_run_t *run, size_t sku, int direct, int64_t qty)
{
    size_t limit = (size_t)run->opt.limit, i = (sku * 2 + (size_t)direct) * limit + (size_t)(qty - 1);
    if (run->bodies == NULL) {
        run->num_bodies = 2 * limit * (run->setup.num_skus != 0 ? run->setup.num_skus : 1);
        run->bodies = lb_calloc(run->num_bodies, sizeof(*run->bodies));
    }
    if (run->bodies[i] == NULL) {
        char body[256];
        snprintf(body, sizeof(body), "{\"%s\":%lld,\"qty\":%lld," SHIP_TO "}", direct ? "sku_id" : "live_item_id",
                 (long long)(direct ? sku_of(run, sku) : live_item_of(run, sku)), (long long)qty);
        run->bodies[i] = lb_strdup(body);
    }
    return run->bodies[i];
}

static void set_key(op_t *op)
{
    memcpy(op->idem_key, "load-", 5);
    put_u64(op->idem_key + 5, op->key);
    add_header(op, "idempotency-key", op->idem_key, 1);
}

/*
 * An order of qty on the live item of the SKU of rank sku (or the SKU itself when direct) by buyer, with a fresh
 * idempotency key.
 */
static op_t *order_new(lb_load_run_t *run, uint64_t intended_ns, int64_t buyer_id, int64_t qty, size_t sku, int direct)
{
    op_t *op = op_new(run, LB_LOAD_ORDER, intended_ns);
    op->qty = qty;
    op->key = ++run->next_key;
    memcpy(op->path, "/v1/orders", sizeof("/v1/orders"));
    set_buyer(op, buyer_id);
    set_key(op);
    const char *body = order_body(run, sku, direct, qty);
    set_body(op, body, strlen(body));
    return op;
}

/* A duplicate tap: the same order (same buyer, body and key) sent again at once. */
static op_t *order_copy(const op_t *first)
{
    lb_load_run_t *run = first->run;
    op_t *op = op_new(run, LB_LOAD_ORDER, first->intended_ns);
    op->qty = first->qty;
    op->key = first->key;
    op->group_buy = first->group_buy;
    strcpy(op->path, first->path);
    set_buyer(op, first->buyer_id);
    set_key(op);
    if (first->req.body == first->body) {
        memcpy(op->body, first->body, sizeof(op->body));
        set_body(op, op->body, first->req.body_len);
    } else {
        set_body(op, first->req.body, first->req.body_len);
    }
    return op;
}

/*
 * A signed payment notify for buyer's order (the provider's transaction id made from the order id: one payment per
 * order, whatever the retries).
 */
static op_t *pay_new(lb_load_run_t *run, uint64_t intended_ns, int64_t order_id, int64_t amount_cents, int64_t buyer_id)
{
    op_t *op = op_new(run, LB_LOAD_PAY, intended_ns);
    char hex[65];
    op->order_id = order_id;
    op->buyer_id = buyer_id; /* who may ask for the money back (mixed: --refund-share) */
    lb_load_push((void **)&run->pay_sent, &run->num_pay_sent, &run->pay_sent_cap, sizeof(int64_t), &order_id);
    strcpy(op->path, "/v1/payments/notify");
    int len =
        snprintf(op->body, sizeof(op->body), "{\"order_id\":%lld,\"provider_txn_id\":\"load-txn-%lld\",\"amount_cents\":%lld}",
                 (long long)order_id, (long long)order_id, (long long)amount_cents);
    set_body(op, op->body, (size_t)len);
    snprintf(op->timestamp, sizeof(op->timestamp), "%lld", (long long)lb_now());
    lb_token_signature_hex(run->opt.payment_secret, op->timestamp, strlen(op->timestamp), op->body, op->req.body_len, hex);
    snprintf(op->signature, sizeof(op->signature), "sha256=%s", hex);
    add_header(op, "x-livebuy-timestamp", op->timestamp, 0);
    add_header(op, "x-livebuy-signature", op->signature, 1);
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

/* The buyer asks for the money of a paid order back (POST /v1/orders/{id}/refund). */
static op_t *refund_new(lb_load_run_t *run, uint64_t intended_ns, int64_t order_id, int64_t buyer_id)
{
    static const char body[] = "{\"reason\":\"不想要了\"}";
    op_t *op = op_new(run, LB_LOAD_REFUND, intended_ns);
    op->order_id = order_id;
    snprintf(op->path, sizeof(op->path), "/v1/orders/%lld/refund", (long long)order_id);
    set_buyer(op, buyer_id);
    set_body(op, body, sizeof(body) - 1);
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

/* buyer joins group-buy campaign for 1..--limit units, with a fresh idempotency key. */
static op_t *join_new(lb_load_run_t *run, uint64_t intended_ns, int64_t buyer, int64_t campaign)
{
    op_t *op = op_new(run, LB_LOAD_ORDER, intended_ns);
    op->qty = random_qty(run);
    op->key = ++run->next_key;
    op->group_buy = campaign;
    memcpy(op->path, "/v1/orders", sizeof("/v1/orders"));
    set_buyer(op, buyer);
    set_key(op);
    int len = snprintf(op->body, sizeof(op->body), "{\"group_buy_id\":%lld,\"qty\":%lld}", (long long)campaign, (long long)op->qty);
    set_body(op, op->body, (size_t)len);
    return op;
}

/* A SKU's popularity rank: uniform, or from the Zipf CDF by binary search (the first rank whose CDF passes a uniform draw). */
static size_t random_sku(lb_load_run_t *run)
{
    const lb_load_setup_t *s = &run->setup;
    if (s->sku_cdf == NULL)
        return (size_t)(next_random(run) % s->num_skus);
    double u = uniform(run) * s->sku_cdf[s->num_skus - 1];
    size_t lo = 0, hi = s->num_skus - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->sku_cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The next arrival of the scenario, due at intended_ns; NULL when the scenario has no more (drop: every buyer came). */
static op_t *arrival_new(lb_load_run_t *run, uint64_t intended_ns)
{
    const lb_load_options_t *opt = &run->opt;
    switch (opt->scenario) {
    case LB_LOAD_DROP:
        if ((int64_t)run->next_buyer >= opt->buyers)
            return NULL;
        return order_new(run, intended_ns, (int64_t)++run->next_buyer, random_qty(run), 0, 0);
    case LB_LOAD_HOT:
        return order_new(run, intended_ns, 1 + (int64_t)(run->next_key % (uint64_t)opt->buyers), 1, 0, 1);
    case LB_LOAD_GROUPBUY: {
        int64_t buyer = 1 + (int64_t)(next_random(run) % (uint64_t)opt->buyers);
        const lb_check_group_buy_t *gb = &run->setup.campaigns[next_random(run) % run->setup.num_campaigns];
        return join_new(run, intended_ns, buyer, gb->id);
    }
    case LB_LOAD_CATALOG: {
        /* a SKU by popularity; a join of its group-buy for --join-share of the orders, through its live item for
         * --live-share (when it has them) */
        size_t sku = random_sku(run);
        int64_t buyer = 1 + (int64_t)(next_random(run) % (uint64_t)opt->buyers), campaign = run->setup.sku_campaigns[sku];
        if (campaign != 0 && uniform(run) < opt->join_share)
            return join_new(run, intended_ns, buyer, campaign);
        int direct = live_item_of(run, sku) == 0 || uniform(run) >= opt->live_share;
        return order_new(run, intended_ns, buyer, random_qty(run), sku, direct);
    }
    case LB_LOAD_HEALTHZ_ONLY: {
        op_t *op = op_new(run, LB_LOAD_HEALTHZ, intended_ns);
        memcpy(op->path, "/healthz", sizeof("/healthz"));
        return op;
    }
    case LB_LOAD_MIXED:
    default: {
        double r = uniform(run);
        if (r < opt->browse_share)
            return browse_new(run, intended_ns, r < opt->browse_share * 0.6 ? LB_LOAD_BROWSE_LIVE : LB_LOAD_BROWSE_SKU);
        int64_t buyer = 1 + (int64_t)(next_random(run) % (uint64_t)opt->buyers);
        return order_new(run, intended_ns, buyer, random_qty(run), 0, uniform(run) < 0.3);
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

static void timer_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* Takes op's timer off the waiting list and closes it. */
static void unwait(op_t *op)
{
    op_timer_t *t = op->timer;
    lb_load_run_t *run = op->run;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        run->waiting = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    op->timer = NULL;
    t->timer.data = t;
    uv_close((uv_handle_t *)&t->timer, timer_closed);
}

static void on_follow_up_due(uv_timer_t *timer)
{
    op_t *op = ((op_timer_t *)timer->data)->op;
    unwait(op);
    op_send(op);
}

/* Sends op after delay_ms (a follow-up: its latency counts from then; a retry: from its first intended time). */
static void send_later(op_t *op, uint64_t delay_ms)
{
    lb_load_run_t *run = op->run;
    op_timer_t *t = lb_calloc(1, sizeof(*t));
    t->op = op;
    t->next = run->waiting;
    if (t->next != NULL)
        t->next->prev = t;
    run->waiting = t;
    op->timer = t;
    uv_timer_init(run->loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, on_follow_up_due, delay_ms, 0);
}

/* The integer after "key": in a JSON answer (the server's own, compact); 0 when absent. */
static int64_t json_int_after(const char *body, size_t len, const char *key)
{
    size_t klen = strlen(key);
    const char *p = memmem(body, len, key, klen);
    if (p == NULL)
        return 0;
    p += klen;
    int64_t v = 0;
    for (const char *end = body + len; p != end && *p >= '0' && *p <= '9'; ++p)
        v = v * 10 + (*p - '0');
    return v;
}

/* What a 201 for an order leads to: recorded for the check; in mixed, a payment or a cancellation later. */
static void order_granted(op_t *op, const char *body, size_t body_len)
{
    lb_load_run_t *run = op->run;
    /* {"id":N,"status":"reserved",...,"amount_cents":A,...}: the first "id" is the order's */
    int64_t order_id = json_int_after(body, body_len, "\"id\":"), amount = json_int_after(body, body_len, "\"amount_cents\":");
    lb_check_grant_t grant = {op->key, order_id, op->buyer_id, op->qty};
    lb_load_push((void **)&run->grants, &run->num_grants, &run->grants_cap, sizeof(grant), &grant);
    /* A duplicate tap's 201 names the same order, however late it comes: one follow-up per order. */
    lb_load_scenario_t scenario = run->opt.scenario;
    if ((scenario != LB_LOAD_MIXED && scenario != LB_LOAD_GROUPBUY && scenario != LB_LOAD_CATALOG) || run->stopping ||
        order_id <= 0 ||
        lb_idmap_get(&run->followed_up, order_id))
        return;
    lb_idmap_set(&run->followed_up, order_id, run);
    double r = uniform(run);
    uint64_t when = uv_hrtime() + (uint64_t)run->opt.pay_delay_ms * 1000000;
    /* A join is paid only well before its campaign's cut-off: a payment racing the closer has no single right outcome. */
    if (op->group_buy != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + run->opt.pay_delay_ms / 1000.0 + 1.0 > (double)run->setup.closes_at)
            return;
    }
    if (r < run->opt.pay_share)
        send_later(pay_new(run, when, order_id, amount, op->buyer_id), run->opt.pay_delay_ms);
    else if (r < run->opt.pay_share + run->opt.cancel_share && op->group_buy == 0) /* a join is not cancelled */
        send_later(cancel_new(run, when, order_id, op->buyer_id), run->opt.pay_delay_ms);
}

/*
 * Microseconds from since to now; 0 when since is later. A follow-up (a payment or cancellation) is due at a time read
 * from the clock, but its libuv timer counts from the loop's cached time, which lags the clock: the timer may fire, and
 * the answer come, up to a millisecond before the time it was due (the unsigned difference was then a max of 1.8e13 ms).
 */
static uint64_t elapsed_us(uint64_t now, uint64_t since)
{
    return now > since ? (now - since) / 1000 : 0;
}

static void record(op_t *op, int status, uint64_t now)
{
    lb_load_run_t *run = op->run;
    uint64_t latency = elapsed_us(now, op->intended_ns), service = elapsed_us(now, op->sent_ns);
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
    else
        ++run->refused;
}

static void finish_if_done(lb_load_run_t *run);
static void close_series(lb_load_run_t *run);

static void on_answer(lb_h2_request_t *req, int status, const char *body, size_t body_len)
{
    op_t *op = (op_t *)req;
    lb_load_run_t *run = op->run;
    /* Busy, database down, or a connection lost on the way (a server restarting): again later, with the same key. */
    if ((status == 429 || status == 503 || status < 0) && op->attempts <= run->opt.max_retries && !run->stopping) {
        unsigned after = req->retry_after != 0 ? req->retry_after : RETRY_AFTER_DEFAULT;
        ++run->retries;
        send_later(op, (after < RETRY_AFTER_MAX ? after : RETRY_AFTER_MAX) * 1000);
        return;
    }
    uint64_t now = uv_hrtime();
    record(op, status, now);
    if (status >= 400)
        lb_verdict_codes_count(&run->codes, status, body, body_len);
    if (op->kind == LB_LOAD_ORDER) {
        if (status == 201)
            order_granted(op, body, body_len);
        else if (status < 0 || status >= 500)
            ++run->unanswered_orders;
    } else if (op->kind == LB_LOAD_PAY && status == 200) {
        json_t *answer = json_loadb(body, body_len, 0, NULL);
        const char *state = json_string_value(json_object_get(answer, "status"));
        if (state != NULL && strcmp(state, "paid") == 0) {
            lb_load_push((void **)&run->paid, &run->num_paid, &run->paid_cap, sizeof(int64_t), &op->order_id);
            /* mixed: a share of the buyers who paid ask for their money back, a while later */
            if (run->opt.scenario == LB_LOAD_MIXED && !run->stopping && uniform(run) < run->opt.refund_share)
                send_later(refund_new(run, uv_hrtime() + (uint64_t)run->opt.pay_delay_ms * 1000000, op->order_id, op->buyer_id),
                           run->opt.pay_delay_ms);
        }
        json_decref(answer);
    } else if (op->kind == LB_LOAD_CANCEL && status == 200) {
        lb_load_push((void **)&run->cancelled, &run->num_cancelled, &run->cancelled_cap, sizeof(int64_t), &op->order_id);
    } else if (op->kind == LB_LOAD_REFUND && status == 200) {
        lb_load_push((void **)&run->asked, &run->num_asked, &run->asked_cap, sizeof(int64_t), &op->order_id);
    } else if (op->kind == LB_LOAD_REFUND) {
        lb_load_push((void **)&run->refund_unsure, &run->num_refund_unsure, &run->refund_unsure_cap, sizeof(int64_t),
                     &op->order_id);
    }
    if (op->dup_pending && !run->stopping) {
        op_t *copy = order_copy(op);
        copy->intended_ns = uv_hrtime();
        op_send(copy);
    }
    int worker = op->closed_worker;
    op_free(op);
    if (worker && !run->arrivals_over && !run->stopping) {
        if ((double)(now - run->start_ns) / 1e9 >= run->opt.duration || !start_arrival(run, now, 1))
            arrivals_over(run);
    }
    finish_if_done(run);
}

/* A follow-up or a retry still waiting for its time when the run stops is dropped. */
static void drop_waiting(lb_load_run_t *run)
{
    while (run->waiting != NULL) {
        op_t *op = ((op_timer_t *)run->waiting)->op;
        if (op->kind == LB_LOAD_ORDER && op->attempts != 0)
            ++run->unanswered_orders; /* waiting for a retry: its outcome is unknown */
        unwait(op);
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
    drop_waiting(run);
    if (run->h1 != NULL)
        lb_h1_client_close(run->h1);
    else
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
    uint64_t now = uv_hrtime(), since = run->prev_second_ns != 0 ? run->prev_second_ns : run->start_ns;
    lb_load_second_t second = {
        .offered = run->arrivals - run->prev_offered,
        .done = run->requests_done - run->prev_done,
        .ok = run->ok - run->prev_ok,
        .failed = run->failed - run->prev_failed,
        .refused = run->refused - run->prev_refused,
        .span_s = now > since ? (double)(now - since) / 1e9 : 0,
        .p50 = lb_hist_percentile(&run->this_second, 50),
        .p90 = lb_hist_percentile(&run->this_second, 90),
        .p99 = lb_hist_percentile(&run->this_second, 99),
        .max = run->this_second.max,
    };
    run->prev_offered = run->arrivals;
    run->prev_done = run->requests_done;
    run->prev_ok = run->ok;
    run->prev_failed = run->failed;
    run->prev_refused = run->refused;
    run->prev_second_ns = now;
    lb_hist_reset(&run->this_second);
    lb_load_push((void **)&run->series, &run->num_series, &run->series_cap, sizeof(second), &second);
    if (!run->opt.quiet)
        lb_load_report_progress(run, &second);
}

size_t lb_load_queued(const lb_load_run_t *run)
{
    return run->h1 != NULL ? lb_h1_client_queued(run->h1) : run->client != NULL ? lb_h2_client_queued(run->client) : 0;
}

static void on_ready(lb_load_run_t *run, int ok)
{
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

static void on_h2_ready(lb_h2_client_t *client, int ok)
{
    on_ready(lb_h2_client_data(client), ok);
}

static void on_h1_ready(lb_h1_client_t *client, int ok)
{
    on_ready(lb_h1_client_data(client), ok);
}

static void close_leftover(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

int lb_load_scenario_run(lb_load_run_t *run)
{
    /* Every buyer's token is minted before the clock starts (the hot path only looks them up). */
    if (run->opt.scenario != LB_LOAD_HEALTHZ_ONLY && run->opt.buyer_secret != NULL)
        for (int64_t b = 1; b <= run->opt.buyers && (uint64_t)b < MAX_CACHED_BUYERS; ++b)
            buyer_auth(run, b);
    double cpu_start = cpu_seconds();
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
    if (run->opt.http1) {
        run->h1 = lb_h1_client_new(&loop, run->setup.target.host, run->setup.target.port, run->opt.connections, on_h1_ready, run);
        if (run->h1 == NULL)
            return -1;
    } else {
        run->client = lb_h2_client_new(&loop, run->setup.target.host, run->setup.target.port, run->opt.connections,
                                       run->opt.streams, on_h2_ready, run);
        if (run->client == NULL)
            return -1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    run->cpu_s = cpu_seconds() - cpu_start;
    if (run->end_ns == 0)
        run->end_ns = uv_hrtime();
    uv_walk(&loop, close_leftover, run);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free_ops(run);
    return run->client_ready ? 0 : -1;
}
