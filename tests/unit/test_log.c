/*
 * Unit tests of the log's lines (server/base/log.c): the access line byte for byte in text and JSON (its numbers,
 * its duration's rounding, escapes, the optional fields) and the head of a message line. stderr goes to a file while
 * each line is written, and is read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "livebuy/base/log.h"

/* What the calls made by write() wrote to stderr: the line with its head's time cut off (the first 24 bytes:
 * "2026-12-06T21:40:01.123Z" in text, after {"time":" in JSON); into out. */
static void capture(void (*write_lines)(void), char *out, size_t size)
{
    char path[] = "/tmp/livebuy-test-log.XXXXXX";
    int fd = mkstemp(path), saved = dup(STDERR_FILENO);
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    write_lines();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
}

static const lb_access_t order_answered = {"r-00000000000000ab", "POST", "/v1/orders", NULL, "127.0.0.1", 201, 12345678, 321, 1001,
                                           0};
static const lb_access_t order_refused = {"r-1", "POST", "/v1/orders", "sold_out", "::1", 409, 1500, 0, 1001, 0};
/* A request id the client chose, with a quote, a backslash and a control character; a merchant's; a long time. */
static const lb_access_t odd = {"a\"b\\c\td", "GET", "/v1/merchant/orders", NULL, "10.0.0.7", 200, 1234567890123ull, 0, 0, 42};

static void write_access_lines(void)
{
    lb_log_access(&order_answered);
    lb_log_access(&order_refused);
    lb_log_access(&odd);
    lb_log_flush_thread();
}

static void write_message(void)
{
    lb_log(LB_LOG_WARN, "the database answers again (%d tries)", 3);
    lb_log(LB_LOG_ERROR, "cannot connect");
}

/* Each line of text with its first `skip` bytes (the time) checked for shape and cut off; joined by '\n'. */
static void cut_times(char *text, size_t skip, const char *prefix)
{
    char *in = text, *out = text;
    while (*in != '\0') {
        char *end = strchr(in, '\n');
        size_t len = end != NULL ? (size_t)(end - in) + 1 : strlen(in);
        size_t plen = strlen(prefix);
        CHECK(len > plen + skip && strncmp(in, prefix, plen) == 0 && in[plen + 4] == '-' && in[plen + 10] == 'T' &&
              in[plen + 19] == '.' && in[plen + 23] == 'Z');
        memmove(out, in, plen);
        memmove(out + plen, in + plen + skip, len - plen - skip);
        out += len - skip;
        in += len;
    }
    *out = '\0';
}

int main(void)
{
    char got[8192];

    lb_log_setup(LB_LOG_INFO, LB_LOG_TEXT, 1);
    capture(write_access_lines, got, sizeof(got));
    cut_times(got, 24, "");
    CHECK_CONTAINS(got, " info  access request_id=\"r-00000000000000ab\" method=\"POST\" route=\"/v1/orders\" status=201 "
                        "duration_ms=12.346 bytes=321 client=\"127.0.0.1\" buyer_id=1001\n");
    CHECK_CONTAINS(got, " info  access request_id=\"r-1\" method=\"POST\" route=\"/v1/orders\" status=409 error=\"sold_out\" "
                        "duration_ms=0.002 bytes=0 client=\"::1\" buyer_id=1001\n");
    CHECK_CONTAINS(got, " info  access request_id=\"a\\\"b\\\\c\\u0009d\" method=\"GET\" route=\"/v1/merchant/orders\" status=200 "
                        "duration_ms=1234567.890 bytes=0 client=\"10.0.0.7\" merchant_id=42\n");

    lb_log_setup(LB_LOG_INFO, LB_LOG_JSON, 1);
    capture(write_access_lines, got, sizeof(got));
    cut_times(got, 24, "{\"time\":\"");
    CHECK_CONTAINS(got, "{\"time\":\"\",\"level\":\"info\",\"msg\":\"access\",\"request_id\":\"r-00000000000000ab\","
                        "\"method\":\"POST\",\"route\":\"/v1/orders\",\"status\":201,\"duration_ms\":12.346,\"bytes\":321,"
                        "\"client\":\"127.0.0.1\",\"buyer_id\":1001}\n");
    CHECK_CONTAINS(got, "\"status\":409,\"error\":\"sold_out\",\"duration_ms\":0.002,\"bytes\":0,\"client\":\"::1\",");
    CHECK_CONTAINS(got, "\"request_id\":\"a\\\"b\\\\c\\u0009d\",\"method\":\"GET\"");
    CHECK_CONTAINS(got, "\"duration_ms\":1234567.890,\"bytes\":0,\"client\":\"10.0.0.7\",\"merchant_id\":42}\n");

    /* Message lines: the level padded to five characters in text. */
    lb_log_setup(LB_LOG_INFO, LB_LOG_TEXT, 1);
    capture(write_message, got, sizeof(got));
    cut_times(got, 24, "");
    CHECK(strcmp(got, " warn  the database answers again (3 tries)\n error cannot connect\n") == 0);
    if (strcmp(got, " warn  the database answers again (3 tries)\n error cannot connect\n") != 0)
        fprintf(stderr, "got: %s", got);
    lb_log_setup(LB_LOG_INFO, LB_LOG_JSON, 1);
    capture(write_message, got, sizeof(got));
    cut_times(got, 24, "{\"time\":\"");
    CHECK_CONTAINS(got, "{\"time\":\"\",\"level\":\"warn\",\"msg\":\"the database answers again (3 tries)\"}\n");

    /* Off: nothing. */
    lb_log_setup(LB_LOG_INFO, LB_LOG_TEXT, 0);
    capture(write_access_lines, got, sizeof(got));
    CHECK(got[0] == '\0');
    return CHECK_RESULT("log");
}
