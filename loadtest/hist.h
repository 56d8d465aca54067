/*
 * A log-linear latency histogram (HdrHistogram's bucket layout, 3 significant digits): values are microseconds, exact
 * below 2048 and within 1/1024 of the truth above, up to 2^32 µs (about 71 minutes; larger values are clamped).
 */
#ifndef LIVEBUY_LOAD_HIST_H
#define LIVEBUY_LOAD_HIST_H

#include <stddef.h>
#include <stdint.h>

#define LB_HIST_SUB_BITS   11 /* 2048 sub-buckets: 3 significant decimal digits */
#define LB_HIST_MAX_BITS   32 /* values up to 2^32 - 1 */
#define LB_HIST_NUM_COUNTS ((LB_HIST_MAX_BITS - LB_HIST_SUB_BITS + 2) << (LB_HIST_SUB_BITS - 1))

/* Plain data: zero it (or lb_hist_reset) to start; copy and merge freely. */
typedef struct st_lb_hist_t {
    uint64_t total, sum;
    uint64_t min, max; /* exact; min is UINT64_MAX while empty */
    uint64_t counts[LB_HIST_NUM_COUNTS];
} lb_hist_t;

void lb_hist_reset(lb_hist_t *hist);
/* Records one value (microseconds). */
void lb_hist_record(lb_hist_t *hist, uint64_t value);
/* Adds every value recorded in from into into. */
void lb_hist_merge(lb_hist_t *into, const lb_hist_t *from);
/* The value below or at which percent (0-100) of the recorded values lie (0 when empty); 100 gives the exact max. */
uint64_t lb_hist_percentile(const lb_hist_t *hist, double percent);
/* The mean of the recorded values (0 when empty). */
double lb_hist_mean(const lb_hist_t *hist);

/* Bucket layout, for tests and the JSON report: the counts index of a value, and the lowest and highest value sharing
 * that index. */
size_t lb_hist__index(uint64_t value);
uint64_t lb_hist__lowest(size_t index);
uint64_t lb_hist__highest(size_t index);

#endif
