/* Unit tests of --cors-origin's list: what a browser sends is taken, anything else refused with its reason. */
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/origins.h"

static void expect_refused(const char *text, const char *reason)
{
    lb_origins_t origins;
    char err[256] = "";
    CHECK(lb_origins_parse(&origins, text, err, sizeof(err)) == LB_EINPUT && origins.num == 0 && origins.list == NULL);
    CHECK_CONTAINS(err, reason);
}

static void test_taken(void)
{
    lb_origins_t origins;
    char err[256];
    CHECK(lb_origins_parse(&origins, "https://a.example, http://b.example:8080,https://[::1]:8443 ,http://127.0.0.1", err,
                           sizeof(err)) == 0);
    CHECK(origins.num == 4 && strcmp(origins.list[0], "https://a.example") == 0 &&
          strcmp(origins.list[1], "http://b.example:8080") == 0 && strcmp(origins.list[2], "https://[::1]:8443") == 0 &&
          strcmp(origins.list[3], "http://127.0.0.1") == 0);
    CHECK(lb_origins_find(&origins, "https://a.example", 17) == origins.list[0]);
    CHECK(lb_origins_find(&origins, "http://b.example:8080", 21) == origins.list[1]);
    /* byte for byte: another scheme, port, a prefix or a longer name is another origin */
    CHECK(lb_origins_find(&origins, "http://a.example", 16) == NULL);
    CHECK(lb_origins_find(&origins, "https://a.example:443", 21) == NULL);
    CHECK(lb_origins_find(&origins, "https://a.exampl", 16) == NULL);
    CHECK(lb_origins_find(&origins, "https://a.example.evil", 22) == NULL);
    CHECK(lb_origins_find(&origins, "null", 4) == NULL);
    CHECK(lb_origins_find(&origins, "", 0) == NULL);
    lb_origins_free(&origins);
    CHECK(origins.num == 0 && origins.list == NULL);
}

static void test_refused(void)
{
    expect_refused("*", "\"*\" is refused");
    expect_refused("https://a.example,*", "is refused: name exact origins");
    expect_refused("null", "must start with http:// or https://");
    expect_refused("a.example", "must start with http:// or https://");
    expect_refused("ftp://a.example", "must start with http:// or https://");
    expect_refused("https://", "must start with");
    expect_refused("https://:8080", "has no host");
    expect_refused("https://A.example", "lower case");
    expect_refused("https://a.example/", "no path");
    expect_refused("https://a.example/shop", "no path");
    expect_refused("https://user@a.example", "no user");
    expect_refused("https://*.example", "scheme://host[:port]");
    expect_refused("https://a.example:0", "1-65535");
    expect_refused("https://a.example:65536", "1-65535");
    expect_refused("https://a.example:08080", "1-65535");
    expect_refused("https://a.example:", "1-65535");
    expect_refused("https://a.example:443", "default port");
    expect_refused("http://a.example:80", "default port");
    expect_refused("https://a.example,,https://b.example", "is empty");
    expect_refused("https://a.example,", "is empty");
    expect_refused(" ", "is empty");
    expect_refused("https://[::1", "scheme://host[:port]");
}

int main(void)
{
    test_taken();
    test_refused();
    return CHECK_RESULT("origins");
}
