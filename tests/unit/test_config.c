/* Unit tests of the settings: flags, environment twins, validation messages, database URLs. */
#include <stdlib.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/config.h"

static int parse(lb_config_t *cfg, char *err, size_t errsize, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        ++argc;
    return lb_config_parse(cfg, argc, argv, err, errsize);
}

#define ARGS(...) ((char *[]){"livebuyd", __VA_ARGS__, NULL})

static void test_defaults_and_flags(void)
{
    lb_config_t cfg;
    char err[256];
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--db", "mysql://root@localhost/livebuy?socket=/tmp/x.sock")) == 0);
    CHECK(strcmp(cfg.listen_host, "127.0.0.1") == 0 && cfg.listen_port == 8080);
    CHECK(cfg.threads == 1 && cfg.max_batch == 2000 && cfg.reserve_ttl == 900 && cfg.max_body == 1 << 20);
    CHECK(strcmp(cfg.db.user, "root") == 0 && cfg.db.password == NULL && strcmp(cfg.db.socket, "/tmp/x.sock") == 0);
    CHECK(strcmp(cfg.db.database, "livebuy") == 0);
    lb_config_free(&cfg);

    CHECK(parse(&cfg, err, sizeof(err),
                ARGS("--db=mysql://lb:p%40ss@db.example:3307/shop", "--listen", "0.0.0.0:9000", "--threads", "4", "--max-batch",
                     "1", "--admin-token", "0123456789abcdef")) == 0);
    CHECK(strcmp(cfg.db.password, "p@ss") == 0 && strcmp(cfg.db.host, "db.example") == 0 && cfg.db.port == 3307);
    CHECK(cfg.listen_port == 9000 && cfg.threads == 4 && cfg.max_batch == 1);
    CHECK(strcmp(cfg.admin_token, "0123456789abcdef") == 0);
    lb_config_free(&cfg);
}

static void test_environment(void)
{
    lb_config_t cfg;
    char err[256];
    setenv("LIVEBUY_DB", "mysql://u@h/d", 1);
    setenv("LIVEBUY_THREADS", "3", 1);
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--threads", "2")) == 0);
    CHECK(cfg.threads == 2); /* the flag wins */
    lb_config_free(&cfg);

    setenv("LIVEBUY_THREADS", "lots", 1);
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--listen", "127.0.0.1:1")) == LB_EINPUT);
    CHECK_CONTAINS(err, "LIVEBUY_THREADS");
    lb_config_free(&cfg);
    unsetenv("LIVEBUY_THREADS");
    unsetenv("LIVEBUY_DB");
}

static void expect_error(char **argv, const char *fragment)
{
    lb_config_t cfg;
    char err[256] = "";
    CHECK(parse(&cfg, err, sizeof(err), argv) == LB_EINPUT);
    CHECK_CONTAINS(err, fragment);
    lb_config_free(&cfg);
}

static void test_invalid(void)
{
    expect_error(ARGS("--listen", "127.0.0.1:1"), "--db");
    expect_error(ARGS("--db", "postgres://x@y/z"), "mysql://");
    expect_error(ARGS("--db", "mysql://x@y/"), "database name");
    expect_error(ARGS("--db", "mysql://x@y:0/z"), "port");
    expect_error(ARGS("--db", "mysql://x@y/z?user=q"), "socket");
    expect_error(ARGS("--db", "mysql://x%4@y/z"), "escape");
    expect_error(ARGS("--db", "mysql://u@h/d", "--threads", "0"), "--threads");
    expect_error(ARGS("--db", "mysql://u@h/d", "--threads", "-1"), "--threads");
    expect_error(ARGS("--db", "mysql://u@h/d", "--max-batch", "99999999999999999999"), "--max-batch");
    expect_error(ARGS("--db", "mysql://u@h/d", "--listen", "nohost"), "--listen");
    expect_error(ARGS("--db", "mysql://u@h/d", "--listen", "1.2.3.4:70000"), "port");
    expect_error(ARGS("--db", "mysql://u@h/d", "--admin-token", "short"), "at least 16");
    expect_error(ARGS("--db", "mysql://u@h/d", "--tls-cert", "c.pem"), "--tls-key");
    expect_error(ARGS("--db", "mysql://u@h/d", "--bogus"), "unknown option");
    expect_error(ARGS("--db"), "needs a value");
    expect_error(ARGS("--db", "mysql://u@h/d", "--shipping-url", "ftp://x"), "--shipping-url");
    expect_error(ARGS("--db", "mysql://u@h/d", "--shipping-url", "http://x/"), "--shipping-secret");
    expect_error(ARGS("--db", "mysql://u@h/d", "--shipping-format", "xml"), "--shipping-format");
    expect_error(ARGS("--db", "mysql://u@h/d", "--shipping-max-attempts", "0"), "--shipping-max-attempts");
    expect_error(ARGS("--db", "mysql://u@h/d", "--cors-origin", "*"), "\"*\" is refused: name exact origins");
    expect_error(ARGS("--db", "mysql://u@h/d", "--cors-origin", "https://a.example/"), "no path");
}

static void test_cors_origin(void)
{
    lb_config_t cfg;
    char err[256];
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--db", "mysql://u@h/d")) == 0 && cfg.cors_origins.num == 0);
    lb_config_free(&cfg);
    setenv("LIVEBUY_CORS_ORIGIN", "https://a.example,https://b.example:8443", 1);
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--db", "mysql://u@h/d")) == 0 && cfg.cors_origins.num == 2 &&
          strcmp(cfg.cors_origins.list[1], "https://b.example:8443") == 0);
    lb_config_free(&cfg);
    setenv("LIVEBUY_CORS_ORIGIN", "https://a.example:443", 1);
    expect_error(ARGS("--db", "mysql://u@h/d"), "default port");
    unsetenv("LIVEBUY_CORS_ORIGIN");
}

static void test_help(void)
{
    lb_config_t cfg;
    char err[256];
    CHECK(parse(&cfg, err, sizeof(err), ARGS("--help")) == LB_CONFIG_HELP);
    lb_config_free(&cfg);
}

int main(void)
{
    test_defaults_and_flags();
    test_environment();
    test_invalid();
    test_cors_origin();
    test_help();
    return CHECK_RESULT("config");
}
