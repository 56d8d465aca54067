/*
 * libFuzzer target for livebuyd's settings (livebuy/base/config.h). The first byte picks: a command line (the rest split
 * at NUL bytes into arguments, run through lb_config_parse with no LIVEBUY_* variables set), or a mysql:// URL (the rest
 * as one string). A URL that parses is written again, every part percent-encoded, and must parse to the same parts;
 * nothing may leak, whether a setting is taken or refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/config.h"
#include "fuzz_check.h"

#define MAX_ARGS 24

extern char **environ;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* The environment's twins of the flags would decide what a command line cannot */
    for (size_t i = 0; environ[i] != NULL;) {
        if (strncmp(environ[i], "LIVEBUY_", 8) == 0) {
            char name[128];
            size_t len = strcspn(environ[i], "=");
            snprintf(name, sizeof(name), "%.*s", (int)len, environ[i]);
            unsetenv(name);
        } else {
            ++i;
        }
    }
    return 0;
}

static void command_line(const char *text, size_t len)
{
    char *copy = lb_malloc(len + 1), *args[MAX_ARGS + 1] = {"livebuyd"};
    int argc = 1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (char *p = copy; p <= copy + len && argc != MAX_ARGS; p += strlen(p) + 1)
        args[argc++] = p;
    args[argc] = NULL;
    lb_config_t cfg;
    char err[512] = "";
    int ret = lb_config_parse(&cfg, argc, args, err, sizeof(err));
    if (ret == 0) {
        CHECK(cfg.listen_host != NULL && cfg.listen_port <= 65535 && cfg.db.host != NULL && cfg.db.database != NULL);
        CHECK(cfg.threads >= 1 && cfg.threads <= 64 && cfg.db_pool >= 1 && cfg.max_body >= 1024);
        CHECK(strcmp(cfg.payment_provider, "generic") == 0 || strcmp(cfg.payment_provider, "wechatpay") == 0);
        /* every origin taken is one a browser can send, and found as itself */
        for (size_t i = 0; i != cfg.cors_origins.num; ++i) {
            const char *origin = cfg.cors_origins.list[i];
            CHECK(strncmp(origin, "http://", 7) == 0 || strncmp(origin, "https://", 8) == 0);
            const char *host = strstr(origin, "://") + 3;
            CHECK(*host != '\0' && strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-:[]") == strlen(host));
            CHECK(lb_origins_find(&cfg.cors_origins, origin, strlen(origin)) != NULL);
        }
    } else if (ret != LB_CONFIG_HELP && ret != LB_CONFIG_VERSION) {
        CHECK(ret == LB_EINPUT && err[0] != '\0');
    }
    lb_config_free(&cfg);
    free(copy);
}

/* Appends s percent-encoded (all but letters and digits) to out. */
static void put_encoded(char **out, const char *s)
{
    for (; *s != '\0'; ++s) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            *(*out)++ = (char)c;
        else
            *out += sprintf(*out, "%%%02X", c);
    }
}

static int same_text(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void db_url(const char *text, size_t len)
{
    char *copy = lb_malloc(len + 1), err[256] = "";
    memcpy(copy, text, len);
    copy[len] = '\0';
    lb_db_url_t url, again;
    if (lb_config_parse_db_url(&url, copy, err, sizeof(err)) != 0) {
        CHECK(err[0] != '\0');
        /* Refused, it holds nothing (else whoever is told "no" would have to free a half-parsed URL) */
        CHECK(url.user == NULL && url.password == NULL && url.host == NULL && url.database == NULL && url.socket == NULL);
        free(copy);
        return;
    }
    CHECK(url.user != NULL && url.host != NULL && url.host[0] != '\0' && url.database != NULL && url.database[0] != '\0');
    char *written = lb_malloc(3 * len + 64), *out = written;
    out += sprintf(out, "mysql://");
    put_encoded(&out, url.user);
    if (url.password != NULL) {
        *out++ = ':';
        put_encoded(&out, url.password);
    }
    out += sprintf(out, "@%s", url.host);
    if (url.port != 0)
        out += sprintf(out, ":%u", url.port);
    *out++ = '/';
    put_encoded(&out, url.database);
    if (url.socket != NULL) {
        out += sprintf(out, "?socket=");
        put_encoded(&out, url.socket);
    }
    *out = '\0';
    CHECK(lb_config_parse_db_url(&again, written, err, sizeof(err)) == 0);
    CHECK(same_text(url.user, again.user) && same_text(url.password, again.password) && same_text(url.host, again.host) &&
          url.port == again.port && same_text(url.database, again.database) && same_text(url.socket, again.socket));
    lb_config_free_db_url(&url);
    lb_config_free_db_url(&again);
    free(written);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    if (data[0] & 1)
        db_url((const char *)data + 1, size - 1);
    else
        command_line((const char *)data + 1, size - 1);
    return 0;
}
