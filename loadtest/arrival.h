/*
 * The open model's arrival scheduler: a target rate over time (a piecewise-linear profile: steady, ramp, spike) and
 * the intended send time of each request on it. Request k (from 0) is due when the profile's area reaches k, so the
 * requests are evenly spaced at the rate in force; latency is measured from these times, not from the real send.
 */
#ifndef LIVEBUY_LOAD_ARRIVAL_H
#define LIVEBUY_LOAD_ARRIVAL_H

#include <stddef.h>
#include <stdint.h>

#define LB_ARRIVAL_MAX_POINTS 16

/* One corner of the profile: the rate (requests/s) at second t. Two points at the same t make a step. */
typedef struct st_lb_arrival_point_t {
    double t, rate;
} lb_arrival_point_t;

/* Plain data, filled by lb_arrival_init. */
typedef struct st_lb_arrival_t {
    lb_arrival_point_t points[LB_ARRIVAL_MAX_POINTS];
    size_t num_points;
    size_t segment;     /* where the next request falls, from points[segment] */
    double area_before; /* requests due before points[segment].t */
    uint64_t next;      /* the next request's number */
} lb_arrival_t;

/*
 * Builds the profile: rate R for duration seconds, reached linearly from 0 over ramp seconds (0: at once), and an
 * optional spike "AT:LEN:MULT" (LEN seconds at MULT times R from second AT). Returns 0, or -1 with a reason in err.
 */
int lb_arrival_init(lb_arrival_t *arrival, double rate, double duration, double ramp, const char *spike, char *err,
                    size_t err_size);
/* The intended send time (seconds from the start) of the next request, or a negative value once the profile ends. */
double lb_arrival_next(lb_arrival_t *arrival);
/* The target rate at second t, and the number of requests due in [0, t). */
double lb_arrival_rate_at(const lb_arrival_t *arrival, double t);
double lb_arrival_due(const lb_arrival_t *arrival, double t);
/* The profile's end, in seconds. */
double lb_arrival_duration(const lb_arrival_t *arrival);

#endif
