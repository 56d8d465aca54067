/* The log-linear histogram: bucket b holds values [2^(b+10), 2^(b+11)) in 1024 steps of 2^b (bucket 0: 0-2047 exactly). */
#include <string.h>
#include "hist.h"

#define SUB_COUNT (1u << LB_HIST_SUB_BITS)
#define HALF_BITS (LB_HIST_SUB_BITS - 1)
#define VALUE_MAX ((UINT64_C(1) << LB_HIST_MAX_BITS) - 1)

void lb_hist_reset(lb_hist_t *hist)
{
    memset(hist, 0, sizeof(*hist));
    hist->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t value)
{
    unsigned bits = 64 - (unsigned)__builtin_clzll(value | (SUB_COUNT - 1)); /* at least LB_HIST_SUB_BITS */
    return bits - LB_HIST_SUB_BITS;
}

size_t lb_hist__index(uint64_t value)
{
    if (value > VALUE_MAX)
        value = VALUE_MAX;
    unsigned bucket = bucket_of(value);
    return ((size_t)bucket << HALF_BITS) + (size_t)(value >> bucket);
}

uint64_t lb_hist__lowest(size_t index)
{
    if (index < SUB_COUNT)
        return index;
    unsigned bucket = (unsigned)(index >> HALF_BITS) - 1;
    uint64_t sub = (index & ((1u << HALF_BITS) - 1)) + (1u << HALF_BITS);
    return sub << bucket;
}

uint64_t lb_hist__highest(size_t index)
{
    return lb_hist__lowest(index + 1) - 1;
}

void lb_hist_record(lb_hist_t *hist, uint64_t value)
{
    ++hist->counts[lb_hist__index(value)];
    ++hist->total;
    hist->sum += value;
    if (value < hist->min)
        hist->min = value;
    if (value > hist->max)
        hist->max = value;
}

void lb_hist_merge(lb_hist_t *into, const lb_hist_t *from)
{
    for (size_t i = 0; i != LB_HIST_NUM_COUNTS; ++i)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t lb_hist_percentile(const lb_hist_t *hist, double percent)
{
    if (hist->total == 0)
        return 0;
    if (percent >= 100)
        return hist->max;
    uint64_t rank = (uint64_t)(percent / 100 * (double)hist->total + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i != LB_HIST_NUM_COUNTS; ++i) {
        if ((seen += hist->counts[i]) >= rank) {
            /* The middle of the bucket halves the worst-case error; never beyond what was really seen. */
            uint64_t lowest = lb_hist__lowest(i), value = lowest + (lb_hist__highest(i) - lowest) / 2;
            if (value > hist->max)
                value = hist->max;
            if (value < hist->min)
                value = hist->min;
            return value;
        }
    }
    return hist->max;
}

double lb_hist_mean(const lb_hist_t *hist)
{
    return hist->total != 0 ? (double)hist->sum / (double)hist->total : 0;
}
