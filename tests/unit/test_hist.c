/* Unit tests of livebuy-load's log-linear histogram: bucket layout, percentiles of known distributions, merge, max. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "hist.h"

static lb_hist_t a, b;

static int close_to(uint64_t got, double want, double tolerance)
{
    return fabs((double)got - want) <= tolerance * want + 0.5;
}

static int compare_u64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

static void test_layout(void)
{
    CHECK(lb_hist__index(0) == 0 && lb_hist__index(2047) == 2047 && lb_hist__index(2048) == 2048);
    CHECK(lb_hist__lowest(lb_hist__index(2049)) == 2048 && lb_hist__highest(lb_hist__index(2049)) == 2049);
    for (uint64_t v = 1; v < (UINT64_C(1) << 32); v = v * 3 + 7) {
        size_t i = lb_hist__index(v);
        CHECK(lb_hist__lowest(i) <= v && v <= lb_hist__highest(i));
        CHECK((double)(lb_hist__highest(i) - lb_hist__lowest(i)) <= (double)v / 1024);
    }
    CHECK(lb_hist__index(UINT64_MAX) < LB_HIST_NUM_COUNTS);
}

/* The percentiles of the histogram against the exact ones of the sorted values. */
static void check_against_exact(uint64_t *values, size_t n)
{
    static const double percents[] = {50, 90, 99, 99.9};
    lb_hist_reset(&a);
    for (size_t i = 0; i != n; ++i)
        lb_hist_record(&a, values[i]);
    qsort(values, n, sizeof(*values), compare_u64);
    for (size_t p = 0; p != sizeof(percents) / sizeof(percents[0]); ++p) {
        size_t rank = (size_t)(percents[p] / 100 * (double)n + 0.5);
        uint64_t exact = values[rank > 0 ? rank - 1 : 0], got = lb_hist_percentile(&a, percents[p]);
        if (!close_to(got, (double)exact, 0.001))
            fprintf(stderr, "p%g: histogram %llu, exact %llu\n", percents[p], (unsigned long long)got, (unsigned long long)exact);
        CHECK(close_to(got, (double)exact, 0.001));
    }
    CHECK(lb_hist_percentile(&a, 100) == values[n - 1] && a.max == values[n - 1] && a.min == values[0]);
}

static void test_uniform(void)
{
    size_t n = 1000000;
    uint64_t *values = malloc(n * sizeof(*values));
    for (size_t i = 0; i != n; ++i)
        values[i] = i + 1; /* 1 µs .. 1 s */
    check_against_exact(values, n);
    CHECK(close_to(lb_hist_percentile(&a, 50), 500000, 0.001));
    CHECK(close_to(lb_hist_percentile(&a, 99), 990000, 0.001));
    CHECK(fabs(lb_hist_mean(&a) - 500000.5) < 1);
    free(values);
}

static void test_exponential(void)
{
    size_t n = 200000;
    uint64_t *values = malloc(n * sizeof(*values));
    srand(42);
    for (size_t i = 0; i != n; ++i) {
        double u = (rand() + 1.0) / ((double)RAND_MAX + 2.0);
        values[i] = (uint64_t)(-log(u) * 5000) + 100; /* a latency-like tail: mean 5 ms above 0.1 ms */
    }
    check_against_exact(values, n);
    free(values);
}

static void test_small_values_exact(void)
{
    lb_hist_reset(&a);
    for (uint64_t v = 1; v <= 100; ++v)
        lb_hist_record(&a, v);
    CHECK(lb_hist_percentile(&a, 50) == 50 && lb_hist_percentile(&a, 90) == 90 && lb_hist_percentile(&a, 99) == 99);
    CHECK(lb_hist_percentile(&a, 0) == 1);
    lb_hist_reset(&b);
    CHECK(lb_hist_percentile(&b, 99) == 0 && lb_hist_mean(&b) == 0);
}

static void test_merge_and_max(void)
{
    lb_hist_reset(&a);
    lb_hist_reset(&b);
    for (uint64_t v = 1; v <= 50000; ++v)
        lb_hist_record(v % 2 ? &a : &b, v);
    lb_hist_record(&b, 123456789);
    lb_hist_merge(&a, &b);
    CHECK(a.total == 50001 && a.max == 123456789 && a.min == 1);
    CHECK(close_to(lb_hist_percentile(&a, 50), 25000, 0.001));
    CHECK(lb_hist_percentile(&a, 100) == 123456789);
    lb_hist_record(&a, UINT64_MAX); /* clamped into the last bucket, max stays exact */
    CHECK(a.max == UINT64_MAX);
}

int main(void)
{
    test_layout();
    test_uniform();
    test_exponential();
    test_small_values_exact();
    test_merge_and_max();
    return CHECK_RESULT("hist");
}
