/* Whether a livebuy-load run passed: thresholds, allowed statuses, error codes (verdict.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "verdict.h"

static int fail(const char **why, const char *text)
{
    *why = text;
    return -1;
}

int lb_verdict_threshold_parse(const char *text, lb_verdict_threshold_t *t, const char **why)
{
    memset(t, 0, sizeof(*t));
    if (strlen(text) >= sizeof(t->text))
        return fail(why, "too long");
    snprintf(t->text, sizeof(t->text), "%s", text);
    const char *p = text;
    double unit = 1;
    if (strncmp(p, "errors", 6) == 0) {
        t->metric = LB_VERDICT_ERRORS;
        p += 6;
    } else if (strncmp(p, "rps", 3) == 0) {
        t->metric = LB_VERDICT_RPS;
        p += 3;
    } else if (strncmp(p, "mean", 4) == 0) {
        t->metric = LB_VERDICT_MEAN;
        p += 4;
    } else if (strncmp(p, "max", 3) == 0) {
        t->metric = LB_VERDICT_LATENCY;
        t->percent = 100;
        p += 3;
    } else if (*p == 'p') {
        char *end;
        t->metric = LB_VERDICT_LATENCY;
        t->percent = strtod(p + 1, &end);
        if (end == p + 1 || !(t->percent > 0 && t->percent <= 100))
            return fail(why, "want p50, p90, p99, p99.9 (a percentile from 0 to 100)");
        p = end;
    } else {
        return fail(why, "want p<percentile>, max, mean, errors or rps before the comparison");
    }
    if (p[0] == '<' || p[0] == '>') {
        t->op = p[1] == '=' ? (p[0] == '<' ? 'l' : 'g') : p[0];
        p += p[1] == '=' ? 2 : 1;
    } else {
        return fail(why, "want <, <=, > or >= after the metric");
    }
    char *end;
    t->limit = strtod(p, &end);
    if (end == p || t->limit < 0)
        return fail(why, "want a number after the comparison");
    if (t->metric == LB_VERDICT_LATENCY || t->metric == LB_VERDICT_MEAN) {
        if (strcmp(end, "us") == 0)
            unit = 1;
        else if (strcmp(end, "ms") == 0)
            unit = 1e3;
        else if (strcmp(end, "s") == 0)
            unit = 1e6;
        else
            return fail(why, "want a unit after a latency: us, ms or s");
    } else if (t->metric == LB_VERDICT_ERRORS && strcmp(end, "%") == 0) {
        unit = 0.01;
    } else if (*end != '\0') {
        return fail(why, t->metric == LB_VERDICT_ERRORS ? "want a fraction (0.01) or a percentage (1%)" : "want a plain number");
    }
    t->limit *= unit;
    return 0;
}

void lb_verdict_allow_init(lb_verdict_allow_t *allow)
{
    memset(allow, 0, sizeof(*allow));
    for (int s = 200; s != 300; ++s)
        allow->status[s] = 1;
    /* sold out or a conflict, over the per-buyer limit: the answers a sale is made of; 429 after the retries ran out */
    allow->status[409] = allow->status[422] = allow->status[429] = 1;
}

int lb_verdict_allow_add(lb_verdict_allow_t *allow, const char *list, const char **why)
{
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        char item[16];
        if (len == 0 || len >= sizeof(item))
            return fail(why, "want statuses such as 503, 4xx, 5xx or network, separated by commas");
        memcpy(item, p, len);
        item[len] = '\0';
        if (strcmp(item, "network") == 0) {
            allow->network = 1;
        } else if (len == 3 && item[0] >= '1' && item[0] <= '5' && strcmp(item + 1, "xx") == 0) {
            int first = (item[0] - '0') * 100;
            for (int s = first; s != first + 100; ++s)
                allow->status[s] = 1;
        } else {
            char *end;
            long s = strtol(item, &end, 10);
            if (*end != '\0' || s < 100 || s > 599)
                return fail(why, "want statuses such as 503, 4xx, 5xx or network, separated by commas");
            allow->status[s] = 1;
        }
        p += len;
        if (*p == ',')
            ++p;
    }
    return 0;
}

double lb_verdict_value(const lb_verdict_threshold_t *t, const lb_hist_t *latency, double errors, double rps)
{
    switch (t->metric) {
    case LB_VERDICT_LATENCY:
        return (double)lb_hist_percentile(latency, t->percent);
    case LB_VERDICT_MEAN:
        return lb_hist_mean(latency);
    case LB_VERDICT_ERRORS:
        return errors;
    case LB_VERDICT_RPS:
        return rps;
    }
    return 0;
}

int lb_verdict_passes(const lb_verdict_threshold_t *t, double value)
{
    switch (t->op) {
    case '<':
        return value < t->limit;
    case 'l':
        return value <= t->limit;
    case '>':
        return value > t->limit;
    case 'g':
        return value >= t->limit;
    }
    return 0;
}

/* The code of an error body, {"error":{"code":"sold_out",...}} as livebuyd writes it (compact, code first). */
static void error_code(const char *body, size_t len, char *code, size_t size)
{
    static const char key[] = "\"code\":\"";
    const char *end = body != NULL ? body + len : NULL, *p = body != NULL ? memmem(body, len, key, sizeof(key) - 1) : NULL;
    size_t n = 0;
    if (p != NULL)
        for (p += sizeof(key) - 1; p != end && *p != '"' && n + 1 < size; ++p)
            if ((*p >= 'a' && *p <= 'z') || *p == '_')
                code[n++] = *p;
    if (n == 0)
        code[n++] = '-';
    code[n] = '\0';
}

void lb_verdict_codes_count(lb_verdict_codes_t *codes, int status, const char *body, size_t len)
{
    char code[sizeof(codes->entries[0].code)];
    error_code(body, len, code, sizeof(code));
    for (size_t i = 0; i != codes->num; ++i)
        if (codes->entries[i].status == status && strcmp(codes->entries[i].code, code) == 0) {
            ++codes->entries[i].count;
            return;
        }
    if (codes->num == LB_VERDICT_MAX_CODES) {
        ++codes->other;
        return;
    }
    lb_verdict_code_t *e = &codes->entries[codes->num++];
    e->status = status;
    memcpy(e->code, code, sizeof(code));
    e->count = 1;
}
