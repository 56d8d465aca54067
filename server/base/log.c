/* The log (livebuy/base/log.h): formatting a line, the per-thread access buffer, folding repeats. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/base/request.h"

#define LINE_MAX_BYTES    2048
#define ACCESS_BUFFER     (64 * 1024)
#define ACCESS_FLUSH_AT   (ACCESS_BUFFER - LINE_MAX_BYTES)
#define FOLD_WINDOW_NS    (10 * 1000000000ull)

static lb_log_level_t threshold = LB_LOG_INFO;
static lb_log_format_t format = LB_LOG_TEXT;
static int access_on = 1;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* A line being built; bytes past the end are dropped (the line is cut, never overflows). */
typedef struct st_line_t {
    char *buf;
    size_t len, cap;
} line_t;

/* Appends n bytes of s; what does not fit is dropped. */
static void put_bytes(line_t *l, const char *s, size_t n)
{
    size_t room = l->cap - l->len - 1;
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void put_str(line_t *l, const char *s)
{
    put_bytes(l, s, strlen(s));
}

/* v in decimal, at least width digits (zeros in front): the access log's numbers without printf's parsing. */
static void put_int(line_t *l, long long v, int width)
{
    char text[24];
    put_bytes(l, text, (size_t)(lb_request_put_decimal(text, v, width) - text));
}

/*
 * s as a JSON string's contents, in both formats: a quote and a backslash escaped, control characters as u00XX escapes
 * (text: one event a line, and a quoted value ends where it does: a method sent as 'A" buyer_id=1 "' adds no field).
 */
static void put_text(line_t *l, const char *s)
{
    for (; *s != '\0' && l->len + 16 < l->cap; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            l->buf[l->len++] = '\\', l->buf[l->len++] = (char)c;
        else if (c < 0x20)
            l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, "\\u%04x", c);
        else
            l->buf[l->len++] = (char)c;
    }
    l->buf[l->len] = '\0';
}

/* The time (cached per second by each thread) and level that open every line. */
static void put_head(line_t *l, lb_log_level_t level)
{
    static _Thread_local time_t cached_second = -1;
    static _Thread_local char cached[24];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != cached_second) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_second = now.tv_sec;
    }
    put_str(l, format == LB_LOG_JSON ? "{\"time\":\"" : "");
    put_str(l, cached);
    put_str(l, ".");
    put_int(l, now.tv_nsec / 1000000, 3);
    if (format == LB_LOG_JSON) {
        put_str(l, "Z\",\"level\":\"");
        put_str(l, level_names[level]);
        put_str(l, "\",\"msg\":\"");
    } else {
        static const char spaces[] = "     ";
        size_t n = strlen(level_names[level]);
        put_str(l, "Z ");
        put_str(l, level_names[level]);
        put_bytes(l, spaces, n < 5 ? 6 - n : 1); /* %-5s and a space */
    }
}

static void write_all(const char *buf, size_t len)
{
    while (len != 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n <= 0)
            return; /* nowhere to say it */
        buf += n;
        len -= (size_t)n;
    }
}

/* Ends a line that put_head opened and whose message was put (JSON: the fields after msg are the caller's). */
static void put_end(line_t *l)
{
    if (l->len + 2 >= l->cap)
        l->len = l->cap - 3;
    if (format == LB_LOG_JSON)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
}

int lb_log_parse_level(const char *name, lb_log_level_t *out)
{
    for (size_t i = 0; i != LB_ARRAY_SIZE(level_names); ++i) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (lb_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

int lb_log_parse_format(const char *name, lb_log_format_t *out)
{
    if (strcmp(name, "text") == 0 || strcmp(name, "json") == 0) {
        *out = name[0] == 't' ? LB_LOG_TEXT : LB_LOG_JSON;
        return 0;
    }
    return -1;
}

void lb_log_setup(lb_log_level_t level, lb_log_format_t fmt, int access)
{
    threshold = level;
    format = fmt;
    access_on = access;
}

static void log_message(lb_log_level_t level, const char *message)
{
    char buf[LINE_MAX_BYTES];
    line_t l = {buf, 0, sizeof(buf)};
    put_head(&l, level);
    put_text(&l, message);
    if (format == LB_LOG_JSON)
        put_str(&l, "\"");
    put_end(&l);
    write_all(l.buf, l.len);
}

void lb_log(lb_log_level_t level, const char *fmt, ...)
{
    if (level < threshold)
        return;
    char message[LINE_MAX_BYTES - 128];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    log_message(level, message);
}

/* The line that counts fold's repeats; under its mutex. */
static void write_repeats(lb_log_fold_t *fold)
{
    if (fold->repeats == 0)
        return;
    double seconds = (double)(fold->last_ns - fold->first_ns) / 1e9;
    lb_log(fold->level, "%s (x%u in %.0f s)", fold->message, fold->repeats + 1, seconds < 1 ? 1 : seconds);
    fold->repeats = 0;
}

void lb_log_folded(lb_log_fold_t *fold, lb_log_level_t level, const char *fmt, ...)
{
    char message[sizeof(fold->message)];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    uint64_t now = lb_monotonic_ns();

    pthread_mutex_lock(&fold->mutex);
    if (strcmp(message, fold->message) == 0 && now - fold->first_ns < FOLD_WINDOW_NS) {
        ++fold->repeats;
        fold->last_ns = now;
    } else if (strcmp(message, fold->message) == 0) {
        fold->last_ns = now;
        ++fold->repeats;
        write_repeats(fold);
        fold->first_ns = now;
    } else {
        write_repeats(fold);
        memcpy(fold->message, message, sizeof(message));
        fold->level = level;
        fold->first_ns = fold->last_ns = now;
        lb_log(level, "%s", message);
    }
    pthread_mutex_unlock(&fold->mutex);
}

void lb_log_fold_flush(lb_log_fold_t *fold)
{
    pthread_mutex_lock(&fold->mutex);
    write_repeats(fold);
    fold->message[0] = '\0';
    pthread_mutex_unlock(&fold->mutex);
}

/* ---- The access log ----------------------------------------------------------------------------------------------- */

static _Thread_local char *access_buffer;
static _Thread_local size_t access_len;

int lb_log_access_on(void)
{
    return access_on && threshold <= LB_LOG_INFO;
}

static void put_name(line_t *l, const char *name)
{
    put_str(l, format == LB_LOG_JSON ? ",\"" : " ");
    put_str(l, name);
    put_str(l, format == LB_LOG_JSON ? "\":" : "=");
}

static void put_field(line_t *l, const char *name, const char *value)
{
    put_name(l, name);
    put_str(l, "\"");
    put_text(l, value);
    put_str(l, "\"");
}

static void put_number(line_t *l, const char *name, long long value)
{
    put_name(l, name);
    put_int(l, value, 1);
}

/*
 * One line per request, on every request: written with copies and integer digits rather than printf (callgrind: the
 * line cost livebuyd some 13,600 instructions of the 42,000 a hot-SKU order took).
 */
static void put_access(line_t *l, const lb_access_t *a)
{
    put_head(l, LB_LOG_INFO);
    put_str(l, format == LB_LOG_JSON ? "access\"" : "access");
    put_field(l, "request_id", a->request_id);
    put_field(l, "method", a->method);
    put_field(l, "route", a->route);
    put_number(l, "status", a->status);
    if (a->error_code != NULL)
        put_field(l, "error", a->error_code);
    /* Milliseconds with three decimals, rounded to the microsecond (as %.3f did). */
    long long us = (long long)((a->duration_ns + 500) / 1000);
    put_number(l, "duration_ms", us / 1000);
    put_str(l, ".");
    put_int(l, us % 1000, 3);
    put_number(l, "bytes", (long long)a->bytes);
    put_field(l, "client", a->client);
    if (a->buyer_id != 0)
        put_number(l, "buyer_id", a->buyer_id);
    if (a->merchant_id != 0)
        put_number(l, "merchant_id", a->merchant_id);
    put_end(l);
}

void lb_log_access(const lb_access_t *access)
{
    if (!lb_log_access_on())
        return;
    if (access_buffer == NULL)
        access_buffer = lb_malloc(ACCESS_BUFFER);
    line_t l = {access_buffer + access_len, 0, LINE_MAX_BYTES};
    put_access(&l, access);
    access_len += l.len;
    if (access_len >= ACCESS_FLUSH_AT)
        lb_log_flush_thread();
}

void lb_log_flush_thread(void)
{
    if (access_len == 0)
        return;
    write_all(access_buffer, access_len);
    access_len = 0;
}
