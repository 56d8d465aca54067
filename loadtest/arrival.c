/* The arrival profile and the inversion of its area: each segment's area is a quadratic in time, solved exactly. */
#include <math.h>
#include <stdio.h>
#include "arrival.h"

static int add_point(lb_arrival_t *arrival, double t, double rate)
{
    if (arrival->num_points == LB_ARRIVAL_MAX_POINTS)
        return -1;
    arrival->points[arrival->num_points++] = (lb_arrival_point_t){t, rate};
    return 0;
}

/* The area of segment i (points i to i+1) from its start to s seconds into it. */
static double segment_area(const lb_arrival_t *arrival, size_t i, double s)
{
    const lb_arrival_point_t *a = &arrival->points[i], *b = &arrival->points[i + 1];
    double len = b->t - a->t;
    if (len <= 0)
        return 0;
    return a->rate * s + (b->rate - a->rate) / (2 * len) * s * s;
}

int lb_arrival_init(lb_arrival_t *arrival, double rate, double duration, double ramp, const char *spike, char *err, size_t err_size)
{
    double at = 0, len = 0, mult = 1;
    *arrival = (lb_arrival_t){.num_points = 0};
    if (!(rate > 0) || !(duration > 0) || ramp < 0 || ramp > duration) {
        snprintf(err, err_size, "need a rate > 0, a duration > 0 and a ramp within the duration");
        return -1;
    }
    if (spike != NULL) {
        if (sscanf(spike, "%lf:%lf:%lf", &at, &len, &mult) != 3 || at < ramp || len <= 0 || at + len > duration || mult <= 0) {
            snprintf(err, err_size, "--spike is AT:LEN:MULT with the spike after the ramp and within the duration, not %s", spike);
            return -1;
        }
    }
    add_point(arrival, 0, ramp > 0 ? 0 : rate);
    if (ramp > 0)
        add_point(arrival, ramp, rate);
    if (spike != NULL) {
        add_point(arrival, at, rate);
        add_point(arrival, at, rate * mult);
        add_point(arrival, at + len, rate * mult);
        add_point(arrival, at + len, rate);
    }
    add_point(arrival, duration, rate);
    return 0;
}

double lb_arrival_duration(const lb_arrival_t *arrival)
{
    return arrival->points[arrival->num_points - 1].t;
}

double lb_arrival_rate_at(const lb_arrival_t *arrival, double t)
{
    for (size_t i = 0; i + 1 < arrival->num_points; ++i) {
        const lb_arrival_point_t *a = &arrival->points[i], *b = &arrival->points[i + 1];
        if (t >= a->t && t < b->t)
            return a->rate + (b->rate - a->rate) * (t - a->t) / (b->t - a->t);
    }
    return 0;
}

double lb_arrival_due(const lb_arrival_t *arrival, double t)
{
    double area = 0;
    for (size_t i = 0; i + 1 < arrival->num_points; ++i) {
        const lb_arrival_point_t *a = &arrival->points[i], *b = &arrival->points[i + 1];
        if (t <= a->t)
            break;
        area += segment_area(arrival, i, (t < b->t ? t : b->t) - a->t);
    }
    return area;
}

double lb_arrival_next(lb_arrival_t *arrival)
{
    double want = (double)arrival->next;
    while (arrival->segment + 1 < arrival->num_points) {
        size_t i = arrival->segment;
        const lb_arrival_point_t *a = &arrival->points[i], *b = &arrival->points[i + 1];
        double len = b->t - a->t, area = segment_area(arrival, i, len);
        double x = want - arrival->area_before;
        if (len > 0 && x < area) {
            /* Solve r0 s + k s^2 = x for s with k = (r1 - r0) / (2 len), in the form that stays exact when k is 0. */
            double k = (b->rate - a->rate) / (2 * len), root = sqrt(a->rate * a->rate + 4 * k * x);
            double s = root + a->rate > 0 ? 2 * x / (a->rate + root) : 0;
            ++arrival->next;
            return a->t + (s < len ? s : len);
        }
        arrival->area_before += area;
        ++arrival->segment;
    }
    return -1;
}
