/* Unit tests of livebuy-load's open-model scheduler: intended send times at the rate, ramp and spike shapes. */
#include <math.h>
#include "arrival.h"
#include "check.h"

static lb_arrival_t arrival;
static char err[256];

/* Counts the due times in [from, to) of the whole profile. */
static size_t count_between(const char *spike, double rate, double duration, double ramp, double from, double to)
{
    double t;
    size_t n = 0;
    lb_arrival_init(&arrival, rate, duration, ramp, spike, err, sizeof(err));
    while ((t = lb_arrival_next(&arrival)) >= 0)
        n += t >= from && t < to;
    return n;
}

static void test_steady(void)
{
    double t, last = -1;
    size_t n = 0, evenly = 0;
    CHECK(lb_arrival_init(&arrival, 1000, 2, 0, NULL, err, sizeof(err)) == 0);
    while ((t = lb_arrival_next(&arrival)) >= 0) {
        evenly += fabs(t - (double)n / 1000) < 1e-9;
        CHECK(t >= last);
        last = t;
        ++n;
    }
    CHECK(n == 2000 && evenly == 2000);
    CHECK(lb_arrival_next(&arrival) < 0);
    CHECK(fabs(lb_arrival_rate_at(&arrival, 1.5) - 1000) < 1e-9 && fabs(lb_arrival_due(&arrival, 0.5) - 500) < 1e-9);
}

static void test_ramp(void)
{
    /* 0 -> 1000/s over 2 s, then 1000/s until 4 s: 1000 requests in the ramp, quadratic times, 2000 after. */
    CHECK(count_between(NULL, 1000, 4, 2, 0, 2) == 1000);
    CHECK(count_between(NULL, 1000, 4, 2, 2, 4) == 2000);
    CHECK(count_between(NULL, 1000, 4, 2, 0, 1) == 250); /* area of the first second: 1000/2 * 1/2 */
    lb_arrival_init(&arrival, 1000, 4, 2, NULL, err, sizeof(err));
    for (int k = 0; k != 400; ++k) {
        double t = lb_arrival_next(&arrival);
        CHECK(fabs(t - sqrt(2.0 * 2 * k / 1000)) < 1e-9);
    }
    CHECK(fabs(lb_arrival_rate_at(&arrival, 1) - 500) < 1e-9);
}

static void test_spike(void)
{
    /* 100/s for 10 s with 2 s at 10x from second 4. */
    CHECK(count_between("4:2:10", 100, 10, 0, 0, 4) == 400);
    CHECK(count_between("4:2:10", 100, 10, 0, 4, 6) == 2000);
    CHECK(count_between("4:2:10", 100, 10, 0, 6, 10) == 400);
    CHECK(count_between("4:2:10", 100, 10, 0, 4.5, 5.5) == 1000);
    CHECK(fabs(lb_arrival_rate_at(&arrival, 5) - 1000) < 1e-9 && fabs(lb_arrival_rate_at(&arrival, 7) - 100) < 1e-9);
    CHECK(fabs(lb_arrival_due(&arrival, 10) - 2800) < 1e-6);
}

static void test_invalid(void)
{
    CHECK(lb_arrival_init(&arrival, 0, 1, 0, NULL, err, sizeof(err)) != 0);
    CHECK(lb_arrival_init(&arrival, 10, 1, 2, NULL, err, sizeof(err)) != 0);
    CHECK(lb_arrival_init(&arrival, 10, 10, 0, "8:5:2", err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "--spike");
    CHECK(lb_arrival_init(&arrival, 10, 10, 0, "nonsense", err, sizeof(err)) != 0);
}

int main(void)
{
    test_steady();
    test_ramp();
    test_spike();
    test_invalid();
    return CHECK_RESULT("arrival");
}
