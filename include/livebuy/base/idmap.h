/* A map from positive int64 ids to pointers (open addressing, linear probing), for one thread's lanes and caches. */
#ifndef LIVEBUY_IDMAP_H
#define LIVEBUY_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_lb_idmap_entry_t {
    int64_t key; /* 0: empty; -1: deleted */
    void *value;
} lb_idmap_entry_t;

typedef struct st_lb_idmap_t {
    lb_idmap_entry_t *entries;
    size_t capacity; /* a power of two, or 0 */
    size_t used;     /* live and deleted entries */
    size_t size;     /* live entries */
} lb_idmap_t;

/* The value stored for key (> 0), or NULL. */
void *lb_idmap_get(const lb_idmap_t *map, int64_t key);
/* Stores value (not NULL) for key (> 0), replacing what was there. */
void lb_idmap_set(lb_idmap_t *map, int64_t key, void *value);
/* Removes key; returns what was stored, or NULL. */
void *lb_idmap_remove(lb_idmap_t *map, int64_t key);
void lb_idmap_dispose(lb_idmap_t *map);

#endif
