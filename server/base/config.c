/* livebuyd's settings: one table of flags, each with its environment twin, parsed and validated in one place. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/config.h"

#define MIN_SECRET_LEN 16

typedef enum en_setting_kind_t { SETTING_STRING, SETTING_SECRET, SETTING_UINT, SETTING_SWITCH } setting_kind_t;

typedef struct st_setting_t {
    const char *flag;
    const char *env;
    setting_kind_t kind;
    size_t offset;
    unsigned long long min, max; /* SETTING_UINT */
    const char *help;
} setting_t;

#define STR(field, flag, env, help)                                                                                                \
    {                                                                                                                              \
        flag, env, SETTING_STRING, offsetof(lb_config_t, field), 0, 0, help                                                        \
    }
#define SECRET(field, flag, env, help)                                                                                             \
    {                                                                                                                              \
        flag, env, SETTING_SECRET, offsetof(lb_config_t, field), 0, 0, help                                                        \
    }
#define UINT(field, flag, env, lo, hi, help)                                                                                       \
    {                                                                                                                              \
        flag, env, SETTING_UINT, offsetof(lb_config_t, field), lo, hi, help                                                        \
    }

static const setting_t settings[] = {
    STR(listen_text, "--listen", "LIVEBUY_LISTEN", "HOST:PORT to listen on (default 127.0.0.1:8080)"),
    STR(db_url_text, "--db", "LIVEBUY_DB", "mysql://USER[:PASS]@HOST[:PORT]/DB or mysql://USER@localhost/DB?socket=PATH"),
    UINT(threads, "--threads", "LIVEBUY_THREADS", 1, 64, "event-loop threads (default 1)"),
    SECRET(admin_token, "--admin-token", "LIVEBUY_ADMIN_TOKEN", "token that may create merchants"),
    SECRET(buyer_secret, "--buyer-secret", "LIVEBUY_BUYER_SECRET", "HMAC key for buyer tokens"),
    SECRET(payment_secret, "--payment-secret", "LIVEBUY_PAYMENT_SECRET", "HMAC key for payment notifies"),
    STR(shipping_url, "--shipping-url", "LIVEBUY_SHIPPING_URL", "where paid orders are pushed"),
    SECRET(shipping_secret, "--shipping-secret", "LIVEBUY_SHIPPING_SECRET", "HMAC key for shipping, both directions"),
    STR(shipping_format, "--shipping-format", "LIVEBUY_SHIPPING_FORMAT", "json or msgpack: the body of pushes (default json)"),
    UINT(shipping_max_attempts, "--shipping-max-attempts", "LIVEBUY_SHIPPING_MAX_ATTEMPTS", 1, 1000,
         "pushes of a shipment before it is a dead letter (default 12)"),
    /* Hidden from --help (NULL help): tests shorten the retry backoff with it; documented in the README. */
    UINT(shipping_backoff_ms, "--shipping-backoff-ms", "LIVEBUY_SHIPPING_BACKOFF_MS", 1, 60000, NULL),
    STR(payment_provider, "--payment-provider", "LIVEBUY_PAYMENT_PROVIDER",
        "generic or wechatpay: the notifications taken and the refund push (default generic)"),
    {"--payment-sandbox", "LIVEBUY_PAYMENT_SANDBOX", SETTING_SWITCH, offsetof(lb_config_t, payment_sandbox), 0, 0,
     "the demo cashier /pay/{order_id} and refund receiver: NEVER in production (anyone can pay)"},
    STR(refund_url, "--refund-url", "LIVEBUY_REFUND_URL", "where refunds are pushed (the provider's refund API)"),
    UINT(refund_max_attempts, "--refund-max-attempts", "LIVEBUY_REFUND_MAX_ATTEMPTS", 1, 1000,
         "pushes of one refund before it is a dead letter (default 12)"),
    UINT(refund_backoff_ms, "--refund-backoff-ms", "LIVEBUY_REFUND_BACKOFF_MS", 1, 60000, NULL),
    STR(wechatpay_mchid, "--wechatpay-mchid", "LIVEBUY_WECHATPAY_MCHID", "WeChat Pay merchant id (mchid)"),
    STR(wechatpay_merchant_key, "--wechatpay-merchant-key", "LIVEBUY_WECHATPAY_MERCHANT_KEY",
        "PEM file of the merchant API private key (signs refund requests)"),
    STR(wechatpay_merchant_serial, "--wechatpay-merchant-serial", "LIVEBUY_WECHATPAY_MERCHANT_SERIAL",
        "serial number of the merchant API certificate"),
    STR(wechatpay_platform_cert, "--wechatpay-platform-cert", "LIVEBUY_WECHATPAY_PLATFORM_CERT",
        "PEM file of the WeChat Pay platform certificate (verifies notifications)"),
    SECRET(wechatpay_apiv3_key, "--wechatpay-apiv3-key", "LIVEBUY_WECHATPAY_APIV3_KEY",
           "the APIv3 key, 32 characters (decrypts notifications)"),
    STR(wechatpay_notify_url, "--wechatpay-notify-url", "LIVEBUY_WECHATPAY_NOTIFY_URL",
        "public URL of /v1/payments/wechatpay/notify, sent with refund requests"),
    UINT(max_batch, "--max-batch", "LIVEBUY_MAX_BATCH", 1, 2000, "orders per reservation transaction (default 2000)"),
    UINT(max_batch_skus, "--max-batch-skus", "LIVEBUY_MAX_BATCH_SKUS", 1, 1000,
         "SKUs whose orders may share a reservation transaction when the database is busy; 1: one SKU each (default 64)"),
    UINT(shards, "--shards", "LIVEBUY_SHARDS", 1, 1024,
         "SKUs share a transaction only when their ids are equal modulo N: a sharded database's slot count (default 1)"),
    UINT(max_queue, "--max-queue", "LIVEBUY_MAX_QUEUE", 1, 1000000, "orders queued in the process before 429 busy (default 50000)"),
    UINT(max_buyer_orders, "--max-buyer-orders", "LIVEBUY_MAX_BUYER_ORDERS", 0, 1000000,
         "orders of one buyer waiting at once on a loop thread before 429 busy for that buyer; 0: no cap (default 16)"),
    UINT(max_connection_orders, "--max-connection-orders", "LIVEBUY_MAX_CONNECTION_ORDERS", 0, 1000000,
         "orders of one connection waiting at once before 429 busy on it; 0: no cap (default 256)"),
    UINT(max_order_resets, "--max-order-resets", "LIVEBUY_MAX_ORDER_RESETS", 0, 1000000,
         "orders a connection may reset in a second before it is closed; 0: never closed (default 100)"),
    UINT(max_connections, "--max-connections", "LIVEBUY_MAX_CONNECTIONS", 0, 10000000,
         "connections open at once; past it the idlest is closed for a new one (default: the file limit less room for "
         "the database)"),
    UINT(answer_budget_mb, "--answer-budget-mb", "LIVEBUY_ANSWER_BUDGET_MB", 0, 1 << 20,
         "MB all answers not yet delivered may hold (clients that do not read); past it the connection holding the most "
         "is closed; 0: no budget (default 64)"),
    UINT(connection_answer_budget_mb, "--connection-answer-budget-mb", "LIVEBUY_CONNECTION_ANSWER_BUDGET_MB", 0, 1 << 20,
         "MB one connection's answers not yet delivered may hold before it is closed; 0: no budget (default 16)"),
    UINT(max_waiting_calls, "--max-waiting-calls", "LIVEBUY_MAX_WAITING_CALLS", 0, 1000000,
         "requests other than orders and payments waiting for a database worker on a loop thread before 503; their jobs "
         "take one worker fewer than the thread's share, which the order batches always find (default 4096)"),
    UINT(order_wait_ms, "--order-wait-ms", "LIVEBUY_ORDER_WAIT_MS", 0, 600000,
         "an order no batch took within this many ms is answered 503 (a database that does not answer); 0: none (default 5000)"),
    UINT(reserve_ttl, "--reserve-ttl", "LIVEBUY_RESERVE_TTL", 1, 7 * 86400, "unpaid reservation lifetime, seconds (default 900)"),
    UINT(db_pool, "--db-pool", "LIVEBUY_DB_POOL", 1, 128, "database worker threads, one connection each (default 4)"),
    UINT(max_body, "--max-body", "LIVEBUY_MAX_BODY", 1024, 64 << 20, "largest request body in bytes (default 1048576)"),
    STR(tls_cert, "--tls-cert", "LIVEBUY_TLS_CERT", "PEM certificate chain: serve HTTPS (h2 by ALPN) instead of cleartext"),
    STR(tls_key, "--tls-key", "LIVEBUY_TLS_KEY", "PEM private key for --tls-cert"),
    STR(sql_dir, "--sql-dir", "LIVEBUY_SQL_DIR",
        "folder of NNN_name.sql migrations (default: the installed share/livebuy/sql, or the checkout's from a build tree)"),
    STR(web_dir, "--web-dir", "LIVEBUY_WEB_DIR",
        "folder of the web pages (default: the installed share/livebuy/web, or the checkout's from a build tree)"),
    STR(media_dir, "--media-dir", "LIVEBUY_MEDIA_DIR", "folder of the product photos, made if missing (default: media/ in the working folder)"),
    STR(log_level_text, "--log-level", "LIVEBUY_LOG_LEVEL", "debug, info, warn or error: the least a line must be (default info)"),
    STR(log_format_text, "--log-format", "LIVEBUY_LOG_FORMAT", "text or json: the log's lines on stderr (default text)"),
    STR(access_log_text, "--access-log", "LIVEBUY_ACCESS_LOG", "on or off: a line per answered request (default on)"),
    STR(cors_origin_text, "--cors-origin", "LIVEBUY_CORS_ORIGIN",
        "comma-separated origins (https://shop.example) whose pages may call the API from a browser (CORS; default none)"),
    {"--migrate-only", "LIVEBUY_MIGRATE_ONLY", SETTING_SWITCH, offsetof(lb_config_t, migrate_only), 0, 0,
     "apply pending migrations, then exit"},
};

static int fail(char *err, size_t errsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errsize, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errsize, fmt, args);
    va_end(args);
    return LB_EINPUT;
}

static int set_value(lb_config_t *cfg, const setting_t *s, const char *value, char *err, size_t errsize)
{
    void *field = (char *)cfg + s->offset;
    switch (s->kind) {
    case SETTING_SECRET:
        if (strlen(value) < MIN_SECRET_LEN)
            return fail(err, errsize, "%s must be at least %d characters", s->flag, MIN_SECRET_LEN);
        /* fallthrough */
    case SETTING_STRING:
        if (*value == '\0')
            return fail(err, errsize, "%s must not be empty", s->flag);
        free(*(char **)field);
        *(char **)field = lb_strdup(value);
        return 0;
    case SETTING_UINT: {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(value, &end, 10);
        if (!isdigit((unsigned char)*value) || *end != '\0' || errno != 0 || n < s->min || n > s->max)
            return fail(err, errsize, "%s must be a whole number from %llu to %llu, not \"%s\"", s->flag, s->min, s->max, value);
        if (s->offset == offsetof(lb_config_t, max_body))
            *(size_t *)field = (size_t)n;
        else
            *(unsigned *)field = (unsigned)n;
        return 0;
    }
    case SETTING_SWITCH:
        if (strcmp(value, "1") != 0 && strcmp(value, "0") != 0)
            return fail(err, errsize, "%s takes no value (or 0/1 in the environment)", s->flag);
        *(int *)field = value[0] == '1';
        return 0;
    }
    return 0;
}

static const setting_t *find_flag(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    for (size_t i = 0; i != LB_ARRAY_SIZE(settings); ++i) {
        size_t len = strlen(settings[i].flag);
        if (strncmp(arg, settings[i].flag, len) != 0)
            continue;
        if (arg[len] == '\0')
            return &settings[i];
        if (arg[len] == '=') {
            *inline_value = arg + len + 1;
            return &settings[i];
        }
    }
    return NULL;
}

static int parse_listen(lb_config_t *cfg, char *err, size_t errsize)
{
    const char *text = cfg->listen_text, *colon = strrchr(text, ':');
    if (colon == NULL || colon == text)
        return fail(err, errsize, "--listen must be HOST:PORT, not \"%s\"", text);
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno != 0 || port > 65535)
        return fail(err, errsize, "--listen port must be 0-65535, not \"%s\"", colon + 1);
    size_t hostlen = (size_t)(colon - text);
    if (text[0] == '[' && hostlen >= 2 && text[hostlen - 1] == ']') {
        ++text;
        hostlen -= 2;
    }
    cfg->listen_host = strndup(text, hostlen);
    cfg->listen_port = (unsigned)port;
    return 0;
}

static int is_http_url(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

/* The payment provider's settings: wechatpay needs all of its own; a refund push is signed, so it needs its keys. */
static int check_payments(lb_config_t *cfg, char *err, size_t errsize)
{
    int wechatpay = strcmp(cfg->payment_provider, "wechatpay") == 0;
    if (!wechatpay && strcmp(cfg->payment_provider, "generic") != 0)
        return fail(err, errsize, "--payment-provider must be generic or wechatpay, not \"%s\"", cfg->payment_provider);
    if (cfg->refund_url != NULL && !is_http_url(cfg->refund_url))
        return fail(err, errsize, "--refund-url must be an http:// or https:// URL");
    if (cfg->payment_sandbox && cfg->payment_secret == NULL)
        return fail(err, errsize, "--payment-sandbox needs --payment-secret (the sandbox signs its notifies with it)");
    if (!wechatpay) {
        if (cfg->refund_url != NULL && cfg->payment_secret == NULL)
            return fail(err, errsize, "--refund-url needs --payment-secret (generic refund pushes are signed with it)");
        return 0;
    }
    if (cfg->wechatpay_platform_cert == NULL || cfg->wechatpay_apiv3_key == NULL)
        return fail(err, errsize, "--payment-provider wechatpay needs --wechatpay-platform-cert and --wechatpay-apiv3-key");
    if (strlen(cfg->wechatpay_apiv3_key) != 32)
        return fail(err, errsize, "--wechatpay-apiv3-key must be exactly 32 characters");
    if (cfg->refund_url != NULL &&
        (cfg->wechatpay_mchid == NULL || cfg->wechatpay_merchant_key == NULL || cfg->wechatpay_merchant_serial == NULL))
        return fail(err, errsize,
                    "--refund-url with wechatpay needs --wechatpay-mchid, --wechatpay-merchant-key and "
                    "--wechatpay-merchant-serial (refund requests are signed)");
    if (cfg->wechatpay_notify_url != NULL && !is_http_url(cfg->wechatpay_notify_url))
        return fail(err, errsize, "--wechatpay-notify-url must be an http:// or https:// URL");
    return 0;
}

static int check_log(lb_config_t *cfg, char *err, size_t errsize)
{
    if (lb_log_parse_level(cfg->log_level_text, &cfg->log_level) != 0)
        return fail(err, errsize, "--log-level must be debug, info, warn or error, not \"%s\"", cfg->log_level_text);
    if (lb_log_parse_format(cfg->log_format_text, &cfg->log_format) != 0)
        return fail(err, errsize, "--log-format must be text or json, not \"%s\"", cfg->log_format_text);
    cfg->access_log = strcmp(cfg->access_log_text, "on") == 0;
    if (!cfg->access_log && strcmp(cfg->access_log_text, "off") != 0)
        return fail(err, errsize, "--access-log must be on or off, not \"%s\"", cfg->access_log_text);
    return 0;
}

static int check(lb_config_t *cfg, char *err, size_t errsize)
{
    int ret;
    if ((ret = parse_listen(cfg, err, errsize)) != 0)
        return ret;
    if (cfg->db_url_text == NULL)
        return fail(err, errsize, "--db (or LIVEBUY_DB) is required");
    if ((ret = lb_config_parse_db_url(&cfg->db, cfg->db_url_text, err, errsize)) != 0)
        return ret;
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return fail(err, errsize, "--tls-cert and --tls-key go together");
    if (cfg->shipping_url != NULL && !is_http_url(cfg->shipping_url))
        return fail(err, errsize, "--shipping-url must be an http:// or https:// URL");
    if (cfg->shipping_url != NULL && cfg->shipping_secret == NULL)
        return fail(err, errsize, "--shipping-url needs --shipping-secret (pushes are signed)");
    if (strcmp(cfg->shipping_format, "json") != 0 && strcmp(cfg->shipping_format, "msgpack") != 0)
        return fail(err, errsize, "--shipping-format must be json or msgpack, not \"%s\"", cfg->shipping_format);
    if ((ret = check_log(cfg, err, errsize)) != 0)
        return ret;
    if (cfg->cors_origin_text != NULL && (ret = lb_origins_parse(&cfg->cors_origins, cfg->cors_origin_text, err, errsize)) != 0)
        return ret;
    return check_payments(cfg, err, errsize);
}

static void set_defaults(lb_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_text = lb_strdup("127.0.0.1:8080");
    cfg->threads = 1;
    cfg->db_pool = 4;
    cfg->max_batch = 2000;
    cfg->max_batch_skus = 64;
    cfg->shards = 1;
    cfg->max_queue = 50000;
    cfg->max_waiting_calls = 4096;
    cfg->max_buyer_orders = 16;
    cfg->max_connection_orders = 256;
    cfg->max_order_resets = 100;
    cfg->order_wait_ms = 5000;
    cfg->answer_budget_mb = 64;
    cfg->connection_answer_budget_mb = 16;
    cfg->reserve_ttl = 900;
    cfg->shipping_format = lb_strdup("json");
    cfg->shipping_max_attempts = 12;
    cfg->shipping_backoff_ms = 1000;
    cfg->payment_provider = lb_strdup("generic");
    cfg->log_level_text = lb_strdup("info");
    cfg->log_format_text = lb_strdup("text");
    cfg->access_log_text = lb_strdup("on");
    cfg->refund_max_attempts = 12;
    cfg->refund_backoff_ms = 1000;
    cfg->max_body = 1 << 20;
    cfg->media_dir = lb_strdup("media");
}

int lb_config_parse(lb_config_t *cfg, int argc, char **argv, char *err, size_t errsize)
{
    int ret;
    set_defaults(cfg);

    for (size_t i = 0; i != LB_ARRAY_SIZE(settings); ++i) {
        const char *value = getenv(settings[i].env);
        if (value != NULL && (ret = set_value(cfg, &settings[i], value, err, errsize)) != 0) {
            size_t used = strlen(err);
            snprintf(err + used, errsize - used, " (from %s)", settings[i].env);
            return ret;
        }
    }

    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return LB_CONFIG_HELP;
        if (strcmp(argv[i], "--version") == 0)
            return LB_CONFIG_VERSION;
        const char *value;
        const setting_t *s = find_flag(argv[i], &value);
        if (s == NULL)
            return fail(err, errsize, "unknown option \"%s\" (see --help)", argv[i]);
        if (s->kind == SETTING_SWITCH) {
            if (value != NULL)
                return fail(err, errsize, "%s takes no value", s->flag);
            value = "1";
        } else if (value == NULL) {
            if (i + 1 == argc)
                return fail(err, errsize, "%s needs a value", s->flag);
            value = argv[++i];
        }
        if ((ret = set_value(cfg, s, value, err, errsize)) != 0)
            return ret;
    }
    return check(cfg, err, errsize);
}

void lb_config_usage(FILE *out)
{
    fputs("usage: livebuyd [options]\n\n"
          "livebuy order backend: flash sales and group-buys over HTTP/1.1 and HTTP/2 on MariaDB.\n"
          "Each option has an environment twin; options win over the environment. --version prints the version.\n\n",
          out);
    for (size_t i = 0; i != LB_ARRAY_SIZE(settings); ++i)
        if (settings[i].help != NULL)
            fprintf(out, "  %-18s %-24s %s\n", settings[i].flag, settings[i].env, settings[i].help);
    fputs("\nExit codes: 0 after a clean stop (SIGTERM/SIGINT), 2 for an invalid setting or an unreachable database.\n", out);
}

void lb_config_free(lb_config_t *cfg)
{
    for (size_t i = 0; i != LB_ARRAY_SIZE(settings); ++i)
        if (settings[i].kind == SETTING_STRING || settings[i].kind == SETTING_SECRET)
            free(*(char **)((char *)cfg + settings[i].offset));
    free(cfg->listen_host);
    lb_config_free_db_url(&cfg->db);
    lb_origins_free(&cfg->cors_origins);
    memset(cfg, 0, sizeof(*cfg));
}

/* Percent-decodes [s, s+len) into a new string; NULL when an escape is broken or decodes to NUL. */
static char *decode_component(const char *s, size_t len)
{
    char *out = lb_malloc(len + 1), *dst = out;
    for (size_t i = 0; i < len; ++i) {
        if (s[i] != '%') {
            *dst++ = s[i];
            continue;
        }
        unsigned value;
        if (i + 2 >= len)
            goto Error;
        if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]) || sscanf(s + i + 1, "%2x", &value) != 1 ||
            value == 0)
            goto Error;
        *dst++ = (char)value;
        i += 2;
    }
    *dst = '\0';
    return out;
Error:
    free(out);
    return NULL;
}

static int parse_db_url(lb_db_url_t *url, const char *text, char *err, size_t errsize)
{
    static const char scheme[] = "mysql://";
    memset(url, 0, sizeof(*url));
    if (strncmp(text, scheme, sizeof(scheme) - 1) != 0)
        return fail(err, errsize, "--db must start with mysql://");
    const char *p = text + sizeof(scheme) - 1;
    const char *at = strchr(p, '@'), *slash = at != NULL ? strchr(at, '/') : NULL;
    if (at == NULL || slash == NULL || at == p)
        return fail(err, errsize, "--db must look like mysql://USER[:PASS]@HOST[:PORT]/DB");

    const char *colon = memchr(p, ':', (size_t)(at - p));
    url->user = decode_component(p, (size_t)((colon != NULL ? colon : at) - p));
    if (colon != NULL)
        url->password = decode_component(colon + 1, (size_t)(at - colon - 1));
    if (url->user == NULL || (colon != NULL && url->password == NULL))
        goto BadEscape;

    const char *host = at + 1, *port = memchr(host, ':', (size_t)(slash - host));
    if ((port != NULL ? port : slash) == host)
        return fail(err, errsize, "--db has no host");
    url->host = strndup(host, (size_t)((port != NULL ? port : slash) - host));
    if (port != NULL) {
        char *end;
        unsigned long n = strtoul(port + 1, &end, 10);
        if (end != slash || n == 0 || n > 65535)
            return fail(err, errsize, "--db port must be 1-65535");
        url->port = (unsigned)n;
    }

    const char *db = slash + 1, *query = strchr(db, '?');
    size_t dblen = query != NULL ? (size_t)(query - db) : strlen(db);
    if (dblen == 0)
        return fail(err, errsize, "--db has no database name");
    if ((url->database = decode_component(db, dblen)) == NULL)
        goto BadEscape;
    if (query != NULL) {
        if (strncmp(query, "?socket=", 8) != 0 || query[8] == '\0')
            return fail(err, errsize, "--db understands only ?socket=PATH");
        if ((url->socket = decode_component(query + 8, strlen(query + 8))) == NULL)
            goto BadEscape;
    }
    return 0;
BadEscape:
    return fail(err, errsize, "--db has a broken %%-escape");
}

int lb_config_parse_db_url(lb_db_url_t *url, const char *text, char *err, size_t errsize)
{
    int ret = parse_db_url(url, text, err, errsize);
    if (ret != 0)
        lb_config_free_db_url(url); /* nothing half-parsed is left for a caller told "no" to free (fuzz_config found it) */
    return ret;
}

void lb_config_free_db_url(lb_db_url_t *url)
{
    free(url->user);
    free(url->password);
    free(url->host);
    free(url->database);
    free(url->socket);
    memset(url, 0, sizeof(*url));
}
