/* livebuy-load's output: the progress line, the summary, the JSON file and the self-contained HTML plot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "load.h"

const char *const lb_load_scenario_names[] = {"drop", "mixed", "hot", "healthz", "groupbuy", "catalog", NULL};
const char *const lb_load_kind_names[] = {"order", "browse_live", "browse_sku", "pay", "cancel", "healthz", "refund"};

void lb_load_push(void **array, size_t *num, size_t *cap, size_t elem, const void *value)
{
    *array = lb_grow(*array, *num, cap, elem);
    memcpy((char *)*array + *num * elem, value, elem);
    ++*num;
}

static double elapsed_seconds(const lb_load_run_t *run)
{
    return run->end_ns > run->start_ns ? (double)(run->end_ns - run->start_ns) / 1e9 : 0;
}

static double ms(uint64_t us)
{
    return (double)us / 1000;
}

void lb_load_report_progress(const lb_load_run_t *run, const lb_load_second_t *second)
{
    fprintf(
        stderr,
        "livebuy-load: %3zus  offered %6llu/s  answered %6llu/s  2xx %6llu  failed %4llu  open %5llu  queued %5zu  p50 %7.2f ms  "
        "p99 %7.2f ms\n",
        run->num_series, (unsigned long long)second->offered, (unsigned long long)second->done, (unsigned long long)second->ok,
        (unsigned long long)second->failed, (unsigned long long)run->ops_alive, lb_load_queued(run), ms(second->p50),
        ms(second->p99));
}

static void print_latency(const char *label, const lb_hist_t *hist)
{
    printf("%-24s p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms\n", label, ms(lb_hist_percentile(hist, 50)),
           ms(lb_hist_percentile(hist, 90)), ms(lb_hist_percentile(hist, 99)), ms(lb_hist_percentile(hist, 99.9)), ms(hist->max));
}

void lb_load_report_print(const lb_load_run_t *run)
{
    const lb_load_options_t *opt = &run->opt;
    double elapsed = elapsed_seconds(run);
    if (opt->http1)
        printf("HTTP/1.1 keep-alive, one request at a time per connection\n");
    if (opt->concurrency > 0)
        printf("scenario %s, closed model: %zu concurrent, %zu connections x %zu streams\n", lb_load_scenario_names[opt->scenario],
               opt->concurrency, opt->connections, opt->streams);
    else
        printf("scenario %s, open model: %.0f/s for %.1f s%s%s, %zu connections x %zu streams\n",
               lb_load_scenario_names[opt->scenario], opt->rate, opt->duration, opt->spike != NULL ? ", spike " : "",
               opt->spike != NULL ? opt->spike : "", opt->connections, opt->streams);
    printf("%-24s %llu answered in %.2f s: %.0f/s (%llu arrivals, %llu retries after 429/503)\n", "requests",
           (unsigned long long)run->requests_done, elapsed, elapsed > 0 ? (double)run->requests_done / elapsed : 0,
           (unsigned long long)run->arrivals, (unsigned long long)run->retries);
    if (run->requests_done != 0 && run->cpu_s > 0)
        printf("%-24s %.2f s CPU: %.2f us a request (one core would offer about %.0f/s)\n", "generator", run->cpu_s,
               run->cpu_s * 1e6 / (double)run->requests_done, (double)run->requests_done / run->cpu_s);
    print_latency("latency (intended send)", &run->latency);
    print_latency("service (real send)", &run->service);
    for (size_t k = 0; k != LB_LOAD_NUM_KINDS; ++k)
        if (run->by_kind[k].total != 0) {
            char label[40];
            snprintf(label, sizeof(label), "  %s x%llu", lb_load_kind_names[k], (unsigned long long)run->by_kind[k].total);
            print_latency(label, &run->by_kind[k]);
        }
    printf("%-24s", "status");
    for (int s = 0; s != 600; ++s)
        if (run->status_counts[s] != 0)
            printf(" %d: %llu", s, (unsigned long long)run->status_counts[s]);
    printf("  network errors: %llu\n", (unsigned long long)run->network_errors);
    if (run->codes.num != 0) {
        printf("%-24s", "error codes");
        for (size_t i = 0; i != run->codes.num; ++i)
            printf(" %d %s: %llu", run->codes.entries[i].status, run->codes.entries[i].code,
                   (unsigned long long)run->codes.entries[i].count);
        printf("\n");
    }
}

int lb_load_verdict(lb_load_run_t *run)
{
    const lb_load_options_t *opt = &run->opt;
    double elapsed = elapsed_seconds(run);
    run->unexpected = opt->allow.network ? 0 : run->network_errors;
    for (int s = 0; s != 600; ++s)
        if (run->status_counts[s] != 0 && !opt->allow.status[s]) {
            run->unexpected += run->status_counts[s];
            fprintf(stderr, "livebuy-load: FAILED: %llu answers of status %d (not allowed: --allow-status)\n",
                    (unsigned long long)run->status_counts[s], s);
        }
    if (run->network_errors != 0 && !opt->allow.network)
        fprintf(stderr, "livebuy-load: FAILED: %llu network errors (not allowed: --allow-status network)\n",
                (unsigned long long)run->network_errors);
    uint64_t requests = run->requests_done != 0 ? run->requests_done : 1;
    run->errors = (double)run->unexpected / (double)requests;
    run->rps = elapsed > 0 ? (double)run->requests_done / elapsed : 0;
    int breached = 0;
    for (size_t i = 0; i != opt->num_thresholds; ++i) {
        const lb_verdict_threshold_t *t = &opt->thresholds[i];
        double value = lb_verdict_value(t, &run->latency, run->errors, run->rps);
        run->threshold_values[i] = value;
        run->threshold_ok[i] = lb_verdict_passes(t, value);
        breached |= !run->threshold_ok[i];
        if (t->metric == LB_VERDICT_LATENCY || t->metric == LB_VERDICT_MEAN)
            fprintf(stderr, "livebuy-load: threshold %s: %s (%.3f ms)\n", t->text, run->threshold_ok[i] ? "ok" : "BREACHED",
                    value / 1e3);
        else if (t->metric == LB_VERDICT_ERRORS)
            fprintf(stderr, "livebuy-load: threshold %s: %s (%.3f%%)\n", t->text, run->threshold_ok[i] ? "ok" : "BREACHED",
                    value * 100);
        else
            fprintf(stderr, "livebuy-load: threshold %s: %s (%.1f/s)\n", t->text, run->threshold_ok[i] ? "ok" : "BREACHED", value);
    }
    run->verdict_ran = 1;
    return run->unexpected != 0 ? 3 : breached ? 4 : 0;
}

/* The latency histogram's non-empty buckets, [lowest, highest, count] in microseconds: runs can be merged and compared
 * (hist.h: HdrHistogram's layout, 3 significant digits). */
static json_t *buckets_json(const lb_hist_t *hist)
{
    json_t *buckets = json_array();
    for (size_t i = 0; i != LB_HIST_NUM_COUNTS; ++i)
        if (hist->counts[i] != 0)
            json_array_append_new(buckets, json_pack("[I,I,I]", (json_int_t)lb_hist__lowest(i), (json_int_t)lb_hist__highest(i),
                                                     (json_int_t)hist->counts[i]));
    return buckets;
}

/* The verdict's part of the JSON: error codes by status, what was not allowed, the thresholds. */
static void verdict_json(const lb_load_run_t *run, json_t *doc)
{
    json_t *codes = json_object();
    for (size_t i = 0; i != run->codes.num; ++i) {
        const lb_verdict_code_t *e = &run->codes.entries[i];
        char status[8];
        snprintf(status, sizeof(status), "%d", e->status);
        json_t *by_status = json_object_get(codes, status);
        if (by_status == NULL)
            json_object_set_new(codes, status, by_status = json_object());
        json_object_set_new(by_status, e->code, json_integer((json_int_t)e->count));
    }
    json_object_set_new(doc, "error_codes", codes);
    json_object_set_new(doc, "latency_buckets_us", buckets_json(&run->latency));
    if (!run->verdict_ran)
        return;
    json_t *thresholds = json_array();
    for (size_t i = 0; i != run->opt.num_thresholds; ++i)
        json_array_append_new(thresholds, json_pack("{s:s,s:f,s:b}", "threshold", run->opt.thresholds[i].text, "value",
                                                    run->threshold_values[i], "ok", run->threshold_ok[i]));
    json_object_set_new(doc, "unexpected", json_integer((json_int_t)run->unexpected));
    json_object_set_new(doc, "errors", json_real(run->errors));
    json_object_set_new(doc, "thresholds", thresholds);
}

static json_t *latency_json(const lb_hist_t *hist)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "count", (json_int_t)hist->total, "p50",
                     (json_int_t)lb_hist_percentile(hist, 50), "p90", (json_int_t)lb_hist_percentile(hist, 90), "p99",
                     (json_int_t)lb_hist_percentile(hist, 99), "p99_9", (json_int_t)lb_hist_percentile(hist, 99.9), "max",
                     (json_int_t)hist->max, "min", (json_int_t)(hist->total != 0 ? hist->min : 0), "mean", lb_hist_mean(hist));
}

static json_t *options_json(const lb_load_options_t *opt)
{
    return json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:I}", "url", opt->url,
                     "scenario", lb_load_scenario_names[opt->scenario], "model", opt->concurrency > 0 ? "closed" : "open", "rate",
                     opt->rate, "duration", opt->duration, "ramp", opt->ramp, "spike", opt->spike, "concurrency",
                     (json_int_t)opt->concurrency, "connections", (json_int_t)opt->connections, "streams", (json_int_t)opt->streams,
                     "buyers", (json_int_t)opt->buyers, "stock", (json_int_t)opt->stock, "quota", (json_int_t)opt->quota,
                     "per_buyer_limit", (json_int_t)opt->limit, "dup_share", opt->dup_share, "pay_share", opt->pay_share,
                     "cancel_share", opt->cancel_share, "refund_share", opt->refund_share, "browse_share", opt->browse_share,
                     "pay_delay_ms", (json_int_t)opt->pay_delay_ms, "max_retries", (json_int_t)opt->max_retries);
}

static json_t *run_json(const lb_load_run_t *run)
{
    double elapsed = elapsed_seconds(run);
    json_t *status = json_object(), *kinds = json_object(), *series = json_array();
    for (int s = 0; s != 600; ++s)
        if (run->status_counts[s] != 0) {
            char name[8];
            snprintf(name, sizeof(name), "%d", s);
            json_object_set_new(status, name, json_integer((json_int_t)run->status_counts[s]));
        }
    for (size_t k = 0; k != LB_LOAD_NUM_KINDS; ++k)
        if (run->by_kind[k].total != 0)
            json_object_set_new(kinds, lb_load_kind_names[k], latency_json(&run->by_kind[k]));
    for (size_t i = 0; i != run->num_series; ++i) {
        const lb_load_second_t *s = &run->series[i];
        json_array_append_new(series, json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "t", (json_int_t)(i + 1), "span_s",
                                                s->span_s, "offered", (json_int_t)s->offered, "answered", (json_int_t)s->done, "ok",
                                                (json_int_t)s->ok, "refused", (json_int_t)s->refused, "failed",
                                                (json_int_t)s->failed, "p50_us", (json_int_t)s->p50, "p90_us", (json_int_t)s->p90,
                                                "p99_us", (json_int_t)s->p99, "max_us", (json_int_t)s->max));
    }
    const lb_load_setup_t *setup = &run->setup;
    json_t *check = run->check_ran ? json_pack("{s:b,s:O,s:I}", "ok", json_array_size(run->violations) == 0, "violations",
                                               run->violations, "orders_seen", (json_int_t)run->orders_seen)
                                   : json_null();
    json_t *doc = json_pack("{s:o,s:{s:I,s:s,s:I,s:I,s:I,s:I},s:f,s:I,s:I,s:I,s:f,s:o,s:o,s:o,s:I,s:o,s:o,s:o}", "options",
                            options_json(&run->opt), "setup", "coop_id", (json_int_t)setup->coop_id, "coop_token",
                            setup->coop_token, "sku_id", (json_int_t)setup->sku_id, "live_id", (json_int_t)setup->live_id,
                            "live_item_id", (json_int_t)setup->live_item_id, "host_id", (json_int_t)setup->host_id, "elapsed_s",
                            elapsed, "arrivals", (json_int_t)run->arrivals, "requests", (json_int_t)run->requests_done, "retries",
                            (json_int_t)run->retries, "throughput_rps", elapsed > 0 ? (double)run->requests_done / elapsed : 0.0,
                            "latency_us", latency_json(&run->latency), "service_us", latency_json(&run->service), "status", status,
                            "network_errors", (json_int_t)run->network_errors, "by_kind", kinds, "series", series, "check", check);
    json_object_set_new(doc, "generator_cpu_s", json_real(run->cpu_s));
    verdict_json(run, doc);
    if (setup->num_campaigns != 0) {
        json_t *campaigns = json_array();
        for (size_t i = 0; i != setup->num_campaigns; ++i) {
            const lb_check_group_buy_t *gb = &setup->campaigns[i];
            json_t *at_close = gb->joined_qty_at_close >= 0 ? json_integer(gb->joined_qty_at_close) : json_null();
            json_array_append_new(campaigns, json_pack("{s:I,s:s,s:I,s:I,s:o}", "id", (json_int_t)gb->id, "status", gb->status,
                                                       "min_qty", (json_int_t)gb->min_qty, "joined_qty", (json_int_t)gb->joined_qty,
                                                       "joined_qty_at_close", at_close));
        }
        json_object_set_new(doc, "group_buys", campaigns);
    }
    json_object_set_new(doc, "generator_capacity_rps", json_real(run->cpu_s > 0 ? (double)run->requests_done / run->cpu_s : 0.0));
    return doc;
}

int lb_load_report_json(const lb_load_run_t *run, const char *path)
{
    json_t *doc = run_json(run);
    int ret = json_dump_file(doc, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (ret != 0)
        fprintf(stderr, "livebuy-load: cannot write %s\n", path);
    return ret;
}

/* A round step for about four ticks up to ymax: 1, 2 or 5 times a power of ten. */
static double tick_step(double ymax)
{
    double raw = ymax / 4, power = pow(10, floor(log10(raw))), step = power;
    if (raw > 5 * power)
        step = 10 * power;
    else if (raw > 2 * power)
        step = 5 * power;
    else if (raw > power)
        step = 2 * power;
    return step;
}

/* One chart: a polyline per series over the seconds of the run, y from 0 past the largest value, with round ticks. */
static void svg_chart(FILE *out, const char *title, const char *unit, size_t n, const double *const *lines,
                      const char *const *names, const char *const *colours, size_t num_lines)
{
    const double width = 940, height = 260, left = 110, right = 20, top = 30, bottom = 40;
    double ymax = 0;
    for (size_t l = 0; l != num_lines; ++l)
        for (size_t i = 0; i != n; ++i)
            if (lines[l][i] > ymax)
                ymax = lines[l][i];
    if (ymax <= 0)
        ymax = 1;
    double step = tick_step(ymax);
    int ticks = (int)ceil(ymax / step - 1e-9);
    ymax = step * ticks;
    fprintf(out, "<h2>%s</h2>\n<svg width=\"%.0f\" height=\"%.0f\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">\n", title,
            width, height);
    for (int t = 0; t <= ticks; ++t) {
        double y = top + (height - top - bottom) * (1 - (double)t / ticks);
        fprintf(out,
                "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g %s</text>\n",
                left, width - right, y, y, left - 6, y + 4, step * t, unit);
    }
    for (size_t i = 0; i<n; i += n> 20 ? n / 10 : 1)
        fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%zus</text>\n",
                left + (width - left - right) * (n > 1 ? (double)i / (double)(n - 1) : 0.5), height - bottom + 16, i + 1);
    for (size_t l = 0; l != num_lines; ++l) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colours[l]);
        for (size_t i = 0; i != n; ++i)
            fprintf(out, "%.1f,%.1f ", left + (width - left - right) * (n > 1 ? (double)i / (double)(n - 1) : 0.5),
                    top + (height - top - bottom) * (1 - lines[l][i] / ymax));
        fprintf(out, "\"/>\n<text x=\"%.0f\" y=\"%d\" fill=\"%s\">%s</text>\n", left + 10 + 200 * (double)l, 18, colours[l],
                names[l]);
    }
    fprintf(out, "</svg>\n");
}

int lb_load_report_html(const lb_load_run_t *run, const char *path)
{
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "livebuy-load: cannot write %s\n", path);
        return -1;
    }
    size_t n = run->num_series;
    double *values = lb_calloc(7 * (n + 1), sizeof(double));
    double *offered = values, *ok = values + (n + 1), *refused = values + 2 * (n + 1), *failed = values + 3 * (n + 1),
           *p50 = values + 4 * (n + 1), *p99 = values + 5 * (n + 1), *max = values + 6 * (n + 1);
    for (size_t i = 0; i != n; ++i) {
        /* a rate over the second's own length: the last one, cut short by the end of the run, would look like a drop */
        const lb_load_second_t *s = &run->series[i];
        double span = s->span_s > 0.05 ? s->span_s : 1;
        offered[i] = (double)s->offered / span;
        ok[i] = (double)s->ok / span;
        refused[i] = (double)s->refused / span;
        failed[i] = (double)s->failed / span;
        p50[i] = ms(run->series[i].p50);
        p99[i] = ms(run->series[i].p99);
        max[i] = ms(run->series[i].max);
    }
    fprintf(out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>livebuy-load: %s</title>\n"
            "<style>body{font-family:sans-serif;margin:2em} td,th{padding:2px 10px;text-align:right}</style></head><body>\n"
            "<h1>livebuy-load: %s</h1>\n<table><tr><th>requests</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th>"
            "<th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>check</th></tr>\n",
            lb_load_scenario_names[run->opt.scenario], lb_load_scenario_names[run->opt.scenario]);
    double elapsed = elapsed_seconds(run);
    fprintf(
        out,
        "<tr><td>%llu</td><td>%.0f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%s</td></tr></table>\n",
        (unsigned long long)run->requests_done, elapsed > 0 ? (double)run->requests_done / elapsed : 0,
        ms(lb_hist_percentile(&run->latency, 50)), ms(lb_hist_percentile(&run->latency, 90)),
        ms(lb_hist_percentile(&run->latency, 99)), ms(lb_hist_percentile(&run->latency, 99.9)), ms(run->latency.max),
        !run->check_ran                         ? "not run"
        : json_array_size(run->violations) == 0 ? "ok"
                                                : "VIOLATED");
    const lb_load_options_t *opt = &run->opt;
    char model[160];
    if (opt->concurrency > 0)
        snprintf(model, sizeof(model), "closed model, %zu concurrent for %.4g s", opt->concurrency, opt->duration);
    else
        snprintf(model, sizeof(model), "open model, %.4g/s for %.4g s (ramp %.4g s%s%s)", opt->rate, opt->duration, opt->ramp,
                 opt->spike != NULL ? ", spike " : "", opt->spike != NULL ? opt->spike : "");
    fprintf(out,
            "<p>Settings: %s, %s; %zu %s; buyers %lld, stock %lld, quota %lld, per-buyer limit %lld, double taps %.4g%%, "
            "retries %u; seed %llu</p>\n",
            opt->url, model, opt->connections, opt->http1 ? "HTTP/1.1 connections" : "HTTP/2 connections", (long long)opt->buyers,
            (long long)opt->stock, (long long)opt->quota, (long long)opt->limit, opt->dup_share * 100, opt->max_retries,
            (unsigned long long)opt->seed);
    const double *rates[] = {offered, ok, refused, failed}, *latencies[] = {p50, p99, max};
    const char *rate_names[] = {"offered/s", "2xx/s (accepted)", "4xx/s (sold out, over the limit)", "errors/s (5xx, network)"};
    const char *latency_names[] = {"p50", "p99", "max"};
    const char *rate_colours[] = {"#999", "#2ca02c", "#ff7f0e", "#d62728"}, *latency_colours[] = {"#2ca02c", "#ff7f0e", "#d62728"};
    svg_chart(out, "Answers per second, by outcome", "/s", n, rates, rate_names, rate_colours, 4);
    svg_chart(out, "Latency per second (from the intended send time)", "ms", n, latencies, latency_names, latency_colours, 3);
    fprintf(out, "</body></html>\n");
    free(values);
    return fclose(out) == 0 ? 0 : -1;
}
