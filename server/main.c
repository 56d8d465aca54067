/* livebuyd: read the settings, check the database, apply migrations, serve. */
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <h2o/version.h>
#include "livebuy/common.h"
#include "livebuy/base/config.h"
#include "livebuy/db/db.h"
#include "livebuy/feed/stock_feed.h"
#include "livebuy/order/lanes.h"
#include "livebuy/order/sku_actions.h"
#include "livebuy/order/fairness.h"
#include "livebuy/http/call.h"
#include "livebuy/db/migrate.h"
#include "livebuy/app/server.h"
#include "livebuy/app/install.h"
#ifdef LB_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#define EXIT_BAD_SETTING 2

/* A flash sale is thousands of open connections: take every file descriptor the system allows us. */
static void raise_open_files_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/*
 * glibc's fastbins are consolidated on every larger allocation, and h2o takes a 4 KiB pool chunk per request: with
 * thousands of small JSON allocations in between, that consolidation was a fifth of the loop thread's time. The
 * per-thread caches (tcache) still serve small allocations.
 */
static void tune_malloc(void)
{
    mallopt(M_MXFAST, 0);
}

#ifdef LB_WITH_MIMALLOC
/*
 * After a crowd of clients leaves (or is closed for holding answers it did not read), what h2o and we freed stays in
 * mimalloc's pages of the loop thread. A collect frees the empty pages. mimalloc 2.0.9 decommits a freed span of a
 * segment only some time after it was freed (its decommit delay), and only when it next takes a page from or frees one
 * into that segment: a segment that a few long-lived blocks keep (h2o's recycled buffers, made during the attack) and
 * that nothing touches after the crowd left keeps what it held, 30 MB in one zero-window run of two. The delay stays
 * mimalloc's own under load: at 0, every span freed under load is an madvise and its reuse page faults (GET /healthz
 * ran at a tenth of its rate, the kernel's TLB shootdowns two thirds of the time).
 */
static long decommit_delay; /* mimalloc's, as the process started (MIMALLOC_DECOMMIT_DELAY or its default) */
static uv_mutex_t probing;  /* one loop thread at a time sets the delay to 0 and back */

static size_t committed_bytes(void)
{
    size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
    mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
    return commit;
}

/*
 * Once the clients are gone: with the delay at 0, taking a page from a segment carries out all its pending decommits.
 * Probes of a megabyte, held until the walk ends, take pages from this thread's free spans of a megabyte or more, in
 * every segment, smallest spans first, until one takes a fresh segment (mimalloc commits one at once: the committed
 * memory jumps); freed at 0, they are decommitted at once, and the collect after gives the fresh segment back.
 */
static void decommit_free_spans(void)
{
    enum { PROBE_BYTES = 1 << 20, MAX_PROBES = 1024, FRESH_SEGMENT_BYTES = 8 << 20 };
    void *probes[MAX_PROBES];
    size_t count = 0, commit = committed_bytes();
    uv_mutex_lock(&probing);
    mi_option_set(mi_option_decommit_delay, 0);
    while (count != MAX_PROBES) {
        probes[count++] = mi_malloc(PROBE_BYTES);
        size_t now = committed_bytes();
        if (now > commit + FRESH_SEGMENT_BYTES)
            break;
        commit = now;
    }
    for (size_t i = 0; i != count; ++i)
        mi_free(probes[i]);
    mi_option_set(mi_option_decommit_delay, decommit_delay);
    uv_mutex_unlock(&probing);
}

static void purge_memory(int clients_gone)
{
    mi_collect(true);
    if (clients_gone) {
        decommit_free_spans();
        mi_collect(true);
    }
}

static void set_memory_purge(void)
{
    decommit_delay = mi_option_get(mi_option_decommit_delay);
    uv_mutex_init(&probing);
    lb_server_set_memory_purge(purge_memory);
}
#endif

/* --sql-dir and --web-dir when not given: the folders livebuyd was installed (or built) with. Returns which rule chose
 * them (livebuy/app/install.h), or "given". */
static const char *find_own_files(lb_config_t *config)
{
    char dir[4096], path[4200];
    if (config->sql_dir != NULL && config->web_dir != NULL)
        return "given";
    const char *rule = lb_install_data_dir(dir, sizeof(dir));
    if (config->sql_dir == NULL) {
        snprintf(path, sizeof(path), "%s/sql", dir);
        config->sql_dir = lb_strdup(path);
    }
    if (config->web_dir == NULL) {
        snprintf(path, sizeof(path), "%s/web", dir);
        config->web_dir = lb_strdup(path);
    }
    return rule;
}

static void set_pool_size(unsigned size)
{
    char value[16];
    /* libuv sizes its thread pool from the environment on first use; each pool thread holds one connection. */
    snprintf(value, sizeof(value), "%u", size);
    setenv("UV_THREADPOOL_SIZE", value, 1);
}

int main(int argc, char **argv)
{
    lb_config_t config;
    char err[512];
    unsigned applied;
    int ret;

    switch (lb_config_parse(&config, argc, argv, err, sizeof(err))) {
    case 0:
        break;
    case LB_CONFIG_HELP:
        lb_config_usage(stdout);
        lb_config_free(&config);
        return 0;
    case LB_CONFIG_VERSION:
        printf("livebuyd %s (h2o %s, libuv %s, MariaDB Connector/C %s)\n", LB_VERSION, H2O_VERSION, uv_version_string(),
               mysql_get_client_info());
        lb_config_free(&config);
        return 0;
    default:
        fprintf(stderr, "livebuyd: %s\n", err);
        lb_config_free(&config);
        return EXIT_BAD_SETTING;
    }
    lb_log_setup(config.log_level, config.log_format, config.access_log);
    const char *files_rule = find_own_files(&config);
    raise_open_files_limit();
    tune_malloc();
    set_pool_size(config.db_pool);
    /* --shards > 1: a sharded front, where rows are written as multi-row INSERTs (docs/scale-out.md) */
    lb_db_global_init(&config.db, config.shards > 1);

    if (lb_migrate(config.sql_dir, &applied, err, sizeof(err)) != 0) {
        fprintf(stderr, "livebuyd: %s\n", err);
        ret = EXIT_BAD_SETTING;
        goto Exit;
    }
    /* after the refusals, which are one line each */
    lb_log(LB_LOG_INFO, "migrations from %s, web pages from %s (%s)", config.sql_dir, config.web_dir, files_rule);
    if (config.migrate_only) {
        lb_log(LB_LOG_INFO, "%u migration%s applied; the schema is up to date", applied, applied == 1 ? "" : "s");
        ret = 0;
        goto Exit;
    }
    lb_lanes_configure(config.max_batch, config.max_queue, config.reserve_ttl);
    /* As many reservation transactions out per loop thread as it has connections: past them, SKUs share one. */
    unsigned jobs = (config.db_pool + config.threads - 1) / config.threads;
    lb_lanes_share_jobs(jobs, config.max_batch_skus, config.shards);
    lb_sku_actions_share_jobs(jobs, config.max_batch_skus, config.shards);
    lb_lanes_set_deadline(config.order_wait_ms);
    /* Calls (every route but orders and payments) leave the thread's order batches a worker (livebuy/http/call.h). */
    lb_call_admission(jobs > 1 ? jobs - 1 : 1, config.max_waiting_calls, config.order_wait_ms);
    lb_fairness_configure(config.max_buyer_orders, config.max_connection_orders, config.max_order_resets);
    lb_lanes_publish_to(lb_stock_feed_publish);
#ifdef LB_WITH_MIMALLOC
    set_memory_purge();
#endif
    ret = lb_server_run(&config);
Exit:
    lb_config_free(&config);
    return ret;
}
