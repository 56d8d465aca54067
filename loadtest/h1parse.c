/*
 * HTTP/1.1 reading for livebuy-load: an answer's status line, the headers the client acts on (Content-Length,
 * Transfer-Encoding, Connection, Retry-After) in one pass over the head, and Content-Length or chunked bodies (chunk
 * extensions and trailers are skipped). Pure: no I/O, no allocation.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include "h1parse.h"

/* The longest chunk-size line taken (with its extensions). */
#define CHUNK_LINE_MAX 1024

/* The first CRLF in [p, end), or NULL. memchr rather than memmem: glibc's memmem took half the client's time. */
static const char *find_crlf(const char *p, const char *end)
{
    while ((p = memchr(p, '\r', (size_t)(end - p))) != NULL) {
        if (p + 1 == end)
            return NULL;
        if (p[1] == '\n')
            return p;
        ++p;
    }
    return NULL;
}

/* The value of the header line [line, eol) when it is header name (name_len bytes), else NULL. */
static const char *header_value(const char *line, const char *eol, const char *name, size_t name_len, size_t *value_len)
{
    if ((size_t)(eol - line) <= name_len || line[name_len] != ':' || strncasecmp(line, name, name_len) != 0)
        return NULL;
    const char *v = line + name_len + 1;
    while (v < eol && (*v == ' ' || *v == '\t'))
        ++v;
    while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
        --eol;
    *value_len = (size_t)(eol - v);
    return v;
}

const char *lb_h1_header(const char *head, size_t head_len, const char *name, size_t *value_len)
{
    size_t name_len = strlen(name);
    const char *end = head + head_len, *value;
    for (const char *line = head, *eol; line < end; line = eol + 2) {
        if ((eol = find_crlf(line, end)) == NULL)
            break;
        if ((value = header_value(line, eol, name, name_len, value_len)) != NULL)
            return value;
    }
    return NULL;
}

/* A decimal number of up to 18 digits, the whole of s[0..len). */
static int parse_decimal(const char *s, size_t len, size_t *value)
{
    if (len == 0 || len > 18)
        return -1;
    *value = 0;
    for (size_t i = 0; i != len; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *value = *value * 10 + (size_t)(s[i] - '0');
    }
    return 0;
}

/* A chunk-size line [line, eol): up to 15 hex digits, then nothing or blanks or an extension (";..."). */
static int parse_chunk_size(const char *line, const char *eol, size_t *size)
{
    const char *p = line;
    *size = 0;
    for (; p < eol && p - line < 16; ++p) {
        char c = (char)(*p | 0x20);
        if (*p >= '0' && *p <= '9')
            *size = *size * 16 + (size_t)(*p - '0');
        else if (c >= 'a' && c <= 'f')
            *size = *size * 16 + (size_t)(c - 'a' + 10);
        else
            break;
    }
    return p != line && p - line < 16 && (p == eol || *p == ';' || *p == ' ' || *p == '\t') ? 0 : -1;
}

/*
 * Walks the chunked body starting at data[at]: the end of the answer on the wire (0 when more must be read, -1 when it
 * is malformed), its decoded length in *body_len; copies the chunks' data to out unless out is NULL.
 */
static ssize_t walk_chunks(const char *data, size_t len, size_t at, char *out, size_t *body_len)
{
    size_t total = 0, size;
    for (;;) {
        const char *line = data + at, *eol = find_crlf(line, data + len);
        if (eol == NULL)
            return len - at > CHUNK_LINE_MAX ? -1 : 0;
        if (parse_chunk_size(line, eol, &size) != 0)
            return -1;
        at = (size_t)(eol - data) + 2;
        if (size == 0)
            break;
        if (len - at < size + 2)
            return 0;
        if (data[at + size] != '\r' || data[at + size + 1] != '\n')
            return -1;
        if (out != NULL)
            memcpy(out + total, data + at, size);
        total += size;
        at += size + 2;
    }
    /* the trailers (livebuyd sends none), each on its line, then the empty line that ends the answer */
    for (;;) {
        const char *line = data + at, *eol = find_crlf(line, data + len);
        if (eol == NULL)
            return len - at > LB_H1_HEAD_MAX ? -1 : 0;
        at = (size_t)(eol - data) + 2;
        if (eol == line)
            break;
    }
    *body_len = total;
    return (ssize_t)at;
}

/* One header line [line, eol) into res when it is one the client acts on; -1 when its value is malformed. */
static int parse_header(const char *line, const char *eol, lb_h1_response_t *res, size_t *content_length, int *has_length)
{
    const char *v;
    size_t v_len;
    switch (*line | 0x20) {
    case 'c':
        if ((v = header_value(line, eol, "content-length", 14, &v_len)) != NULL) {
            if (parse_decimal(v, v_len, content_length) != 0)
                return -1;
            *has_length = 1;
        } else if ((v = header_value(line, eol, "connection", 10, &v_len)) != NULL) {
            if (v_len == 5 && strncasecmp(v, "close", 5) == 0)
                res->keep_alive = 0;
            else if (v_len == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                res->keep_alive = 1;
        }
        break;
    case 't':
        /* chunked is the last coding when there is one; the client asks for no other */
        if ((v = header_value(line, eol, "transfer-encoding", 17, &v_len)) != NULL) {
            if (v_len < 7 || strncasecmp(v + v_len - 7, "chunked", 7) != 0)
                return -1;
            res->chunked = 1;
        }
        break;
    case 'r':
        /* seconds; the HTTP-date form counts as absent */
        if ((v = header_value(line, eol, "retry-after", 11, &v_len)) != NULL) {
            size_t seconds;
            res->retry_after = parse_decimal(v, v_len, &seconds) == 0 && seconds <= UINT32_MAX ? (unsigned)seconds : 0;
        }
        break;
    }
    return 0;
}

/* "HTTP/1.x NNN", then a reason phrase or nothing, in [data, eol): the status, or -1. */
static int parse_status_line(const char *data, const char *eol)
{
    if (eol - data < 12 || memcmp(data, "HTTP/1.", 7) != 0 || (data[7] != '0' && data[7] != '1') || data[8] != ' ' ||
        data[9] < '1' || data[9] > '5' || data[10] < '0' || data[10] > '9' || data[11] < '0' || data[11] > '9' ||
        (eol - data > 12 && data[12] != ' '))
        return -1;
    return (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
}

int lb_h1_parse_response(const char *data, size_t len, lb_h1_response_t *res)
{
    const char *end = data + len, *line, *eol = find_crlf(data, end);
    size_t content_length = 0;
    int has_length = 0;
    if (eol == NULL)
        return len > LB_H1_HEAD_MAX ? -1 : 0;
    int status = parse_status_line(data, eol);
    if (status < 0)
        return -1;
    *res = (lb_h1_response_t){.status = status, .keep_alive = data[7] == '1'};
    /* the headers, up to the empty line */
    for (line = eol + 2; (eol = find_crlf(line, end)) != NULL && eol != line; line = eol + 2)
        if (parse_header(line, eol, res, &content_length, &has_length) != 0)
            return -1;
    if (eol == NULL)
        return len > LB_H1_HEAD_MAX ? -1 : 0;
    if ((res->head_len = (size_t)(eol + 2 - data)) > LB_H1_HEAD_MAX)
        return -1;
    if (res->status < 200 || res->status == 204 || res->status == 304) {
        res->chunked = 0; /* no body whatever the headers say */
    } else if (res->chunked) {
        ssize_t wire_len = walk_chunks(data, len, res->head_len, NULL, &res->body_len);
        if (wire_len <= 0)
            return (int)wire_len;
        res->wire_len = (size_t)wire_len;
        return 1;
    } else if (has_length) {
        if (len - res->head_len < content_length)
            return 0;
        res->body_len = content_length;
    }
    res->wire_len = res->head_len + res->body_len;
    return 1;
}

void lb_h1_response_body(const char *data, const lb_h1_response_t *res, char *out)
{
    size_t body_len;
    if (res->chunked)
        walk_chunks(data, res->wire_len, res->head_len, out, &body_len);
    else if (res->body_len != 0)
        memcpy(out, data + res->head_len, res->body_len);
}
