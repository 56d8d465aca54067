/* Unit tests of the outbox engine's retry schedule: exponential backoff from the first delay, capped, with +-20% jitter. */
#include "check.h"
#include "livebuy/jobs/outbox.h"

static void test_doubling(void)
{
    /* random 0.5 is the middle of the jitter: the plain schedule. */
    CHECK(lb_outbox_backoff_ms(1000, 1, 0.5) == 1000);
    CHECK(lb_outbox_backoff_ms(1000, 2, 0.5) == 2000);
    CHECK(lb_outbox_backoff_ms(1000, 3, 0.5) == 4000);
    CHECK(lb_outbox_backoff_ms(1000, 9, 0.5) == 256000);
    CHECK(lb_outbox_backoff_ms(50, 1, 0.5) == 50);
    CHECK(lb_outbox_backoff_ms(50, 4, 0.5) == 400);
}

static void test_cap(void)
{
    CHECK(lb_outbox_backoff_ms(1000, 10, 0.5) == LB_OUTBOX_BACKOFF_MAX_MS);
    CHECK(lb_outbox_backoff_ms(1000, 1000, 0.5) == LB_OUTBOX_BACKOFF_MAX_MS);
    CHECK(lb_outbox_backoff_ms(60000, 100000, 0.5) == LB_OUTBOX_BACKOFF_MAX_MS);
}

static void test_jitter(void)
{
    CHECK(lb_outbox_backoff_ms(1000, 1, 0.0) == 800);
    CHECK(lb_outbox_backoff_ms(1000, 1, 0.999999) == 1199);
    CHECK(lb_outbox_backoff_ms(1000, 100, 0.0) == LB_OUTBOX_BACKOFF_MAX_MS * 8 / 10);
    CHECK(lb_outbox_backoff_ms(1000, 100, 0.999999) < LB_OUTBOX_BACKOFF_MAX_MS * 12 / 10);
}

int main(void)
{
    test_doubling();
    test_cap();
    test_jitter();
    return CHECK_RESULT("outbox");
}
