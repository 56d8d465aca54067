/* Schema migrations: sql/NNN_name.sql applied in order at start, each once, recorded in schema_migrations. */
#ifndef LIVEBUY_MIGRATE_H
#define LIVEBUY_MIGRATE_H

#include <stddef.h>

/*
 * Applies the pending migrations of dir in version order, under a database lock so that processes starting together
 * apply each file once. Returns 0 (and how many were applied in *applied) or an LB_E* code with a reason in err.
 */
int lb_migrate(const char *dir, unsigned *applied, char *err, size_t errsize);

#endif
