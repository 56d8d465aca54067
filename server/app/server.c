/*
 * The HTTP side of livebuyd: one libuv loop and h2o context per thread, each with its own SO_REUSEPORT listener (the
 * kernel spreads connections), HTTP/1.1 and cleartext HTTP/2 on the same port or HTTPS with h2 by ALPN, and a stop in
 * three steps on SIGTERM/SIGINT: close the listeners, let database jobs in flight finish, stop the loops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <h2o.h>
#include <h2o/http2.h>
#include "livebuy/base/wechatpay.h"
#include "livebuy/base/log.h"
#include "livebuy/handlers.h"
#include "livebuy/http/call.h"
#include "livebuy/http/connections.h"
#include "livebuy/http/door.h"
#include "livebuy/http/media.h"
#include "livebuy/store/media.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/base/metrics.h"
#include "livebuy/app/server.h"
#include "livebuy/jobs/buyer_index.h"
#include "livebuy/jobs/closer.h"
#include "livebuy/model/reservation.h"
#include "livebuy/jobs/backlogs.h"
#include "livebuy/jobs/dispatcher.h"
#include "livebuy/jobs/refund_push.h"
#include "livebuy/feed/stock_feed.h"
#include "livebuy/jobs/sweeper.h"

#define STOP_GRACE_MS 5000
#define STOP_POLL_MS  20

typedef struct st_loop_thread_t {
    pthread_t thread;
    uv_loop_t loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    lb_connections_t connections;
    uv_async_t stop_request;
    uv_timer_t stop_timer;
    uint64_t stop_deadline;
    int listen_fd;
    uv_prepare_t log_flush; /* writes the thread's access lines once per loop iteration, before it waits */
} loop_thread_t;

static const lb_config_t *config;
static h2o_globalconf_t globalconf;
static SSL_CTX *ssl_ctx;
static lb_wechatpay_platform_t *wechatpay_platform; /* --payment-provider wechatpay: verifies its notifications */
static loop_thread_t *loop_threads;
static const char *route_labels[96]; /* as many as the metrics take (server/base/metrics.c) */

static void on_accept(uv_stream_t *listener, int status)
{
    loop_thread_t *t = listener->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = lb_connections_new_tcp(listener->loop);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    lb_connections_accept(&t->connections, &t->accept_ctx, conn);
}

/* A listening socket with SO_REUSEPORT, so that every loop thread can have its own. */
static int open_listener(char *err, size_t errsize)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE};
    struct addrinfo *addr;
    char port[8];
    int fd = -1, on = 1, ret;

    snprintf(port, sizeof(port), "%u", config->listen_port);
    if ((ret = getaddrinfo(config->listen_host, port, &hints, &addr)) != 0) {
        snprintf(err, errsize, "--listen host \"%s\" is not an IP address: %s", config->listen_host, gai_strerror(ret));
        return -1;
    }
    if ((fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 || bind(fd, addr->ai_addr, addr->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        snprintf(err, errsize, "cannot listen on %s:%s: %s", config->listen_host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(addr);
    return fd;
}

static int setup_tls(char *err, size_t errsize)
{
    ssl_ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, config->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx, config->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ssl_ctx) != 1) {
        snprintf(err, errsize, "cannot use --tls-cert %s / --tls-key %s: %s", config->tls_cert, config->tls_key,
                 ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    h2o_ssl_register_alpn_protocols(ssl_ctx, h2o_http2_alpn_protocols);
    return 0;
}

/* The API on an h2o path; after a file handler there, it gets what that handler passes on (the API's JSON 404). */
static void add_api(h2o_pathconf_t *path)
{
    lb_call_register(path, config, lb_routes, lb_num_routes)->wechatpay = wechatpay_platform;
}

/* WeChat Pay's platform certificate, read once at start: a file that cannot be used stops livebuyd there. */
static int load_wechatpay(char *err, size_t errsize)
{
    char why[400];
    if (strcmp(config->payment_provider, "wechatpay") != 0)
        return 0;
    if ((wechatpay_platform = lb_wechatpay_platform_load(config->wechatpay_platform_cert, why, sizeof(why))) == NULL) {
        snprintf(err, errsize, "cannot use --wechatpay-platform-cert: %s", why);
        return -1;
    }
    lb_log(LB_LOG_INFO, "WeChat Pay notifications at /v1/payments/wechatpay/notify, platform certificate serial %s",
           lb_wechatpay_platform_serial(wechatpay_platform));
    return 0;
}

/*
 * What every answer of the pages and their files says besides the file (docs/api.md, "Web pages"): browsers check a
 * file again before they use their copy (an upgrade never runs a new page with an old common.js), take it for the type
 * it is sent as, send Referer only to this site, run scripts of this site only (the pages have no inline script), and
 * never show a page inside another site's frame (where a buyer's remembered token could be made to tap 立即抢购).
 */
static void add_page_headers(h2o_pathconf_t *path)
{
    static h2o_iovec_t nosniff = {H2O_STRLIT("x-content-type-options")}, referrer = {H2O_STRLIT("referrer-policy")},
                       csp = {H2O_STRLIT("content-security-policy")};
    static h2o_headers_command_t commands[] = {
        {H2O_HEADERS_CMD_SETIFEMPTY, (h2o_iovec_t *)H2O_TOKEN_CACHE_CONTROL, {H2O_STRLIT("no-cache")}},
        {H2O_HEADERS_CMD_SETIFEMPTY, &nosniff, {H2O_STRLIT("nosniff")}},
        {H2O_HEADERS_CMD_SETIFEMPTY, &referrer, {H2O_STRLIT("same-origin")}},
        {H2O_HEADERS_CMD_SETIFEMPTY, &csp,
         {H2O_STRLIT("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
                     "object-src 'none'; base-uri 'none'; frame-ancestors 'self'")}},
        {H2O_HEADERS_CMD_NULL}};
    h2o_headers_register(path, commands);
}

/*
 * The web pages from --web-dir: /shop/{live_id} is shop.html and /overlay/{live_id} overlay.html for every live, and
 * /group/{id} group.html for every group-buy (the page reads the id from its URL), /coop is coop.html, /host
 * host.html, /station station.html, /web/ the folder itself (scripts, styles, images; no listings); with --payment-sandbox,
 * /pay/{order_id} is the sandbox's cashier, pay.html; /docs the API reference, docs.html, which renders
 * /web/openapi.yaml (a link to docs/openapi.yaml). A missing file gets the API's 404, and so does a path below a page
 * that names none (/shop/abc, /coop/x: the door).
 */
static void setup_web(h2o_hostconf_t *host)
{
    static const char *no_index_files[] = {NULL};
    static const struct {
        const char *path, *file;
        lb_door_files_t door; /* LB_DOOR_PAGE_ID: the page of one live, order or group-buy, /{path}/{id} */
    } pages[] = {{"/shop", "shop.html", LB_DOOR_PAGE_ID},    {"/coop", "coop.html", LB_DOOR_PAGE},
                 {"/host", "host.html", LB_DOOR_PAGE},       {"/overlay", "overlay.html", LB_DOOR_PAGE_ID},
                 {"/pay", "pay.html", LB_DOOR_PAGE_ID},      {"/group", "group.html", LB_DOOR_PAGE_ID},
                 {"/station", "station.html", LB_DOOR_PAGE}, {"/docs", "docs.html", LB_DOOR_PAGE}};
    char file[4096];

    h2o_mimemap_t *mimemap = h2o_mimemap_create();
    h2o_mimemap_define_mimetype(mimemap, "html", "text/html; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(mimemap, "css", "text/css; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(mimemap, "js", "text/javascript; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(mimemap, "mjs", "text/javascript; charset=utf-8", NULL);
    h2o_mimemap_define_mimetype(mimemap, "yaml", "application/yaml; charset=utf-8", NULL);
    h2o_mimemap_type_t *html = h2o_mimemap_get_type_by_extension(mimemap, h2o_iovec_init(H2O_STRLIT("html")));
    for (size_t i = 0; i != sizeof(pages) / sizeof(pages[0]); ++i) {
        if (strcmp(pages[i].path, "/pay") == 0 && !config->payment_sandbox)
            continue;
        snprintf(file, sizeof(file), "%s/%s", config->web_dir, pages[i].file);
        if (access(file, R_OK) != 0)
            lb_log(LB_LOG_WARN, "%s is missing: %s answers 404 (--web-dir)", file, pages[i].path);
        h2o_pathconf_t *path = h2o_config_register_path(host, pages[i].path, 0);
        lb_door_register(path, config, lb_num_routes, pages[i].door);
        h2o_file_register_file(path, file, html, 0);
        add_api(path);
        add_page_headers(path);
    }
    h2o_pathconf_t *path = h2o_config_register_path(host, "/web", 0);
    lb_door_register(path, config, lb_num_routes, LB_DOOR_FOLDER);
    h2o_file_register(path, config->web_dir, no_index_files, mimemap, 0);
    add_api(path);
    add_page_headers(path);
    h2o_mem_release_shared(mimemap);
}

/* The product photos at /media/, from --media-dir (made now if missing: livebuyd stops when it cannot be). */
static int setup_media(h2o_hostconf_t *host, char *err, size_t errsize)
{
    if (lb_media_dir_prepare(config->media_dir, err, errsize) != 0)
        return -1;
    h2o_pathconf_t *path = h2o_config_register_path(host, "/media", 0);
    lb_door_register(path, config, lb_num_routes, LB_DOOR_FILES);
    lb_media_register(path, config->media_dir);
    return 0;
}

/* --payment-sandbox lets buyers pay without paying: said loudly, at every start, where an operator looks. */
static void warn_sandbox(void)
{
    lb_log(LB_LOG_WARN, "--payment-sandbox is ON: NEVER RUN THIS IN PRODUCTION. /pay/{order_id} and POST /sandbox/pay/{order_id} "
                        "let any buyer mark an order of their own paid without paying (the server signs the notify with "
                        "--payment-secret); POST /sandbox/refunds says every refund pushed to it went back.");
}

static int setup_h2o(char *err, size_t errsize)
{
    h2o_config_init(&globalconf);
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("livebuy"));
    /*
     * --max-body (and a photo upload's 2 MiB) is enforced by the call layer, which answers 413 with the API's error body,
     * by Content-Length first. h2o's own limit sits 1 MiB above the larger of the two: bodies past that are refused by h2o itself
     * (HTTP/1.1: a plain-text 413; HTTP/2: the stream is reset), before they are buffered whole.
     */
    globalconf.max_request_entity_size =
        (config->max_body > LB_UPLOAD_MAX_BODY ? config->max_body : LB_UPLOAD_MAX_BODY) + (1 << 20);
    globalconf.handshake_timeout = 10000;
    globalconf.http1.req_timeout = 10000;
    globalconf.http2.idle_timeout = 30000;
    /* h2o 2.2.5 lacks the HTTP/2 Rapid Reset defence: bound what one connection can start at once. */
    globalconf.http2.max_concurrent_requests_per_connection = 128;
    h2o_hostconf_t *host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    /* h2o 2.2.5 takes the first registered path that matches: the web pages' paths go before the API's "/". */
    setup_web(host);
    if (setup_media(host, err, errsize) != 0)
        return -1;
    h2o_pathconf_t *api = h2o_config_register_path(host, "/", 0);
    lb_door_register(api, config, lb_num_routes, LB_DOOR_API);
    add_api(api);
    return 0;
}

static void on_stop_timer(uv_timer_t *timer)
{
    loop_thread_t *t = timer->data;
    if (lb_db_jobs_pending() == 0 || uv_now(&t->loop) >= t->stop_deadline)
        uv_stop(&t->loop);
}

/* Runs on each loop's thread when a stop is requested: no new connections, then wait for the database jobs. */
static void on_stop_request(uv_async_t *async)
{
    loop_thread_t *t = async->data;
    uv_close((uv_handle_t *)&t->listener, NULL);
    lb_connections_stop(&t->connections);
    lb_stock_feed_stop();
    if (t == &loop_threads[0]) {
        lb_sweeper_stop();
        lb_backlogs_stop();
        lb_buyer_index_stop();
        lb_closer_stop();
        if (config->shipping_url != NULL)
            lb_dispatcher_stop();
        if (config->refund_url != NULL)
            lb_refund_push_stop();
    }
    t->stop_deadline = uv_now(&t->loop) + STOP_GRACE_MS;
    uv_timer_init(&t->loop, &t->stop_timer);
    t->stop_timer.data = t;
    uv_timer_start(&t->stop_timer, on_stop_timer, 0, STOP_POLL_MS);
}

static void on_signal(uv_signal_t *signal, int signum)
{
    lb_log(LB_LOG_INFO, "%s received, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    for (unsigned i = 0; i != config->threads; ++i)
        uv_async_send(&loop_threads[i].stop_request);
    uv_close((uv_handle_t *)signal, NULL);
}

/*
 * Connections one loop thread keeps open: --max-connections shared among the threads, or, by default, what the file
 * limit leaves after the database connections and a margin for the listeners, logs, migrations and the pages' files.
 */
static size_t connection_cap(void)
{
    size_t total = config->max_connections;
    if (total == 0) {
        struct rlimit limit;
        size_t files = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (size_t)limit.rlim_cur : 65536;
        size_t kept = config->db_pool + 64;
        total = files > kept * 2 ? files - kept : files / 2;
    }
    return total / config->threads != 0 ? total / config->threads : 1;
}

static void flush_log(uv_prepare_t *prepare)
{
    (void)prepare;
    lb_log_flush_thread();
}

static int start_loop_thread(loop_thread_t *t, char *err, size_t errsize)
{
    uv_loop_init(&t->loop);
    h2o_context_init(&t->ctx, &t->loop, &globalconf);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = globalconf.hosts;
    t->accept_ctx.ssl_ctx = ssl_ctx;
    lb_connections_init(&t->connections, &t->loop, connection_cap());
    uv_async_init(&t->loop, &t->stop_request, on_stop_request);
    t->stop_request.data = t;
    uv_prepare_init(&t->loop, &t->log_flush);
    uv_prepare_start(&t->log_flush, flush_log);
    uv_unref((uv_handle_t *)&t->log_flush);

    if ((t->listen_fd = open_listener(err, errsize)) < 0)
        return -1;
    uv_tcp_init(&t->loop, &t->listener);
    t->listener.data = t;
    int ret;
    if ((ret = uv_tcp_open(&t->listener, t->listen_fd)) != 0 ||
        (ret = uv_listen((uv_stream_t *)&t->listener, SOMAXCONN, on_accept)) != 0) {
        snprintf(err, errsize, "cannot listen: %s", uv_strerror(ret));
        return -1;
    }
    return 0;
}

static void *run_loop_thread(void *arg)
{
    loop_thread_t *t = arg;
    lb_connections_bind(&t->connections);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    lb_log_flush_thread();
    return NULL;
}

void lb_server_set_memory_purge(void (*purge)(int clients_gone))
{
    lb_connections_set_purge(purge);
}

int lb_server_run(const lb_config_t *cfg)
{
    char err[512];
    config = cfg;
    signal(SIGPIPE, SIG_IGN);

    for (size_t i = 0; i != lb_num_routes; ++i)
        route_labels[i] = lb_routes[i].label != NULL ? lb_routes[i].label : lb_routes[i].pattern;
    route_labels[lb_num_routes] = "unmatched";
    lb_metrics_init(route_labels, lb_num_routes + 1);
    lb_metrics_init_orders(lb_order_outcome_labels, LB_OUTCOMES);
    lb_metrics_build_info(LB_VERSION, H2O_VERSION, uv_version_string());
    lb_connections_set_budgets((size_t)config->answer_budget_mb << 20, (size_t)config->connection_answer_budget_mb << 20);

    if (load_wechatpay(err, sizeof(err)) != 0)
        goto Error;
    if (setup_h2o(err, sizeof(err)) != 0)
        goto Error;
    if (config->tls_cert != NULL && setup_tls(err, sizeof(err)) != 0)
        goto Error;
    loop_threads = lb_calloc(config->threads, sizeof(*loop_threads));
    for (unsigned i = 0; i != config->threads; ++i)
        if (start_loop_thread(&loop_threads[i], err, sizeof(err)) != 0)
            goto Error;
    /* Background work runs on the first loop only (which runs on this thread). */
    lb_sweeper_start(&loop_threads[0].loop, config->shards);
    lb_backlogs_start(&loop_threads[0].loop);
    lb_buyer_index_start(&loop_threads[0].loop, config->shards);
    lb_closer_start(&loop_threads[0].loop);
    if (config->shipping_url != NULL)
        lb_dispatcher_start(&loop_threads[0].loop, config);
    if (config->refund_url != NULL && lb_refund_push_start(&loop_threads[0].loop, config, err, sizeof(err)) != 0)
        goto Error;

    uv_signal_t sigterm, sigint;
    uv_signal_init(&loop_threads[0].loop, &sigterm);
    uv_signal_init(&loop_threads[0].loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);

    if (config->payment_sandbox)
        warn_sandbox();
    lb_log(LB_LOG_INFO, "listening on %s://%s:%u with %u thread%s", ssl_ctx != NULL ? "https" : "http", config->listen_host,
           config->listen_port, config->threads, config->threads == 1 ? "" : "s");
    for (unsigned i = 1; i < config->threads; ++i)
        pthread_create(&loop_threads[i].thread, NULL, run_loop_thread, &loop_threads[i]);
    run_loop_thread(&loop_threads[0]);
    for (unsigned i = 1; i < config->threads; ++i)
        pthread_join(loop_threads[i].thread, NULL);

    /* Connections still open are dropped with the process; only the database is closed in order. */
    if (lb_db_jobs_pending() == 0)
        lb_db_global_dispose();
    else
        lb_log(LB_LOG_WARN, "%u database jobs still running at exit", lb_db_jobs_pending());
    lb_wechatpay_platform_free(wechatpay_platform);
    lb_log(LB_LOG_INFO, "stopped");
    return 0;

Error:
    fprintf(stderr, "livebuyd: %s\n", err);
    return 2;
}
