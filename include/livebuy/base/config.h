/* livebuyd's settings: flags with environment twins (API.md "Running"), validated in one place. */
#ifndef LIVEBUY_CONFIG_H
#define LIVEBUY_CONFIG_H

#include "livebuy/base/log.h"
#include "livebuy/base/origins.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where the database is, parsed from mysql://USER[:PASS]@HOST[:PORT]/DB[?socket=PATH]. */
typedef struct st_lb_db_url_t {
    char *user;
    char *password; /* NULL when the URL has none */
    char *host;
    unsigned port; /* 0: the default */
    char *database;
    char *socket; /* NULL unless ?socket= */
} lb_db_url_t;

typedef struct st_lb_config_t {
    char *listen_text; /* as given; split into listen_host and listen_port */
    char *listen_host;
    unsigned listen_port;
    char *db_url_text;
    lb_db_url_t db;
    unsigned threads;
    unsigned db_pool; /* worker threads, each with its own connection */
    char *admin_token;
    char *buyer_secret;
    char *payment_secret;
    char *shipping_url;
    char *shipping_secret;
    char *shipping_format;          /* "json" or "msgpack": the body of pushes */
    unsigned shipping_max_attempts; /* pushes of one shipment before it is a dead letter */
    unsigned shipping_backoff_ms;   /* the first retry's delay; doubles per attempt (hidden flag, for tests) */
    char *payment_provider;         /* "generic" or "wechatpay": which notifications are taken, how refunds are pushed */
    int payment_sandbox;            /* the cashier /pay/{order_id} and the sandbox refund receiver (never in production) */
    char *refund_url;               /* where refunds are pushed (the provider's refund API); NULL: they wait, pending */
    unsigned refund_max_attempts;   /* pushes of one refund before it is a dead letter */
    unsigned refund_backoff_ms;     /* the first retry's delay; doubles per attempt (hidden flag, for tests) */
    /* WeChat Pay API v3 (--payment-provider wechatpay). */
    char *wechatpay_mchid;           /* the merchant id (mchid) */
    char *wechatpay_merchant_key;    /* PEM file: the merchant's API private key, signs refund requests */
    char *wechatpay_merchant_serial; /* the serial number of the merchant's API certificate (serial_no) */
    char *wechatpay_platform_cert;   /* PEM file: WeChat Pay's platform certificate, verifies notifications */
    char *wechatpay_apiv3_key;       /* the APIv3 key (32 bytes): decrypts notifications' resource */
    char *wechatpay_notify_url;      /* the public URL of /v1/payments/wechatpay/notify, sent with refund requests */
    unsigned max_batch;
    unsigned max_batch_skus; /* SKUs whose batches may share a reservation transaction */
    unsigned shards;         /* backends of a sharded database (SKU id modulo their number); 1 when unsharded */
    unsigned max_queue;
    unsigned max_waiting_calls;
    unsigned max_buyer_orders;      /* orders of one buyer waiting at once (livebuy/order/fairness.h); 0: no cap */
    unsigned max_connection_orders; /* orders of one connection waiting at once; 0: no cap */
    unsigned max_connections;       /* connections open at once, all threads; 0: from the file limit */
    unsigned answer_budget_mb;            /* memory all undelivered answers may hold (livebuy/http/connections.h) */
    unsigned connection_answer_budget_mb; /* memory one connection's undelivered answers may hold */
    unsigned order_wait_ms;         /* an order no batch took within this is answered 503; 0: no deadline */
    unsigned max_order_resets;      /* orders a connection may reset in a second before it is closed; 0: never closed */
    unsigned reserve_ttl;
    size_t max_body;
    char *tls_cert;
    char *tls_key;
    char *sql_dir;   /* NULL unless given: then livebuyd's own (livebuy/app/install.h) */
    char *web_dir;   /* the same */
    char *media_dir; /* the product photos' files (livebuy/store/media.h), made at start if missing */
    int migrate_only;
    char *log_level_text, *log_format_text, *access_log_text; /* as given; parsed into the three below */
    lb_log_level_t log_level;
    lb_log_format_t log_format;
    int access_log; /* one line per answered request */
    /* The web pages' origins that may call the API from a browser (livebuy/http/cors.h), parsed from the text given. */
    char *cors_origin_text;
    lb_origins_t cors_origins;
} lb_config_t;

/* Outcome of lb_config_parse beyond "ok". */
#define LB_CONFIG_HELP    1 /* --help was given: usage printed, exit 0 */
#define LB_CONFIG_VERSION 2 /* --version was given: the version printed, exit 0 */

/*
 * Fills cfg from the environment first, then argv (flags win). On an invalid setting returns LB_EINPUT with a one-line
 * reason in err. The strings in cfg are owned by cfg (lb_config_free).
 */
int lb_config_parse(lb_config_t *cfg, int argc, char **argv, char *err, size_t errsize);
void lb_config_free(lb_config_t *cfg);
/* Parses a database URL into url (owned strings); LB_EINPUT with a reason in err and url empty when it is not one. */
int lb_config_parse_db_url(lb_db_url_t *url, const char *text, char *err, size_t errsize);
void lb_config_free_db_url(lb_db_url_t *url);
/* The usage text for --help. */
void lb_config_usage(FILE *out);

#endif
