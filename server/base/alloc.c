/* Allocation wrappers that abort on OOM (a half-allocated order path is worse than a restart) and clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "livebuy/common.h"

/* A plain line, not the log's (livebuy/base/log.h): the fuzz targets and livebuy-load link this file without it. */
static void out_of_memory(size_t size)
{
    fprintf(stderr, "livebuyd: out of memory allocating %zu bytes\n", size);
    abort();
}

void *lb_malloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *lb_calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        out_of_memory(n * size);
    return p;
}

void *lb_realloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *lb_grow(void *array, size_t num, size_t *capacity, size_t elem)
{
    if (num < *capacity)
        return array;
    *capacity = *capacity * 2 + 16;
    return lb_realloc(array, *capacity * elem);
}

char *lb_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    return memcpy(lb_malloc(len), s, len);
}

int64_t lb_now(void)
{
    return (int64_t)time(NULL);
}

uint64_t lb_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
