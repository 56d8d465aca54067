/*
 * Unit tests of livebuy-load's HTTP/1.1 reading (loadtest/h1parse.c): Content-Length and chunked answers, whole and
 * cut at every byte, the headers the client acts on, the answers it refuses, and the header look-up.
 */
#include <stdlib.h>
#include "check.h"
#include "h1parse.h"

/* Parses text (NUL-terminated) whole: the result, *res filled when 1. */
static int parse(const char *text, lb_h1_response_t *res)
{
    return lb_h1_parse_response(text, strlen(text), res);
}

/* Whether body is what the answer in text decodes to. */
static int body_is(const char *text, const lb_h1_response_t *res, const char *body)
{
    char *out = malloc(res->body_len + 1);
    lb_h1_response_body(text, res, out);
    int same = res->body_len == strlen(body) && memcmp(out, body, res->body_len) == 0;
    free(out);
    return same;
}

/* Every strict prefix of text is incomplete (0), never an answer nor malformed. */
static int incomplete_until_whole(const char *text)
{
    lb_h1_response_t res;
    for (size_t len = 0; len != strlen(text); ++len)
        if (lb_h1_parse_response(text, len, &res) != 0)
            return 0;
    return 1;
}

static void test_content_length(void)
{
    const char *text = "HTTP/1.1 200 OK\r\ndate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 5\r\n"
                       "content-type: application/json\r\n\r\n{\"a\"}";
    lb_h1_response_t res;
    CHECK(parse(text, &res) == 1);
    CHECK(res.status == 200);
    CHECK(res.keep_alive == 1);
    CHECK(res.chunked == 0);
    CHECK(res.retry_after == 0);
    CHECK(res.head_len == strlen(text) - 5);
    CHECK(res.body_len == 5);
    CHECK(res.wire_len == strlen(text));
    CHECK(body_is(text, &res, "{\"a\"}"));
    CHECK(incomplete_until_whole(text));
}

static void test_back_to_back(void)
{
    const char *text = "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 429 Too Many Requests\r\n"
                       "retry-after: 3\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200";
    lb_h1_response_t res;
    CHECK(parse(text, &res) == 1);
    CHECK(res.status == 201);
    CHECK(body_is(text, &res, "{}"));
    const char *second = text + res.wire_len;
    CHECK(parse(second, &res) == 1);
    CHECK(res.status == 429);
    CHECK(res.retry_after == 3);
    CHECK(res.body_len == 0);
    CHECK(parse(second + res.wire_len, &res) == 0);
}

static void test_chunked(void)
{
    /* upper-case hex, an extension, a trailer */
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4\r\n[1,2\r\nA;name=value\r\n,3,4,5,6,7\r\n1 \r\n]\r\n0\r\nx-trailer: 1\r\n\r\n";
    lb_h1_response_t res;
    CHECK(parse(text, &res) == 1);
    CHECK(res.chunked == 1);
    CHECK(res.body_len == 15);
    CHECK(res.wire_len == strlen(text));
    CHECK(body_is(text, &res, "[1,2,3,4,5,6,7]"));
    CHECK(incomplete_until_whole(text));

    const char *empty = "HTTP/1.1 200 OK\r\ntransfer-encoding:  chunked \r\n\r\n0\r\n\r\nHTTP";
    CHECK(parse(empty, &res) == 1);
    CHECK(res.body_len == 0);
    CHECK(res.wire_len == strlen(empty) - 4);
}

static void test_connection(void)
{
    lb_h1_response_t res;
    CHECK(parse("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 10\r\ncontent-length: 0\r\n\r\n", &res) ==
          1);
    CHECK(res.status == 503);
    CHECK(res.keep_alive == 0);
    CHECK(res.retry_after == 10);
    CHECK(parse("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", &res) == 1);
    CHECK(res.keep_alive == 0);
    CHECK(parse("HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\ncontent-length: 0\r\n\r\n", &res) == 1);
    CHECK(res.keep_alive == 1);
    /* the HTTP-date form of Retry-After counts as absent */
    CHECK(parse("HTTP/1.1 429 x\r\nretry-after: Wed, 21 Oct 2015 07:28:00 GMT\r\ncontent-length: 0\r\n\r\n", &res) == 1);
    CHECK(res.retry_after == 0);
}

static void test_no_body(void)
{
    lb_h1_response_t res;
    const char *text = "HTTP/1.1 204 No Content\r\nserver: h2o\r\n\r\n";
    CHECK(parse(text, &res) == 1);
    CHECK(res.status == 204);
    CHECK(res.body_len == 0);
    CHECK(res.wire_len == strlen(text));
    /* a 304 has no body whatever its Content-Length says; no reason phrase is fine */
    text = "HTTP/1.1 304\r\ncontent-length: 120\r\n\r\n";
    CHECK(parse(text, &res) == 1);
    CHECK(res.body_len == 0);
    CHECK(res.wire_len == strlen(text));
}

static void test_malformed(void)
{
    lb_h1_response_t res;
    CHECK(parse("HTTP/2 200 OK\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 20 OK\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 2000 OK\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ncontent-length: 12a\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10000000000000000\r\n", &res) == -1);
    CHECK(parse("SSH-2.0-OpenSSH_9.2\r\n\r\n", &res) == -1);
    CHECK(parse("HTTP\r\n", &res) == -1);
    /* a bad status line is refused before the rest of the head is there */
    CHECK(parse("HTTP/1.1 OK\r\nserv", &res) == -1);
    /* a head that never ends */
    size_t len = LB_H1_HEAD_MAX + 100;
    char *big = malloc(len);
    memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
    memset(big + 17, 'x', len - 17);
    CHECK(lb_h1_parse_response(big, len, &res) == -1);
    CHECK(lb_h1_parse_response(big, 1000, &res) == 0);
    free(big);
}

static void test_header(void)
{
    const char *head = "POST /shipments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length-Extra: 9\r\ncontent-length: 42 \r\n"
                       "Idempotency-Key:17\r\nX-Empty:\r\n\r\n";
    size_t len = strlen(head), value_len;
    const char *v = lb_h1_header(head, len, "Content-Length", &value_len);
    CHECK(v != NULL && value_len == 2 && memcmp(v, "42", 2) == 0);
    v = lb_h1_header(head, len, "idempotency-key", &value_len);
    CHECK(v != NULL && value_len == 2 && memcmp(v, "17", 2) == 0);
    v = lb_h1_header(head, len, "x-empty", &value_len);
    CHECK(v != NULL && value_len == 0);
    CHECK(lb_h1_header(head, len, "x-livebuy-signature", &value_len) == NULL);
    CHECK(lb_h1_header(head, len, "host:", &value_len) == NULL);
}

int main(void)
{
    test_content_length();
    test_back_to_back();
    test_chunked();
    test_connection();
    test_no_body();
    test_malformed();
    test_header();
    return CHECK_RESULT("h1parse");
}
