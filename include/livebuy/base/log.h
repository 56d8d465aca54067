/*
 * livebuyd's log on stderr: one line per event with its time (RFC 3339, UTC, milliseconds) and level, as text or as
 * JSON (--log-format); events under the threshold (--log-level) are skipped. Access lines (one per answered request)
 * go to a buffer of the calling thread, written when it fills or when the thread calls lb_log_flush_thread (the loop
 * threads do once per loop iteration), so that a busy loop makes one write(2) per iteration, not one per request.
 * Any other line is written at once, in one write(2), from any thread.
 */
#ifndef LIVEBUY_LOG_H
#define LIVEBUY_LOG_H

#include <pthread.h>
#include <stdint.h>

typedef enum en_lb_log_level_t { LB_LOG_DEBUG, LB_LOG_INFO, LB_LOG_WARN, LB_LOG_ERROR } lb_log_level_t;
typedef enum en_lb_log_format_t { LB_LOG_TEXT, LB_LOG_JSON } lb_log_format_t;

/* "debug", "info", "warn", "error" / "text", "json" into *out: 0, or -1 for another name. */
int lb_log_parse_level(const char *name, lb_log_level_t *out);
int lb_log_parse_format(const char *name, lb_log_format_t *out);
/* The threshold, the format and whether access lines are written (default: info, text, on). Call before threads start. */
void lb_log_setup(lb_log_level_t level, lb_log_format_t format, int access);

/* One line at level, written at once. Any thread. */
void lb_log(lb_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A message that may repeat quickly (a database that refuses connections, tried by every worker): its first occurrence
 * is written, the repeats that follow within 10 s are counted, and one line says how many there were
 * ("cannot connect ... (x24 in 4 s)") when another message comes, 10 s have passed, or lb_log_fold_flush is called.
 * Static storage (LB_LOG_FOLD_INIT); any thread.
 */
typedef struct st_lb_log_fold_t {
    pthread_mutex_t mutex;
    lb_log_level_t level;
    unsigned repeats;          /* occurrences since the line last written */
    uint64_t first_ns, last_ns; /* of the occurrences that line and the repeats cover */
    char message[256];
} lb_log_fold_t;
#define LB_LOG_FOLD_INIT {PTHREAD_MUTEX_INITIALIZER, LB_LOG_INFO, 0, 0, 0, ""}
void lb_log_folded(lb_log_fold_t *fold, lb_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Writes the count of the repeats not yet written, if any (the trouble is over: say so before the recovery line). */
void lb_log_fold_flush(lb_log_fold_t *fold);

/* One answered request, for the access log. Strings are copied; error_code is NULL for a success. */
typedef struct st_lb_access_t {
    const char *request_id, *method, *route, *error_code, *client; /* method: NUL-terminated, at most 15 bytes kept */
    int status;
    uint64_t duration_ns, bytes;
    int64_t buyer_id, merchant_id; /* who asked, 0 when nobody authenticated */
} lb_access_t;
/* Whether access lines are written (--access-log): callers skip gathering their fields when not. */
int lb_log_access_on(void);
/* Appends an access line to this thread's buffer (written when it fills, or by lb_log_flush_thread). */
void lb_log_access(const lb_access_t *access);
/* Writes this thread's buffered access lines. */
void lb_log_flush_thread(void);

#endif
