/* Unit tests of livebuy-load's verdict: threshold expressions, allowed statuses, error codes by status. */
#include <string.h>
#include "check.h"
#include "verdict.h"

static void test_thresholds(void)
{
    lb_verdict_threshold_t t;
    const char *why;
    CHECK(lb_verdict_threshold_parse("p99<50ms", &t, &why) == 0 && t.metric == LB_VERDICT_LATENCY && t.percent == 99 &&
          t.op == '<' && t.limit == 50000);
    CHECK(lb_verdict_threshold_parse("p99.9<=0.2s", &t, &why) == 0 && t.percent == 99.9 && t.op == 'l' && t.limit == 200000);
    CHECK(lb_verdict_threshold_parse("max<800us", &t, &why) == 0 && t.percent == 100 && t.limit == 800);
    CHECK(lb_verdict_threshold_parse("mean<10ms", &t, &why) == 0 && t.metric == LB_VERDICT_MEAN);
    CHECK(lb_verdict_threshold_parse("errors<1%", &t, &why) == 0 && t.metric == LB_VERDICT_ERRORS && t.limit == 0.01);
    CHECK(lb_verdict_threshold_parse("errors<=0.02", &t, &why) == 0 && t.limit == 0.02 && t.op == 'l');
    CHECK(lb_verdict_threshold_parse("rps>=1000", &t, &why) == 0 && t.metric == LB_VERDICT_RPS && t.op == 'g');
    CHECK(lb_verdict_passes(&t, 1000) && !lb_verdict_passes(&t, 999.9));
    CHECK(lb_verdict_threshold_parse("rps>1000", &t, &why) == 0 && !lb_verdict_passes(&t, 1000));
    static const char *const bad[] = {"p99",     "p99<",       "p99<50", "p99<50 ms", "p0<1ms",   "p101<1ms",
                                      "q99<1ms", "errors<1ms", "rps>1k", "p99=5ms",   "p99<-1ms", ""};
    for (size_t i = 0; i != sizeof(bad) / sizeof(bad[0]); ++i)
        CHECK(lb_verdict_threshold_parse(bad[i], &t, &why) == -1 && why != NULL);

    lb_hist_t latency;
    lb_hist_reset(&latency);
    for (uint64_t v = 1; v <= 1000; ++v)
        lb_hist_record(&latency, v * 100); /* 100 us to 100 ms */
    CHECK(lb_verdict_threshold_parse("p99<50ms", &t, &why) == 0 && !lb_verdict_passes(&t, lb_verdict_value(&t, &latency, 0, 0)));
    CHECK(lb_verdict_threshold_parse("p50<60ms", &t, &why) == 0 && lb_verdict_passes(&t, lb_verdict_value(&t, &latency, 0, 0)));
    CHECK(lb_verdict_threshold_parse("errors<1%", &t, &why) == 0 &&
          !lb_verdict_passes(&t, lb_verdict_value(&t, &latency, 0.01, 0)));
}

static void test_allow(void)
{
    lb_verdict_allow_t allow;
    const char *why;
    lb_verdict_allow_init(&allow);
    CHECK(allow.status[200] && allow.status[201] && allow.status[409] && allow.status[422] && allow.status[429]);
    CHECK(!allow.status[401] && !allow.status[403] && !allow.status[500] && !allow.status[503] && !allow.network);
    CHECK(lb_verdict_allow_add(&allow, "503,401", &why) == 0 && allow.status[503] && allow.status[401] && !allow.status[500]);
    CHECK(lb_verdict_allow_add(&allow, "5xx,network", &why) == 0 && allow.status[500] && allow.status[599] && allow.network);
    CHECK(lb_verdict_allow_add(&allow, "600", &why) == -1 && lb_verdict_allow_add(&allow, "40", &why) == -1);
    CHECK(lb_verdict_allow_add(&allow, "401,,403", &why) == -1 && lb_verdict_allow_add(&allow, "6xx", &why) == -1);
}

static void test_codes(void)
{
    static lb_verdict_codes_t codes;
    static const char sold_out[] = "{\"error\":{\"code\":\"sold_out\",\"message\":\"only 3 left\"}}";
    static const char conflict[] = "{\"error\":{\"code\":\"conflict\",\"message\":\"opens later\"}}";
    lb_verdict_codes_count(&codes, 409, sold_out, strlen(sold_out));
    lb_verdict_codes_count(&codes, 409, conflict, strlen(conflict));
    lb_verdict_codes_count(&codes, 409, sold_out, strlen(sold_out));
    lb_verdict_codes_count(&codes, 502, "<html>bad gateway</html>", 24);
    lb_verdict_codes_count(&codes, 503, NULL, 0);
    CHECK(codes.num == 4);
    CHECK(codes.entries[0].status == 409 && strcmp(codes.entries[0].code, "sold_out") == 0 && codes.entries[0].count == 2);
    CHECK(strcmp(codes.entries[1].code, "conflict") == 0 && codes.entries[1].count == 1);
    CHECK(codes.entries[2].status == 502 && strcmp(codes.entries[2].code, "-") == 0);
    CHECK(codes.entries[3].status == 503 && strcmp(codes.entries[3].code, "-") == 0);
    for (int s = 0; s != 2 * LB_VERDICT_MAX_CODES; ++s)
        lb_verdict_codes_count(&codes, 400 + s % 100, NULL, 0);
    CHECK(codes.num == LB_VERDICT_MAX_CODES && codes.other > 0);
}

int main(void)
{
    test_thresholds();
    test_allow();
    test_codes();
    return CHECK_RESULT("verdict");
}
