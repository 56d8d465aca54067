/* The group-buy closer: at each campaign's cut-off, success (one shipment to the pickup point) or failure (stock back). */
#ifndef LIVEBUY_CLOSER_H
#define LIVEBUY_CLOSER_H

#include <uv.h>

/* Starts closing due campaigns once a second on this loop (one loop per process is enough; several processes are safe). */
void lb_closer_start(uv_loop_t *loop);
/* Stops the timer (a job in flight still finishes). */
void lb_closer_stop(void);

#endif
