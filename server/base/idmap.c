/* The id map: open addressing with linear probing, tombstones on removal, rebuilt at 3/4 load. */
#include <assert.h>
#include <stdlib.h>
#include "livebuy/common.h"
#include "livebuy/base/idmap.h"

#define DELETED ((int64_t)-1)

static size_t slot_of(int64_t key, size_t capacity)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing spreads consecutive ids */
    return (size_t)(h >> 17) & (capacity - 1);
}

static lb_idmap_entry_t *find(const lb_idmap_t *map, int64_t key)
{
    if (map->capacity == 0)
        return NULL;
    for (size_t i = slot_of(key, map->capacity);; i = (i + 1) & (map->capacity - 1)) {
        lb_idmap_entry_t *e = &map->entries[i];
        if (e->key == key)
            return e;
        if (e->key == 0)
            return NULL;
    }
}

void *lb_idmap_get(const lb_idmap_t *map, int64_t key)
{
    lb_idmap_entry_t *e = find(map, key);
    return e != NULL ? e->value : NULL;
}

static void rebuild(lb_idmap_t *map, size_t capacity)
{
    lb_idmap_t bigger = {lb_calloc(capacity, sizeof(lb_idmap_entry_t)), capacity, 0, 0};
    for (size_t i = 0; i != map->capacity; ++i)
        if (map->entries[i].key > 0)
            lb_idmap_set(&bigger, map->entries[i].key, map->entries[i].value);
    free(map->entries);
    *map = bigger;
}

void lb_idmap_set(lb_idmap_t *map, int64_t key, void *value)
{
    assert(key > 0 && value != NULL);
    lb_idmap_entry_t *e = find(map, key);
    if (e != NULL) {
        e->value = value;
        return;
    }
    if ((map->used + 1) * 4 > map->capacity * 3)
        rebuild(map, map->size * 2 >= map->capacity / 2 ? (map->capacity == 0 ? 16 : map->capacity * 2) : map->capacity);
    size_t i = slot_of(key, map->capacity);
    while (map->entries[i].key > 0)
        i = (i + 1) & (map->capacity - 1);
    if (map->entries[i].key == 0)
        ++map->used;
    map->entries[i] = (lb_idmap_entry_t){key, value};
    ++map->size;
}

void *lb_idmap_remove(lb_idmap_t *map, int64_t key)
{
    lb_idmap_entry_t *e = find(map, key);
    if (e == NULL)
        return NULL;
    void *value = e->value;
    e->key = DELETED;
    e->value = NULL;
    --map->size;
    return value;
}

void lb_idmap_dispose(lb_idmap_t *map)
{
    free(map->entries);
    *map = (lb_idmap_t){NULL, 0, 0, 0};
}
