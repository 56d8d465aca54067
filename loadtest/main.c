/*
 * livebuy-load: the sales-spike generator. Sets up a co-op, a SKU, a host and a live item through the API, runs a
 * scenario against it over HTTP/2, prints what it measured and checks afterwards, through the API, that nothing was
 * oversold, lost or duplicated. "livebuy-load check" runs the check alone on what an earlier run made (one SKU, or every
 * SKU of the co-op).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "livebuy/common.h"
#include "load.h"

static const char usage_text[] =
    "usage: livebuy-load [options]          run a scenario, then check correctness through the API\n"
    "       livebuy-load check --url URL --merchant-token T [--sku ID] [--live ID]   (no --sku: every SKU)\n"
    "\n"
    "  --url URL               the server, http://HOST:PORT (default http://127.0.0.1:8080); HTTP/2 with prior knowledge\n"
    "  --scenario S            drop (default): a live item opens, --buyers distinct buyers tap once (qty 1..--limit);\n"
    "                          mixed: browsing, orders, payments after --pay-delay, cancellations, the rest left to expire;\n"
    "                          hot: qty-1 orders on one SKU by --buyers buyers (the hot-SKU benchmark);\n"
    "                          groupbuy: --campaigns K [4] at pickup points closing when the run ends, joined by\n"
    "                          --buyers buyers (qty 1..--limit); half set a min_qty they reach, half one they do not;\n"
    "                          --pay-share of the joins pay; the check waits for every campaign to close\n"
    "                          catalog: orders over --skus N [100] SKUs of one co-op, popularity uniform or Zipf\n"
    "                          (--zipf S, S > 0); a live item on each of the 4 most popular SKUs takes --live-share F\n"
    "                          [0.3] of their orders; --campaigns K [4] group-buys on the next K SKUs take --join-share\n"
    "                          F [0.3] of theirs (closing when the run ends; a --join-share of 0 makes none);\n"
    "                          --pay-share and --cancel-share (not joins) of the orders paid or cancelled after\n"
    "                          --pay-delay; the check covers every SKU and campaign\n"
    "                          healthz: GET /healthz only (livebuy-load's own ceiling; no setup, no check)\n"
    "  --admin-token T --buyer-secret S --payment-secret S   as given to livebuyd (payment secret: mixed only)\n"
    "  open model:   --rate R [1000] --duration S [5] --ramp S [0] --spike AT:LEN:MULT (LEN s at MULT x R from AT)\n"
    "  closed model: --concurrency C (each answer starts the next request; runs --duration seconds)\n"
    "  --connections N [4] --streams M [100]   HTTP/2 connections and concurrent streams on each\n"
    "  --http1                 HTTP/1.1 keep-alive instead: --connections connections, one request at a time on each\n"
    "  --buyers N [drop 2000, mixed 500, hot 1000, catalog 5000] --stock S [drop 1000] --quota Q [drop 500] --limit L [3]\n"
    "  --dup-share F [0.05]    share of order taps sent twice with the same Idempotency-Key, at once (a double tap)\n"
    "  --dup-after-answer      send the duplicate once the first tap is answered instead (a tap again after the spinner)\n"
    "  --pay-share F [0.5] --cancel-share F [0.2] --browse-share F [0.4] --pay-delay MS [200]   (mixed)\n"
    "  --refund-share F [0.2]  share of the paid orders whose buyer asks for a refund --pay-delay later (mixed)\n"
    "  --max-retries N [3]     429/503 (after Retry-After) and requests whose connection broke (after 1 s) are\n"
    "                          retried with the same key, at most N times\n"
    "  --drain S [10]          how long to wait for open requests once the arrivals are over\n"
    "  --receiver PORT --shipping-secret S   run a shipping receiver on 127.0.0.1:PORT (give livebuyd --shipping-url\n"
    "                          http://127.0.0.1:PORT/ and the same secret): pushes are verified and recorded, and the check\n"
    "                          waits up to --shipping-wait S [20] for every paid order to be handed over, once\n"
    "  --json FILE --plot FILE.html --no-check --quiet --seed N\n"
    "  --threshold EXPR        a pass mark, repeatable (as k6's): p50 p90 p99 p99.9 max mean (latency from the intended\n"
    "                          send, us/ms/s), errors (unexpected statuses and network errors: 1% or 0.01), rps;\n"
    "                          compared with < <= > >=, e.g. --threshold 'p99<50ms' --threshold 'errors<1%'\n"
    "  --allow-status LIST     statuses a run may get besides 2xx, 409, 422 and 429: e.g. 503,401 or 5xx; network\n"
    "                          for connection errors. Any other status fails the run (a wrong secret gets 401s)\n"
    "  --cleanup               afterwards take the run's live item off air and retire its product, so that the run does\n"
    "                          not stay in the shop (its merchants are named \"(livebuy-load)\")\n"
    "Exit status: 0 ok, 1 a correctness violation (each named on stderr), 2 usage or setup error, 3 statuses not\n"
    "allowed, 4 a threshold breached (the first that applies).\n";

enum {
    OPT_URL = 256,
    OPT_SCENARIO,
    OPT_ADMIN,
    OPT_BUYER_SECRET,
    OPT_PAYMENT_SECRET,
    OPT_RATE,
    OPT_DURATION,
    OPT_RAMP,
    OPT_SPIKE,
    OPT_CONCURRENCY,
    OPT_CONNECTIONS,
    OPT_STREAMS,
    OPT_BUYERS,
    OPT_STOCK,
    OPT_QUOTA,
    OPT_LIMIT,
    OPT_DUP,
    OPT_PAY,
    OPT_CANCEL,
    OPT_REFUND,
    OPT_BROWSE,
    OPT_PAY_DELAY,
    OPT_RETRIES,
    OPT_DRAIN,
    OPT_JSON,
    OPT_PLOT,
    OPT_NO_CHECK,
    OPT_QUIET,
    OPT_SEED,
    OPT_MERCHANT,
    OPT_SKU,
    OPT_LIVE,
    OPT_DUP_AFTER,
    OPT_CAMPAIGNS,
    OPT_HTTP1,
    OPT_RECEIVER,
    OPT_SHIPPING_SECRET,
    OPT_SHIPPING_WAIT,
    OPT_THRESHOLD,
    OPT_ALLOW_STATUS,
    OPT_CLEANUP,
    OPT_SKUS,
    OPT_ZIPF,
    OPT_LIVE_SHARE,
    OPT_JOIN_SHARE,
    OPT_HELP
};

static const struct option long_options[] = {
    {"url", 1, NULL, OPT_URL},
    {"scenario", 1, NULL, OPT_SCENARIO},
    {"admin-token", 1, NULL, OPT_ADMIN},
    {"buyer-secret", 1, NULL, OPT_BUYER_SECRET},
    {"payment-secret", 1, NULL, OPT_PAYMENT_SECRET},
    {"rate", 1, NULL, OPT_RATE},
    {"duration", 1, NULL, OPT_DURATION},
    {"ramp", 1, NULL, OPT_RAMP},
    {"spike", 1, NULL, OPT_SPIKE},
    {"concurrency", 1, NULL, OPT_CONCURRENCY},
    {"connections", 1, NULL, OPT_CONNECTIONS},
    {"streams", 1, NULL, OPT_STREAMS},
    {"buyers", 1, NULL, OPT_BUYERS},
    {"stock", 1, NULL, OPT_STOCK},
    {"quota", 1, NULL, OPT_QUOTA},
    {"limit", 1, NULL, OPT_LIMIT},
    {"dup-share", 1, NULL, OPT_DUP},
    {"pay-share", 1, NULL, OPT_PAY},
    {"cancel-share", 1, NULL, OPT_CANCEL},
    {"refund-share", 1, NULL, OPT_REFUND},
    {"browse-share", 1, NULL, OPT_BROWSE},
    {"pay-delay", 1, NULL, OPT_PAY_DELAY},
    {"max-retries", 1, NULL, OPT_RETRIES},
    {"drain", 1, NULL, OPT_DRAIN},
    {"json", 1, NULL, OPT_JSON},
    {"plot", 1, NULL, OPT_PLOT},
    {"no-check", 0, NULL, OPT_NO_CHECK},
    {"quiet", 0, NULL, OPT_QUIET},
    {"seed", 1, NULL, OPT_SEED},
    {"merchant-token", 1, NULL, OPT_MERCHANT},
    {"sku", 1, NULL, OPT_SKU},
    {"live", 1, NULL, OPT_LIVE},
    {"dup-after-answer", 0, NULL, OPT_DUP_AFTER},
    {"campaigns", 1, NULL, OPT_CAMPAIGNS},
    {"http1", 0, NULL, OPT_HTTP1},
    {"receiver", 1, NULL, OPT_RECEIVER},
    {"shipping-secret", 1, NULL, OPT_SHIPPING_SECRET},
    {"shipping-wait", 1, NULL, OPT_SHIPPING_WAIT},
    {"threshold", 1, NULL, OPT_THRESHOLD},
    {"allow-status", 1, NULL, OPT_ALLOW_STATUS},
    {"cleanup", 0, NULL, OPT_CLEANUP},
    {"skus", 1, NULL, OPT_SKUS},
    {"zipf", 1, NULL, OPT_ZIPF},
    {"live-share", 1, NULL, OPT_LIVE_SHARE},
    {"join-share", 1, NULL, OPT_JOIN_SHARE},
    {"help", 0, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int bad_usage(const char *fmt, const char *what)
{
    fprintf(stderr, "livebuy-load: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n(livebuy-load --help for the options)\n");
    return -1;
}

static int parse_number(const char *name, const char *text, double min, double max, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "livebuy-load: --%s %s: want a number from %g to %g\n", name, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

typedef struct st_check_args_t {
    const char *merchant_token;
    int64_t sku_id, live_id;
} check_args_t;

static int parse_options(int argc, char **argv, lb_load_options_t *opt, check_args_t *check)
{
    double v;
    int c;
    *opt = (lb_load_options_t){.url = "http://127.0.0.1:8080",
                               .rate = 1000,
                               .duration = 5,
                               .drain = 10,
                               .connections = 4,
                               .campaigns = 4,
                               .skus = 100,
                               .live_share = 0.3,
                               .join_share = 0.3,
                               .shipping_wait = 20,
                               .streams = 100,
                               .buyers = -1,
                               .stock = -1,
                               .quota = -1,
                               .limit = 3,
                               .dup_share = 0.05,
                               .pay_share = 0.5,
                               .cancel_share = 0.2,
                               .refund_share = 0.2,
                               .browse_share = 0.4,
                               .pay_delay_ms = 200,
                               .max_retries = 3,
                               .check = 1};
    lb_verdict_allow_init(&opt->allow);
    const char *why;
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        const char *name = c >= OPT_URL && c <= OPT_HELP ? long_options[c - OPT_URL].name : "?";
#define NUMBER(min, max)                                                                                                           \
    if (parse_number(name, optarg, (min), (max), &v) != 0)                                                                         \
        return -1;
        switch (c) {
        case OPT_URL:
            opt->url = optarg;
            break;
        case OPT_SCENARIO:
            for (opt->scenario = 0; lb_load_scenario_names[opt->scenario] != NULL; ++opt->scenario)
                if (strcmp(optarg, lb_load_scenario_names[opt->scenario]) == 0)
                    break;
            if (lb_load_scenario_names[opt->scenario] == NULL)
                return bad_usage("--scenario %s: want drop, mixed, hot, healthz, groupbuy or catalog", optarg);
            break;
        case OPT_ADMIN:
            opt->admin_token = optarg;
            break;
        case OPT_BUYER_SECRET:
            opt->buyer_secret = optarg;
            break;
        case OPT_PAYMENT_SECRET:
            opt->payment_secret = optarg;
            break;
        case OPT_RATE:
            NUMBER(0.001, 1e7) opt->rate = v;
            break;
        case OPT_DURATION:
            NUMBER(0.001, 86400) opt->duration = v;
            break;
        case OPT_RAMP:
            NUMBER(0, 86400) opt->ramp = v;
            break;
        case OPT_SPIKE:
            opt->spike = optarg;
            break;
        case OPT_CONCURRENCY:
            NUMBER(1, 1e6) opt->concurrency = (size_t)v;
            break;
        case OPT_CONNECTIONS:
            NUMBER(1, 10000) opt->connections = (size_t)v;
            break;
        case OPT_STREAMS:
            NUMBER(1, 10000) opt->streams = (size_t)v;
            break;
        case OPT_BUYERS:
            NUMBER(1, 1e12) opt->buyers = (int64_t)v;
            break;
        case OPT_STOCK:
            NUMBER(1, 1e12) opt->stock = (int64_t)v;
            break;
        case OPT_QUOTA:
            NUMBER(1, 1e12) opt->quota = (int64_t)v;
            break;
        case OPT_LIMIT:
            NUMBER(1, 1000) opt->limit = (int64_t)v;
            break;
        case OPT_DUP:
            NUMBER(0, 1) opt->dup_share = v;
            break;
        case OPT_PAY:
            NUMBER(0, 1) opt->pay_share = v;
            break;
        case OPT_CANCEL:
            NUMBER(0, 1) opt->cancel_share = v;
            break;
        case OPT_REFUND:
            NUMBER(0, 1) opt->refund_share = v;
            break;
        case OPT_BROWSE:
            NUMBER(0, 1) opt->browse_share = v;
            break;
        case OPT_PAY_DELAY:
            NUMBER(0, 3600000) opt->pay_delay_ms = (unsigned)v;
            break;
        case OPT_RETRIES:
            NUMBER(0, 100) opt->max_retries = (unsigned)v;
            break;
        case OPT_DRAIN:
            NUMBER(0, 3600) opt->drain = v;
            break;
        case OPT_JSON:
            opt->json_path = optarg;
            break;
        case OPT_PLOT:
            opt->plot_path = optarg;
            break;
        case OPT_NO_CHECK:
            opt->check = 0;
            break;
        case OPT_QUIET:
            opt->quiet = 1;
            break;
        case OPT_SEED:
            NUMBER(0, 1e18) opt->seed = (uint64_t)v;
            break;
        case OPT_MERCHANT:
            check->merchant_token = optarg;
            break;
        case OPT_SKU:
            NUMBER(1, 1e18) check->sku_id = (int64_t)v;
            break;
        case OPT_LIVE:
            NUMBER(1, 1e18) check->live_id = (int64_t)v;
            break;
        case OPT_DUP_AFTER:
            opt->dup_after_answer = 1;
            break;
        case OPT_RECEIVER:
            NUMBER(1, 65535) opt->receiver_port = (unsigned)v;
            break;
        case OPT_SHIPPING_SECRET:
            opt->shipping_secret = optarg;
            break;
        case OPT_SHIPPING_WAIT:
            NUMBER(0, 3600) opt->shipping_wait = v;
            break;
        case OPT_HTTP1:
            opt->http1 = 1;
            break;
        case OPT_CAMPAIGNS:
            NUMBER(1, LB_LOAD_MAX_CAMPAIGNS) opt->campaigns = (size_t)v;
            break;
        case OPT_THRESHOLD:
            if (opt->num_thresholds == LB_VERDICT_MAX_THRESHOLDS)
                return bad_usage("%s", "too many --threshold");
            if (lb_verdict_threshold_parse(optarg, &opt->thresholds[opt->num_thresholds], &why) != 0) {
                fprintf(stderr, "livebuy-load: --threshold %s: %s\n", optarg, why);
                return -1;
            }
            ++opt->num_thresholds;
            break;
        case OPT_ALLOW_STATUS:
            if (lb_verdict_allow_add(&opt->allow, optarg, &why) != 0) {
                fprintf(stderr, "livebuy-load: --allow-status %s: %s\n", optarg, why);
                return -1;
            }
            break;
        case OPT_CLEANUP:
            opt->cleanup = 1;
            break;
        case OPT_SKUS:
            NUMBER(1, LB_LOAD_MAX_SKUS) opt->skus = (size_t)v;
            break;
        case OPT_ZIPF:
            NUMBER(0, 10) opt->zipf = v;
            break;
        case OPT_LIVE_SHARE:
            NUMBER(0, 1) opt->live_share = v;
            break;
        case OPT_JOIN_SHARE:
            NUMBER(0, 1) opt->join_share = v;
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            exit(0);
        default:
            return bad_usage("%s", "unknown option");
        }
#undef NUMBER
    }
    if (optind != argc)
        return bad_usage("unexpected argument %s", argv[optind]);
    static const int64_t default_buyers[] = {2000, 500, 1000, 1, 300, 5000};
    if (opt->buyers < 0)
        opt->buyers = default_buyers[opt->scenario];
    if (opt->stock < 0)
        opt->stock = opt->scenario == LB_LOAD_DROP ? 1000 : 1000000000;
    if (opt->quota < 0)
        opt->quota = opt->scenario == LB_LOAD_DROP ? 500 : 1000000;
    if (opt->quota > opt->stock)
        return bad_usage("%s", "--quota is taken from the stock: it cannot be more than --stock");
    return 0;
}

/* One setup request; 0 and the answer when it got the status it wanted, else -1 with the reason printed. */
static int setup_call(lb_load_run_t *run, const char *method, const char *path, const char *token, json_t *body, int want,
                      json_t **answer)
{
    /* no-cache: the setup and the check read what is there now, past livebuyd's public answer cache */
    lb_h2_request_t req = {.method = method,
                           .path = path,
                           .header_names = {"accept", "cache-control"},
                           .header_values = {"application/json", "no-cache"},
                           .num_headers = 2};
    char err[256], *payload = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL, *bearer = NULL;
    if (payload != NULL) {
        req.body = payload;
        req.body_len = strlen(payload);
        req.header_names[req.num_headers] = "content-type";
        req.header_values[req.num_headers++] = "application/json";
    }
    if (token != NULL) {
        bearer = lb_malloc(strlen("Bearer ") + strlen(token) + 1);
        strcat(strcpy(bearer, "Bearer "), token);
        req.header_names[req.num_headers] = "authorization";
        req.header_values[req.num_headers++] = bearer;
    }
    int status = lb_h1_fetch(&run->setup.target, &req, err, sizeof(err));
    *answer = status > 0 ? json_loadb(req.answer, req.answer_len, 0, NULL) : NULL;
    lb_h2_request_dispose(&req);
    free(payload);
    free(bearer);
    json_decref(body);
    if (status == want)
        return 0;
    if (status < 0) {
        fprintf(stderr, "livebuy-load: setup: %s\n", err);
    } else {
        char *text = *answer != NULL ? json_dumps(*answer, JSON_COMPACT) : NULL;
        fprintf(stderr, "livebuy-load: setup: %s %s answered %d %s\n", method, path, status, text != NULL ? text : "");
        free(text);
    }
    json_decref(*answer);
    *answer = NULL;
    return -1;
}

static int64_t get_id(json_t *answer)
{
    int64_t id = json_integer_value(json_object_get(answer, "id"));
    json_decref(answer);
    return id;
}

static int create_merchant(lb_load_run_t *run, const char *kind, const char *name, int64_t *id, char *token, size_t size)
{
    json_t *answer;
    if (setup_call(run, "POST", "/v1/merchants", run->opt.admin_token, json_pack("{s:s,s:s}", "name", name, "kind", kind), 201,
                   &answer) != 0)
        return -1;
    snprintf(token, size, "%s", json_string_value(json_object_get(answer, "token")) ?: "");
    *id = get_id(answer);
    return 0;
}

/*
 * The co-op offers sku_id to the host (no floor, no commission), the host accepts and puts it on air in the run's live
 * (--quota, --limit a buyer), opening now: its id into *item.
 */
static int put_on_air(lb_load_run_t *run, int64_t sku_id, int64_t *item)
{
    lb_load_setup_t *s = &run->setup;
    const lb_load_options_t *opt = &run->opt;
    json_t *answer;
    char path[64];
    int64_t now = lb_now();
    /* The co-op offers its SKU to the host (no floor, no commission) and the host accepts: then it may go on air. */
    if (setup_call(run, "POST", "/v1/offers", s->coop_token,
                   json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "sku_id", (json_int_t)sku_id, "host_id", (json_int_t)s->host_id,
                             "max_quota", (json_int_t)opt->quota, "min_price_cents", (json_int_t)0, "commission_bp", (json_int_t)0,
                             "starts_at", (json_int_t)0, "ends_at", (json_int_t)(now + 7 * 86400)),
                   201, &answer) != 0)
        return -1;
    snprintf(path, sizeof(path), "/v1/offers/%lld/accept", (long long)get_id(answer));
    if (setup_call(run, "POST", path, s->host_token, NULL, 200, &answer) != 0)
        return -1;
    json_decref(answer);
    snprintf(path, sizeof(path), "/v1/lives/%lld/items", (long long)s->live_id);
    if (setup_call(run, "POST", path, s->host_token,
                   json_pack("{s:I,s:I,s:I,s:I,s:I}", "sku_id", (json_int_t)sku_id, "price_cents", (json_int_t)2990, "quota",
                             (json_int_t)opt->quota, "per_buyer_limit", (json_int_t)opt->limit, "opens_at", (json_int_t)now),
                   201, &answer) != 0)
        return -1;
    *item = get_id(answer);
    return 0;
}

/* The co-op, the host and the host's live, starting now. */
static int setup_merchants(lb_load_run_t *run)
{
    lb_load_setup_t *s = &run->setup;
    json_t *answer;
    if (create_merchant(run, "coop", "武乡小米合作社 (livebuy-load)", &s->coop_id, s->coop_token, sizeof(s->coop_token)) != 0 ||
        create_merchant(run, "host", "长治直播间 (livebuy-load)", &s->host_id, s->host_token, sizeof(s->host_token)) != 0)
        return -1;
    if (setup_call(run, "POST", "/v1/lives", s->host_token,
                   json_pack("{s:s,s:I}", "title", "今晚八点 武乡小米专场", "starts_at", (json_int_t)lb_now()), 201, &answer) != 0)
        return -1;
    s->live_id = get_id(answer);
    return 0;
}

/* The co-op's product of one SKU of --stock units at the setup's price: its ids into the setup. */
static int make_product(lb_load_run_t *run, const char *title, const char *sku_name, int weight_grams)
{
    lb_load_setup_t *s = &run->setup;
    json_t *answer;
    if (setup_call(run, "POST", "/v1/products", s->coop_token,
                   json_pack("{s:s,s:s,s:s,s:b,s:[{s:s,s:I,s:I,s:i}]}", "title", title, "unit", "袋", "origin", "山西省长治市武乡县",
                             "cold_chain", 0, "skus", "name", sku_name, "price_cents", (json_int_t)s->price_cents, "stock",
                             (json_int_t)run->opt.stock, "weight_grams", weight_grams),
                   201, &answer) != 0)
        return -1;
    s->product_id = json_integer_value(json_object_get(answer, "id"));
    s->sku_id = json_integer_value(json_object_get(json_array_get(json_object_get(answer, "skus"), 0), "id"));
    json_decref(answer);
    return 0;
}

/* The co-op, its product and SKU, the host, the live, the co-op's offer to the host and the item, opening now. */
static int setup(lb_load_run_t *run)
{
    lb_load_setup_t *s = &run->setup;
    const lb_load_options_t *opt = &run->opt;
    s->price_cents = 3980;
    if (setup_merchants(run) != 0)
        return -1;
    if (make_product(run, "武乡小米 (沁州黄)", "2.5kg 礼盒", 2700) != 0)
        return -1;
    if (put_on_air(run, s->sku_id, &s->live_item_id) != 0)
        return -1;
    fprintf(stderr, "livebuy-load: set up co-op %lld, SKU %lld (stock %lld), live %lld, live item %lld (quota %lld, limit %lld)\n",
            (long long)s->coop_id, (long long)s->sku_id, (long long)opt->stock, (long long)s->live_id, (long long)s->live_item_id,
            (long long)opt->quota, (long long)opt->limit);
    return 0;
}

static int make_campaigns(lb_load_run_t *run, const int64_t *skus, size_t num_skus, double expected);

#define SKUS_PER_PRODUCT 50 /* the API's most */
#define CATALOG_LIVE_ITEMS 4

/* catalog: the SKUs' popularity CDF, by rank: rank r (from 1) weighs 1 / r^zipf. */
static void catalog_cdf(lb_load_setup_t *s, double zipf)
{
    double sum = 0;
    s->sku_cdf = lb_malloc(s->num_skus * sizeof(*s->sku_cdf));
    for (size_t r = 0; r != s->num_skus; ++r)
        s->sku_cdf[r] = sum += pow((double)(r + 1), -zipf);
}

/*
 * catalog: the co-op's --skus SKUs in products of up to 50 (creation order is popularity rank), the host and its live,
 * the 4 most popular SKUs on air in it, and the popularity CDF (Zipf only).
 */
static int setup_catalog(lb_load_run_t *run)
{
    lb_load_setup_t *s = &run->setup;
    const lb_load_options_t *opt = &run->opt;
    json_t *answer;
    s->price_cents = 3980;
    if (setup_merchants(run) != 0)
        return -1;
    s->skus = lb_calloc(opt->skus, sizeof(*s->skus));
    s->sku_live_items = lb_calloc(opt->skus, sizeof(*s->sku_live_items));
    s->products = lb_calloc((opt->skus + SKUS_PER_PRODUCT - 1) / SKUS_PER_PRODUCT, sizeof(*s->products));
    while (s->num_skus != opt->skus) {
        json_t *skus = json_array();
        for (size_t i = s->num_skus; i != opt->skus && json_array_size(skus) != SKUS_PER_PRODUCT; ++i) {
            char name[32];
            snprintf(name, sizeof(name), "%zu 号 2.5kg", i + 1);
            json_array_append_new(skus, json_pack("{s:s,s:I,s:I,s:i}", "name", name, "price_cents", (json_int_t)s->price_cents,
                                                  "stock", (json_int_t)opt->stock, "weight_grams", 2700));
        }
        if (setup_call(run, "POST", "/v1/products", s->coop_token,
                       json_pack("{s:s,s:s,s:s,s:b,s:o}", "title", "武乡杂粮 (livebuy-load)", "unit", "袋", "origin",
                                 "山西省长治市武乡县", "cold_chain", 0, "skus", skus),
                       201, &answer) != 0)
            return -1;
        s->products[s->num_products++] = json_integer_value(json_object_get(answer, "id"));
        size_t i;
        json_t *sku;
        json_array_foreach(json_object_get(answer, "skus"), i, sku)
            s->skus[s->num_skus++] = json_integer_value(json_object_get(sku, "id"));
        json_decref(answer);
    }
    s->sku_id = s->skus[0];
    s->product_id = s->products[0];
    for (size_t i = 0; i != opt->skus && i != CATALOG_LIVE_ITEMS; ++i)
        if (put_on_air(run, s->skus[i], &s->sku_live_items[i]) != 0)
            return -1;
    s->live_item_id = s->sku_live_items[0];
    /* --join-share: the group-buys on the SKUs ranked after the live items' */
    s->sku_campaigns = lb_calloc(opt->skus, sizeof(*s->sku_campaigns));
    if (opt->join_share > 0) {
        int64_t *on = lb_malloc(opt->campaigns * sizeof(*on));
        for (size_t i = 0; i != opt->campaigns; ++i)
            on[i] = s->skus[(CATALOG_LIVE_ITEMS + i) % opt->skus];
        int made = make_campaigns(run, on, opt->campaigns, 0);
        free(on);
        if (made != 0)
            return -1;
        for (size_t i = 0; i != opt->campaigns; ++i)
            s->sku_campaigns[(CATALOG_LIVE_ITEMS + i) % opt->skus] = s->campaigns[i].id;
    }
    if (opt->zipf > 0)
        catalog_cdf(s, opt->zipf);
    fprintf(stderr, "livebuy-load: set up co-op %lld, %zu SKUs from %lld (stock %lld each, %s), live %lld with %d items, "
                    "%zu group-buys\n",
            (long long)s->coop_id, s->num_skus, (long long)s->skus[0], (long long)opt->stock, opt->zipf > 0 ? "Zipf" : "uniform",
            (long long)s->live_id, opt->skus < CATALOG_LIVE_ITEMS ? (int)opt->skus : CATALOG_LIVE_ITEMS, s->num_campaigns);
    return 0;
}

/* groupbuy: a co-op, its SKU, pickup points and --campaigns campaigns closing together once the run is over. */
static int setup_groupbuy(lb_load_run_t *run)
{
    lb_load_setup_t *s = &run->setup;
    const lb_load_options_t *opt = &run->opt;
    s->price_cents = 8990;
    if (create_merchant(run, "coop", "武乡小米合作社 (livebuy-load)", &s->coop_id, s->coop_token, sizeof(s->coop_token)) != 0)
        return -1;
    if (make_product(run, "武乡小米 (社区团购)", "5kg 袋装", 5000) != 0)
        return -1;
    double expected = opt->concurrency == 0 ? opt->rate * opt->duration * (1 + (double)opt->limit) / 2 / (double)opt->campaigns : 0;
    if (make_campaigns(run, &s->sku_id, 1, expected) != 0)
        return -1;
    fprintf(stderr, "livebuy-load: set up co-op %lld, SKU %lld (stock %lld), %zu group-buys closing at %lld\n",
            (long long)s->coop_id, (long long)s->sku_id, (long long)opt->stock, s->num_campaigns, (long long)s->closes_at);
    return 0;
}

/*
 * --campaigns group-buys at up to 3 pickup points (made here), campaign i on skus[i % num_skus], closing together a second
 * past the end of the arrivals. Half the campaigns need half the units they are expected to get (they succeed), half
 * need twice as many (they fail); when the expectation is unknown (0: the closed model, or catalog's spread), 1 or a
 * million.
 */
static int make_campaigns(lb_load_run_t *run, const int64_t *skus, size_t num_skus, double expected)
{
    lb_load_setup_t *s = &run->setup;
    const lb_load_options_t *opt = &run->opt;
    json_t *answer;
    static const char *const villages[] = {"岭头村", "石门村", "东沟村"};
    size_t points = opt->campaigns < 3 ? opt->campaigns : 3;
    for (size_t i = 0; i != points; ++i) {
        if (setup_call(run, "POST", "/v1/pickup-points", s->coop_token,
                       json_pack("{s:s,s:s,s:s,s:s,s:s}", "name", "服务站 (livebuy-load)", "county", "武乡县", "township", "韩北乡",
                                 "village", villages[i], "address", "村委会东侧"),
                       201, &answer) != 0)
            return -1;
        s->pickup_points[i] = get_id(answer);
    }
    s->closes_at = lb_now() + (int64_t)opt->duration + 2;
    for (size_t i = 0; i != opt->campaigns; ++i) {
        lb_check_group_buy_t *gb = &s->campaigns[i];
        gb->per_buyer_limit = opt->limit;
        gb->min_qty = expected > 0 ? (int64_t)(i % 2 == 0 ? expected / 2 : expected * 2) : (i % 2 == 0 ? 1 : 1000000);
        if (gb->min_qty < 1)
            gb->min_qty = 1;
        if (setup_call(run, "POST", "/v1/group-buys", s->coop_token,
                       json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "sku_id", (json_int_t)skus[i % num_skus], "pickup_point_id",
                                 (json_int_t)s->pickup_points[i % points], "price_cents", (json_int_t)6990, "min_qty",
                                 (json_int_t)gb->min_qty, "per_buyer_limit", (json_int_t)gb->per_buyer_limit, "closes_at",
                                 (json_int_t)s->closes_at),
                       201, &answer) != 0)
            return -1;
        gb->id = get_id(answer);
        ++s->num_campaigns;
    }
    return 0;
}

/* Waits (bounded) until every campaign has left "open", reading their final state. */
static int wait_campaigns(lb_load_run_t *run)
{
    lb_load_setup_t *s = &run->setup;
    int64_t give_up = s->closes_at + 20;
    for (size_t i = 0; i != s->num_campaigns; ++i) {
        lb_check_group_buy_t *gb = &s->campaigns[i];
        char path[64];
        snprintf(path, sizeof(path), "/v1/group-buys/%lld", (long long)gb->id);
        for (;;) {
            json_t *answer;
            if (setup_call(run, "GET", path, NULL, NULL, 200, &answer) != 0)
                return -1;
            snprintf(gb->status, sizeof(gb->status), "%s", json_string_value(json_object_get(answer, "status")) ?: "");
            gb->joined_qty = json_integer_value(json_object_get(answer, "joined_qty"));
            json_t *at_close = json_object_get(answer, "joined_qty_at_close");
            gb->joined_qty_at_close = json_is_integer(at_close) ? json_integer_value(at_close) : -1;
            json_decref(answer);
            if (strcmp(gb->status, "open") != 0 || lb_now() > give_up)
                break;
            usleep(200 * 1000);
        }
    }
    return 0;
}

/* A growing array that a paged list's items are read into. */
typedef struct st_list_t {
    void *items;
    size_t num, cap;
} list_t;

/*
 * Every item of a paged merchant list (GET path?after=N&limit=L: {"<key>": [...], "next"}), each read by take into
 * list. -1 when a page cannot be read.
 */
static int fetch_list(lb_load_run_t *run, const char *token, const char *path, unsigned limit, const char *key,
                      void (*take)(json_t *item, list_t *list), list_t *list)
{
    int64_t after = 0;
    for (;;) {
        char page[128];
        json_t *answer, *item;
        size_t i;
        snprintf(page, sizeof(page), "%s?after=%lld&limit=%u", path, (long long)after, limit);
        if (setup_call(run, "GET", page, token, NULL, 200, &answer) != 0)
            return -1;
        json_array_foreach(json_object_get(answer, key), i, item)
            take(item, list);
        json_t *next = json_object_get(answer, "next");
        int more = json_is_integer(next);
        after = json_integer_value(next);
        json_decref(answer);
        if (!more)
            return 0;
    }
}

static void take_order(json_t *order, list_t *list)
{
    const char *status = json_string_value(json_object_get(order, "status"));
    int state = lb_check_state_of(status != NULL ? status : "");
    lb_check_order_t o = {.id = json_integer_value(json_object_get(order, "id")),
                          .buyer_id = json_integer_value(json_object_get(order, "buyer_id")),
                          .sku_id = json_integer_value(json_object_get(order, "sku_id")),
                          .live_item_id = json_integer_value(json_object_get(order, "live_item_id")),
                          .group_buy_id = json_integer_value(json_object_get(order, "group_buy_id")),
                          .qty = json_integer_value(json_object_get(order, "qty")),
                          .amount_cents = json_integer_value(json_object_get(order, "amount_cents")),
                          .state = state < 0 ? LB_CHECK_RELEASED : (lb_check_state_t)state};
    snprintf(o.status, sizeof(o.status), "%s", status != NULL ? status : "");
    lb_load_push(&list->items, &list->num, &list->cap, sizeof(o), &o);
}

/* Every order of the merchant, a page of 200 at a time. */
static int fetch_orders(lb_load_run_t *run, const char *token, lb_check_order_t **orders, size_t *num)
{
    list_t list = {NULL, 0, 0};
    int ret = fetch_list(run, token, "/v1/merchant/orders", 200, "orders", take_order, &list);
    *orders = list.items;
    *num = list.num;
    return ret;
}

static void take_refund(json_t *refund, list_t *list)
{
    const char *cause = json_string_value(json_object_get(refund, "cause")),
               *status = json_string_value(json_object_get(refund, "status"));
    lb_check_refund_t r = {.id = json_integer_value(json_object_get(refund, "id")),
                           .order_id = json_integer_value(json_object_get(refund, "order_id")),
                           .amount_cents = json_integer_value(json_object_get(refund, "amount_cents"))};
    snprintf(r.cause, sizeof(r.cause), "%s", cause != NULL ? cause : "");
    snprintf(r.status, sizeof(r.status), "%s", status != NULL ? status : "");
    lb_load_push(&list->items, &list->num, &list->cap, sizeof(r), &r);
}

static void report_violation(void *ctx, const char *line);

/*
 * The refund rules (lb_check_refunds) on the orders in (sorted by lb_check_run); -1 when the refunds cannot be read.
 * list gets every refund of the merchant (the co-op): the caller frees list->items, whether or not they were read.
 */
static int check_refunds(lb_load_run_t *run, const char *token, const lb_check_input_t *in, int with_observations,
                         list_t *list, size_t *violations)
{
    lb_check_refunds_input_t refunds = {.orders = in->orders, .num_orders = in->num_orders};
    if (fetch_list(run, token, "/v1/merchant/refunds", 100, "refunds", take_refund, list) != 0) /* a page of 100 at a time */
        return -1;
    refunds.refunds = list->items;
    refunds.num_refunds = list->num;
    if (with_observations) {
        refunds.has_observations = 1;
        refunds.asked = run->asked;
        refunds.num_asked = run->num_asked;
        refunds.pay_sent = run->pay_sent;
        refunds.num_pay_sent = run->num_pay_sent;
    }
    *violations += lb_check_refunds(&refunds, report_violation, run);
    fprintf(stderr, "livebuy-load: refunds: %zu (%zu asked for by this run)\n", refunds.num_refunds,
            with_observations ? run->num_asked : (size_t)0);
    return 0;
}

/* For each of the n SKUs of ins, the live item on it in the live (the first of the live's items on that SKU). */
static int fetch_live_items(lb_load_run_t *run, int64_t live_id, lb_check_input_t *ins, size_t n)
{
    char path[64];
    json_t *answer, *item;
    size_t i;
    snprintf(path, sizeof(path), "/v1/lives/%lld", (long long)live_id);
    if (setup_call(run, "GET", path, NULL, NULL, 200, &answer) != 0)
        return -1;
    json_array_foreach(json_object_get(answer, "items"), i, item)
    {
        int64_t sku_id = json_integer_value(json_object_get(item, "sku_id"));
        for (lb_check_input_t *in = ins, *end = ins + n; in != end; ++in)
            if (in->sku_id == sku_id && !in->has_live_item) {
                in->has_live_item = 1;
                in->live_item_id = json_integer_value(json_object_get(item, "id"));
                in->quota = json_integer_value(json_object_get(item, "quota"));
                in->available = json_integer_value(json_object_get(item, "available"));
                in->per_buyer_limit = json_integer_value(json_object_get(item, "per_buyer_limit"));
            }
    }
    json_decref(answer);
    return 0;
}

/* The SKU's counters, and the live item on it (the first of the live's items on that SKU). */
static int fetch_counters(lb_load_run_t *run, lb_check_input_t *in, int64_t live_id)
{
    char path[64];
    json_t *answer;
    snprintf(path, sizeof(path), "/v1/skus/%lld", (long long)in->sku_id);
    if (setup_call(run, "GET", path, NULL, NULL, 200, &answer) != 0)
        return -1;
    in->stock = json_integer_value(json_object_get(answer, "stock"));
    in->reserved = json_integer_value(json_object_get(answer, "reserved"));
    in->sold = json_integer_value(json_object_get(answer, "sold"));
    in->held = json_integer_value(json_object_get(answer, "held"));
    json_decref(answer);
    if (live_id == 0)
        return 0;
    return fetch_live_items(run, live_id, in, 1);
}

static void report_violation(void *ctx, const char *line)
{
    lb_load_run_t *run = ctx;
    fprintf(stderr, "livebuy-load: VIOLATION %s\n", line);
    json_array_append_new(run->violations, json_string(line));
}

/* Every paid order (those given) reached the receiver within --shipping-wait, in one shipment, each key with one content. */
static size_t check_shipping(lb_load_run_t *run, const int64_t *paid, size_t num_paid)
{
    char line[400];
    size_t violations = 0, missing = 0;
    double give_up = (double)lb_now() + run->opt.shipping_wait;
    for (size_t i = 0; i != num_paid; ++i)
        while (!lb_receiver_has_order(run->receiver, paid[i]) && (double)lb_now() < give_up)
            usleep(100 * 1000);
    for (size_t i = 0; i != num_paid; ++i)
        if (!lb_receiver_has_order(run->receiver, paid[i]) && missing++ < 10) {
            snprintf(line, sizeof(line), "paid order not handed to shipping: order %lld was not pushed within %.0f s",
                     (long long)paid[i], run->opt.shipping_wait);
            report_violation(run, line);
            ++violations;
        }
    lb_receiver_stats_t stats;
    lb_receiver_stats(run->receiver, &stats);
    if (stats.conflicts != 0) {
        snprintf(line, sizeof(line),
                 "shipment delivered twice with different content: %llu pushes repeated a key with another body",
                 (unsigned long long)stats.conflicts);
        report_violation(run, line);
        ++violations;
    }
    if (stats.orders_twice != 0) {
        snprintf(line, sizeof(line), "order shipped twice: %llu orders came in two different shipments",
                 (unsigned long long)stats.orders_twice);
        report_violation(run, line);
        ++violations;
    }
    if (stats.bad != 0) {
        snprintf(line, sizeof(line), "bad shipping push: %llu pushes refused (%s)", (unsigned long long)stats.bad,
                 stats.first_problem);
        report_violation(run, line);
        ++violations;
    }
    fprintf(stderr, "livebuy-load: shipping: %llu pushes, %llu shipments, %zu of %zu paid orders handed over\n",
            (unsigned long long)stats.pushes, (unsigned long long)stats.shipments, num_paid - missing, num_paid);
    return violations;
}

#define SNAPSHOT_TRIES 30

static int same_counters(const lb_check_input_t *a, const lb_check_input_t *b)
{
    return a->stock == b->stock && a->reserved == b->reserved && a->sold == b->sold && a->held == b->held &&
           a->available == b->available;
}

/*
 * The counters and the orders as of one moment: requests the run gave up on may still be changing them on the server,
 * so the counters are read before and after the orders, until both reads agree (a second apart, a bounded number of
 * times).
 */
static int fetch_snapshot(lb_load_run_t *run, const char *token, int64_t live_id, lb_check_input_t *in)
{
    for (int attempt = 1;; ++attempt) {
        lb_check_input_t after = {.sku_id = in->sku_id};
        if (fetch_counters(run, in, live_id) != 0 || fetch_orders(run, token, &in->orders, &in->num_orders) != 0 ||
            fetch_counters(run, &after, live_id) != 0)
            return -1;
        if (same_counters(in, &after) || attempt == SNAPSHOT_TRIES) {
            if (attempt == SNAPSHOT_TRIES)
                fprintf(stderr, "livebuy-load: the counters kept changing during the check; checking the last reading\n");
            return 0;
        }
        free(in->orders);
        in->orders = NULL;
        in->has_live_item = 0;
        sleep(1);
    }
}

/*
 * The orders this run was told are paid but those that joined a failed campaign: those are refund_required (their
 * units out of sold), not paid, and lb_check_group_buys sees to them. A new array of *num.
 */
static int64_t *paid_not_failed(const lb_load_run_t *run, const lb_check_order_t *orders, size_t num_orders, size_t *num)
{
    int64_t *paid = lb_malloc((run->num_paid + 1) * sizeof(*paid));
    *num = 0;
    for (size_t i = 0; i != run->num_paid; ++i) {
        int failed = 0;
        for (size_t j = 0; j != num_orders && run->setup.num_campaigns != 0; ++j)
            if (orders[j].id == run->paid[i]) {
                for (size_t k = 0; k != run->setup.num_campaigns; ++k)
                    failed |= orders[j].group_buy_id == run->setup.campaigns[k].id &&
                              strcmp(run->setup.campaigns[k].status, "failed") == 0;
                break;
            }
        if (!failed)
            paid[(*num)++] = run->paid[i];
    }
    return paid;
}

/* The group-buy rules over the orders (sorted by id), and a line on how the campaigns ended. */
static size_t check_campaigns(lb_load_run_t *run, const lb_check_order_t *orders, size_t num_orders)
{
    size_t violations = lb_check_group_buys(run->setup.campaigns, run->setup.num_campaigns, orders, num_orders, run->paid,
                                            run->num_paid, report_violation, run),
           succeeded = 0;
    for (size_t k = 0; k != run->setup.num_campaigns; ++k)
        succeeded += strcmp(run->setup.campaigns[k].status, "succeeded") == 0;
    fprintf(stderr, "livebuy-load: group-buys: %zu succeeded, %zu failed\n", succeeded, run->setup.num_campaigns - succeeded);
    return violations;
}

/* Runs the check; with_observations: compare with what this run was told. Returns 0, 1 (violations) or -1. */
static int check(lb_load_run_t *run, const char *token, int64_t sku_id, int64_t live_id, int with_observations)
{
    lb_check_input_t in = {.sku_id = sku_id};
    if (fetch_snapshot(run, token, live_id, &in) != 0)
        return -1;
    size_t num_paid;
    int64_t *paid = paid_not_failed(run, in.orders, in.num_orders, &num_paid);
    /*
     * Orders whose buyer was answered 200 to a refund request are refund_required or refunded (and their shipment
     * cancelled), or still paid or further when the request waits for the co-op: lb_check_refunds judges them, not the
     * paid rule or the shipping handoff.
     */
    int64_t *kept = lb_malloc((num_paid + 1) * sizeof(*kept));
    size_t num_kept = 0;
    for (size_t i = 0; i != num_paid; ++i) {
        int asked = 0;
        for (size_t j = 0; j != run->num_asked && !asked; ++j)
            asked = run->asked[j] == paid[i];
        /* a refund request whose answer was lost (livebuyd restarted) may have been applied: the refund rules judge
         * its order as well, whichever it was */
        for (size_t j = 0; j != run->num_refund_unsure && !asked; ++j)
            asked = run->refund_unsure[j] == paid[i];
        if (!asked)
            kept[num_kept++] = paid[i];
    }
    if (with_observations) {
        in.has_observations = 1;
        in.grants = run->grants;
        in.num_grants = run->num_grants;
        in.paid = kept;
        in.num_paid = num_kept;
        in.cancelled = run->cancelled;
        in.num_cancelled = run->num_cancelled;
        in.unanswered = run->unanswered_orders;
    }
    run->violations = json_array();
    run->orders_seen = in.num_orders;
    run->check_ran = 1;
    size_t violations = lb_check_run(&in, report_violation, run);
    list_t refunds = {NULL, 0, 0};
    int refunds_read = check_refunds(run, token, &in, with_observations, &refunds, &violations) == 0;
    if (run->receiver != NULL && with_observations)
        violations += check_shipping(run, kept, num_kept);
    if (run->setup.num_campaigns != 0 && refunds_read)
        violations += check_campaigns(run, in.orders, in.num_orders);
    free(refunds.items);
    free(paid);
    fprintf(stderr, "livebuy-load: check %s: %zu orders; SKU %lld stock %lld reserved %lld sold %lld held %lld%s\n",
            violations == 0 ? "ok" : "FAILED", in.num_orders, (long long)sku_id, (long long)in.stock, (long long)in.reserved,
            (long long)in.sold, (long long)in.held, with_observations ? "; every 201 accounted for" : "");
    free(in.orders);
    free(kept);
    if (!refunds_read)
        return -1;
    return violations == 0 ? 0 : 1;
}

static void take_sku(json_t *sku, list_t *list)
{
    lb_check_input_t in = {.sku_id = json_integer_value(json_object_get(sku, "id")),
                           .stock = json_integer_value(json_object_get(sku, "stock")),
                           .reserved = json_integer_value(json_object_get(sku, "reserved")),
                           .sold = json_integer_value(json_object_get(sku, "sold")),
                           .held = json_integer_value(json_object_get(sku, "held"))};
    lb_load_push(&list->items, &list->num, &list->cap, sizeof(in), &in);
}

/* catalog: every SKU's counters (GET /v1/merchant/skus) with its live item's (GET /v1/lives/{id}), one input per SKU. */
static int fetch_catalog_counters(lb_load_run_t *run, list_t *skus)
{
    skus->num = 0;
    if (fetch_list(run, run->setup.coop_token, "/v1/merchant/skus", 200, "skus", take_sku, skus) != 0)
        return -1;
    return run->setup.live_id == 0 ? 0 : fetch_live_items(run, run->setup.live_id, skus->items, skus->num);
}

static int by_sku_then_id(const void *a, const void *b)
{
    const lb_check_order_t *x = a, *y = b;
    if (x->sku_id != y->sku_id)
        return x->sku_id < y->sku_id ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * catalog: the rules over every SKU. The orders and every SKU's counters as of one moment (the counters read before and
 * after the orders agree, as fetch_snapshot); then what the run was told (201s, payments, cancellations: with
 * observations) against all the orders, and each SKU's counters, live item and per-buyer limit against that SKU's own
 * orders. Without observations (`livebuy-load check` with no --sku) only what the server shows is judged, over every
 * SKU the co-op lists. 0, 1 or -1.
 */
static int check_catalog(lb_load_run_t *run, int with_observations)
{
    list_t before = {NULL, 0, 0}, after = {NULL, 0, 0};
    lb_check_order_t *orders = NULL;
    int64_t *paid = NULL;
    size_t num_orders = 0, violations = 0;
    int ret = -1;
    for (int attempt = 1;; ++attempt) {
        free(orders);
        orders = NULL;
        if (fetch_catalog_counters(run, &before) != 0 || fetch_orders(run, run->setup.coop_token, &orders, &num_orders) != 0 ||
            fetch_catalog_counters(run, &after) != 0)
            goto exit;
        int same = before.num == after.num;
        for (size_t i = 0; same && i != before.num; ++i)
            same = same_counters((lb_check_input_t *)before.items + i, (lb_check_input_t *)after.items + i);
        if (same || attempt == SNAPSHOT_TRIES) {
            if (!same)
                fprintf(stderr, "livebuy-load: the counters kept changing during the check; checking the last reading\n");
            break;
        }
        sleep(1);
    }
    run->violations = json_array();
    run->orders_seen = num_orders;
    run->check_ran = 1;
    size_t num_paid;
    paid = paid_not_failed(run, orders, num_orders, &num_paid);
    /* SKU 0 has no orders: this pass checks the listing, the 201s and the follow-ups over all the orders */
    lb_check_input_t all = {.orders = orders, .num_orders = num_orders};
    if (with_observations)
        all = (lb_check_input_t){.orders = orders,
                                 .num_orders = num_orders,
                                 .has_observations = 1,
                                 .grants = run->grants,
                                 .num_grants = run->num_grants,
                                 .paid = paid,
                                 .num_paid = num_paid,
                                 .cancelled = run->cancelled,
                                 .num_cancelled = run->num_cancelled,
                                 .unanswered = run->unanswered_orders};
    violations += lb_check_run(&all, report_violation, run);
    list_t refunds = {NULL, 0, 0};
    int refunds_read = check_refunds(run, run->setup.coop_token, &all, with_observations, &refunds, &violations) == 0;
    if (refunds_read && run->setup.num_campaigns != 0)
        violations += check_campaigns(run, orders, num_orders);
    free(refunds.items);
    if (!refunds_read)
        goto exit;
    if (with_observations && before.num != run->setup.num_skus) {
        char line[128];
        snprintf(line, sizeof(line), "SKUs: the co-op lists %zu SKUs, the run made %zu", before.num, run->setup.num_skus);
        report_violation(run, line);
        ++violations;
    }
    /* each SKU against its own orders (a slice of the orders sorted by SKU) */
    if (num_orders > 1)
        qsort(orders, num_orders, sizeof(*orders), by_sku_then_id);
    size_t first = 0;
    for (lb_check_input_t *in = before.items, *end = in + before.num; in != end; ++in) {
        while (first != num_orders && orders[first].sku_id < in->sku_id)
            ++first;
        size_t last = first;
        while (last != num_orders && orders[last].sku_id == in->sku_id)
            ++last;
        in->orders = orders + first;
        in->num_orders = last - first;
        violations += lb_check_run(in, report_violation, run);
    }
    fprintf(stderr, "livebuy-load: check %s: %zu orders over %zu SKUs%s\n", violations == 0 ? "ok" : "FAILED", num_orders, before.num,
            with_observations ? "; every 201 accounted for" : "");
    ret = violations == 0 ? 0 : 1;
exit:
    free(paid);
    free(orders);
    free(before.items);
    free(after.items);
    return ret;
}

/*
 * --cleanup: the run's live item off air and its product retired, so that the shop shows neither. A group-buy's campaigns
 * close by themselves at their cut-off. 0, or -1 with the reason printed.
 */
static int cleanup(lb_load_run_t *run)
{
    const lb_load_setup_t *s = &run->setup;
    json_t *answer;
    char path[64];
    /* catalog has several of each; the other scenarios one */
    size_t num_items = s->sku_live_items != NULL ? s->num_skus : 1, num_products = s->products != NULL ? s->num_products : 1;
    for (size_t i = 0; i != num_items; ++i) {
        int64_t item = s->sku_live_items != NULL ? s->sku_live_items[i] : s->live_item_id;
        if (item == 0)
            continue;
        snprintf(path, sizeof(path), "/v1/live-items/%lld/close", (long long)item);
        if (setup_call(run, "POST", path, s->host_token, NULL, 200, &answer) != 0)
            return -1;
        json_decref(answer);
    }
    for (size_t i = 0; i != num_products; ++i) {
        int64_t product = s->products != NULL ? s->products[i] : s->product_id;
        if (product == 0)
            continue;
        snprintf(path, sizeof(path), "/v1/products/%lld/retire", (long long)product);
        if (setup_call(run, "POST", path, s->coop_token, NULL, 200, &answer) != 0)
            return -1;
        json_decref(answer);
    }
    fprintf(stderr, "livebuy-load: cleaned up: the run's live items off air, its %zu products retired\n", num_products);
    return 0;
}

static void run_dispose(lb_load_run_t *run)
{
    lb_receiver_stop(run->receiver);
    free(run->series);
    for (size_t i = 0; i != run->num_tokens; ++i)
        free(run->tokens[i]);
    free(run->tokens);
    for (size_t i = 0; i != run->num_bodies; ++i)
        free(run->bodies[i]);
    free(run->bodies);
    free(run->setup.skus);
    free(run->setup.sku_live_items);
    free(run->setup.sku_campaigns);
    free(run->setup.products);
    free(run->setup.sku_cdf);
    free(run->grants);
    lb_idmap_dispose(&run->followed_up);
    free(run->paid);
    free(run->cancelled);
    free(run->pay_sent);
    free(run->asked);
    free(run->refund_unsure);
    json_decref(run->violations);
    free(run);
}

static int check_only(lb_load_run_t *run, const check_args_t *args)
{
    if (args->merchant_token == NULL) {
        bad_usage("%s", "check needs --merchant-token");
        return 2;
    }
    int ret;
    if (args->sku_id != 0) {
        ret = check(run, args->merchant_token, args->sku_id, args->live_id, 0);
    } else { /* every SKU the co-op lists, as catalog's check */
        snprintf(run->setup.coop_token, sizeof(run->setup.coop_token), "%s", args->merchant_token);
        run->setup.live_id = args->live_id;
        ret = check_catalog(run, 0);
    }
    return ret < 0 ? 2 : ret;
}

static int load(lb_load_run_t *run)
{
    const lb_load_options_t *opt = &run->opt;
    if (opt->scenario == LB_LOAD_HEALTHZ_ONLY) { /* nothing to set up or check: the generator's own speed */
        if (lb_load_scenario_run(run) != 0)
            return 2;
        lb_load_report_print(run);
        int verdict = lb_load_verdict(run);
        return (opt->json_path != NULL && lb_load_report_json(run, opt->json_path) != 0) ||
                       (opt->plot_path != NULL && lb_load_report_html(run, opt->plot_path) != 0)
                   ? 2
                   : verdict;
    }
    if (opt->admin_token == NULL || opt->buyer_secret == NULL) {
        bad_usage("%s", "--admin-token and --buyer-secret are needed");
        return 2;
    }
    if ((opt->scenario == LB_LOAD_MIXED || opt->scenario == LB_LOAD_GROUPBUY || opt->scenario == LB_LOAD_CATALOG) &&
        opt->payment_secret == NULL &&
        opt->pay_share > 0) {
        bad_usage("%s", "payments are signed notifies: give --payment-secret (or --pay-share 0)");
        return 2;
    }
    if (opt->receiver_port != 0) {
        if (opt->shipping_secret == NULL) {
            bad_usage("%s", "--receiver needs --shipping-secret (livebuyd's)");
            return 2;
        }
        if ((run->receiver = lb_receiver_start(opt->receiver_port, opt->shipping_secret)) == NULL)
            return 2;
    }
    int set_up = opt->scenario == LB_LOAD_GROUPBUY   ? setup_groupbuy(run)
                 : opt->scenario == LB_LOAD_CATALOG ? setup_catalog(run)
                                                    : setup(run);
    if (set_up != 0 || lb_load_scenario_run(run) != 0)
        return 2;
    if (opt->check && wait_campaigns(run) != 0) /* (the scenarios with campaigns) */
        return 2;
    lb_load_report_print(run);
    int ret = !opt->check                         ? 0
              : opt->scenario == LB_LOAD_CATALOG ? check_catalog(run, 1)
                                                 : check(run, run->setup.coop_token, run->setup.sku_id, run->setup.live_id, 1);
    int verdict = lb_load_verdict(run);
    if ((opt->json_path != NULL && lb_load_report_json(run, opt->json_path) != 0) ||
        (opt->plot_path != NULL && lb_load_report_html(run, opt->plot_path) != 0) || (opt->cleanup && cleanup(run) != 0))
        return 2;
    return ret < 0 ? 2 : ret != 0 ? ret : verdict;
}

int main(int argc, char **argv)
{
    lb_load_run_t *run = lb_calloc(1, sizeof(*run));
    check_args_t check_args = {NULL, 0, 0};
    int is_check = argc > 1 && strcmp(argv[1], "check") == 0, ret;
    if (is_check) {
        --argc;
        ++argv;
    }
    if (parse_options(argc, argv, &run->opt, &check_args) != 0) {
        ret = 2;
    } else if (lb_h1_parse_url(run->opt.url, &run->setup.target) != 0) {
        bad_usage("--url %s: want http://HOST:PORT", run->opt.url);
        ret = 2;
    } else {
        ret = is_check ? check_only(run, &check_args) : load(run);
    }
    run_dispose(run);
    return ret;
}
