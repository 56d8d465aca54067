/* Things every livebuy module shares: error codes, allocation wrappers that abort on OOM, small helpers. */
#ifndef LIVEBUY_COMMON_H
#define LIVEBUY_COMMON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Functions that can fail return 0 for success or one of these (negative), not codes of their own (-1, 1, ...), and
 * what they read or made through their out-parameters. "Not there" is LB_ENOTFOUND, never a 1/0 flag.
 * A function that answers an HTTP call itself when it fails (lb_call_decode_body, lb_call_read_fields, the lb_auth_*
 * checks, a handler's readers) says so where it is declared and returns the code of what failed, the answer sent: its
 * caller only cleans up, and never answers again. There is no separate "answered" code: which one it returns says why.
 */
#define LB_EINPUT     -1  /* bad input from a client: answered with 4xx, nothing changed */
#define LB_ENOTFOUND  -2  /* the thing named does not exist */
#define LB_EAUTH      -3  /* missing or wrong credentials */
#define LB_EFORBIDDEN -4  /* authenticated, but not allowed */
#define LB_ECONFLICT  -5  /* state conflict */
#define LB_EDB_RETRY  -10 /* deadlock or lock wait timeout: run the whole transaction again */
#define LB_EDB_DOWN   -11 /* the database is unreachable or the connection broke */
#define LB_EDB_DUP    -12 /* a unique key was violated */
#define LB_EDB        -13 /* any other database error (a bug or a schema mismatch) */
#define LB_EBUSY      -14 /* a queue is full */
#define LB_EMETHOD    -15 /* the thing named exists, but not for this method (HTTP 405) */
#define LB_ESTORAGE   -16 /* the disk refused a file: full, over quota or read-only (HTTP 507) */

#define LB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: they never return NULL (they abort the process on OOM, like h2o and Redis). */
void *lb_malloc(size_t size);
void *lb_calloc(size_t n, size_t size);
void *lb_realloc(void *p, size_t size);
char *lb_strdup(const char *s);
/* Makes room for element num in array (of *capacity elements of elem bytes, grown as needed); returns the array. */
void *lb_grow(void *array, size_t num, size_t *capacity, size_t elem);

/* Wall clock in Unix seconds, and a monotonic clock in nanoseconds. */
int64_t lb_now(void);
uint64_t lb_monotonic_ns(void);

#endif
