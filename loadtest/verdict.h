/*
 * Whether a livebuy-load run passed, as load testers expect (k6's thresholds): the statuses a run may get (2xx, 409,
 * 422 and 429 by default; --allow-status adds more), thresholds on its latency, errors and throughput
 * (--threshold 'p99<50ms'), and the API's error codes behind each status. Pure: no I/O.
 */
#ifndef LIVEBUY_LOAD_VERDICT_H
#define LIVEBUY_LOAD_VERDICT_H

#include <stddef.h>
#include <stdint.h>
#include "hist.h"

#define LB_VERDICT_MAX_THRESHOLDS 16
#define LB_VERDICT_MAX_CODES      64

typedef enum en_lb_verdict_metric_t {
    LB_VERDICT_LATENCY, /* a percentile (percent) of the latency from the intended send time, microseconds */
    LB_VERDICT_MEAN,    /* the mean latency, microseconds */
    LB_VERDICT_ERRORS,  /* unexpected statuses and network errors, a fraction of the requests */
    LB_VERDICT_RPS      /* answers a second */
} lb_verdict_metric_t;

typedef struct st_lb_verdict_threshold_t {
    char text[64]; /* as given */
    lb_verdict_metric_t metric;
    double percent; /* LB_VERDICT_LATENCY: 50, 99, 99.9, 100 for max */
    int op;         /* '<', 'l' (<=), '>', 'g' (>=) */
    double limit;   /* in the metric's unit (microseconds, a fraction, per second) */
} lb_verdict_threshold_t;

/* What statuses a run may get: allowed[status], and whether network errors are allowed. */
typedef struct st_lb_verdict_allow_t {
    uint8_t status[600];
    int network;
} lb_verdict_allow_t;

/* Parses "p99<50ms", "p99.9<=0.2s", "max<1s", "mean<10ms", "errors<1%", "errors<=0.01", "rps>1000". 0, or -1 with why. */
int lb_verdict_threshold_parse(const char *text, lb_verdict_threshold_t *t, const char **why);
/* The default allowed statuses (2xx, 409, 422, 429). */
void lb_verdict_allow_init(lb_verdict_allow_t *allow);
/* Adds "503", "4xx", "5xx" or "network", comma-separated. 0, or -1 with why. */
int lb_verdict_allow_add(lb_verdict_allow_t *allow, const char *list, const char **why);

/* The metric's value in a run, and whether it passes the threshold. */
double lb_verdict_value(const lb_verdict_threshold_t *t, const lb_hist_t *latency, double errors, double rps);
int lb_verdict_passes(const lb_verdict_threshold_t *t, double value);

/* Counts of the API's error codes by status ("409 sold_out"), read from error bodies. */
typedef struct st_lb_verdict_code_t {
    int status;
    char code[32];
    uint64_t count;
} lb_verdict_code_t;
typedef struct st_lb_verdict_codes_t {
    lb_verdict_code_t entries[LB_VERDICT_MAX_CODES];
    size_t num;
    uint64_t other; /* answers past the table's size */
} lb_verdict_codes_t;
/* Counts an answer's error code: the "code" of its {"error": {"code": ...}} body, or "-" when it has none. */
void lb_verdict_codes_count(lb_verdict_codes_t *codes, int status, const char *body, size_t len);

#endif
