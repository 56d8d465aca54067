/* The process's own figures for /metrics, read from /proc (Linux) when /metrics renders. */
#ifndef LIVEBUY_PROCESS_H
#define LIVEBUY_PROCESS_H

#include <stdint.h>

typedef struct st_lb_process_stats_t {
    double cpu_seconds;        /* user and system CPU time since the start */
    double start_time_seconds; /* the start, in seconds since the Unix epoch */
    uint64_t resident_bytes;   /* resident set size */
    uint64_t open_fds, max_fds;
} lb_process_stats_t;

/* Fills out from /proc/self; 0, or -1 when /proc cannot be read (out is then zeroed). Any thread. */
int lb_process_stats(lb_process_stats_t *out);

#endif
