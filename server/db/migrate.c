/*
 * Migrations: every sql/NNN_name.sql not yet in schema_migrations is applied in version order, under GET_LOCK so that
 * processes starting together apply each one once. MariaDB commits DDL implicitly, so a migration that fails half way
 * stops the start with the file named; fix the file or the database, then start again. A database that a newer build
 * migrated (a version past the folder's last) stops the start too: this build's statements predate its schema.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/db/db.h"
#include "livebuy/db/migrate.h"

#define LOCK_NAME      "livebuy_migrations"
#define LOCK_TIMEOUT_S "60"
#define MIGRATION_IO_TIMEOUT (6 * 3600) /* seconds a migration's statement may take: an ALTER of a large table */

typedef struct st_migration_t {
    unsigned version;
    char *name;
} migration_t;

static int by_version(const void *a, const void *b)
{
    const migration_t *x = a, *y = b;
    return x->version < y->version ? -1 : x->version > y->version;
}

/* NNN_name.sql: three digits, an underscore, a name of [a-z0-9_]. */
static int parse_file_name(const char *name, unsigned *version)
{
    size_t len = strlen(name);
    if (len < 9 || strcmp(name + len - 4, ".sql") != 0 || name[3] != '_')
        return 0;
    for (size_t i = 0; i != 3; ++i)
        if (name[i] < '0' || name[i] > '9')
            return 0;
    for (size_t i = 4; i != len - 4; ++i)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return 0;
    *version = (unsigned)((name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0'));
    return 1;
}

static migration_t *list_migrations(const char *dir, size_t *count, char *err, size_t errsize)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errsize, "cannot read the migrations folder %s", dir);
        return NULL;
    }
    migration_t *list = NULL;
    size_t n = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        unsigned version;
        if (!parse_file_name(entry->d_name, &version))
            continue;
        list = lb_realloc(list, (n + 1) * sizeof(*list));
        list[n++] = (migration_t){version, lb_strdup(entry->d_name)};
    }
    closedir(d);
    qsort(list, n, sizeof(*list), by_version);
    for (size_t i = 1; i < n; ++i) {
        if (list[i].version == list[i - 1].version) {
            snprintf(err, errsize, "two migrations with version %03u: %s and %s", list[i].version, list[i - 1].name, list[i].name);
            for (size_t j = 0; j != n; ++j)
                free(list[j].name);
            free(list);
            return NULL;
        }
    }
    *count = n;
    return list;
}

static char *read_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    size_t cap = 8192, len = 0, n;
    char *buf = lb_malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, fp)) != 0)
        if ((len += n) == cap - 1)
            buf = lb_realloc(buf, cap *= 2);
    fclose(fp);
    buf[len] = '\0';
    return buf;
}

/* Runs a (multi-statement) text and reads every result; 0 or -1 with the error in err. */
static int run_sql(MYSQL *mysql, const char *sql, char *err, size_t errsize)
{
    if (mysql_query(mysql, sql) != 0)
        goto Error;
    do {
        MYSQL_RES *res = mysql_store_result(mysql);
        if (res != NULL)
            mysql_free_result(res);
        else if (mysql_field_count(mysql) != 0)
            goto Error;
    } while (mysql_next_result(mysql) == 0);
    if (mysql_errno(mysql) != 0)
        goto Error;
    return 0;
Error:
    snprintf(err, errsize, "%s", mysql_error(mysql));
    return -1;
}

/* The first column of the first row of a query, as an integer; -1 on error or no row. */
static long long query_number(MYSQL *mysql, const char *sql)
{
    long long value = -1;
    if (mysql_query(mysql, sql) != 0)
        return -1;
    MYSQL_RES *res = mysql_store_result(mysql);
    MYSQL_ROW row = res != NULL ? mysql_fetch_row(res) : NULL;
    if (row != NULL && row[0] != NULL)
        value = atoll(row[0]);
    if (res != NULL)
        mysql_free_result(res);
    return value;
}

/* 1 applied, 0 not, -1 the database did not say (then nothing is run on a guess). */
static int is_applied(MYSQL *mysql, unsigned version)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM schema_migrations WHERE version = %u", version);
    long long n = query_number(mysql, sql);
    return n < 0 ? -1 : n > 0;
}

/*
 * Whether the database has a migration newer than the build's last (last), which a newer livebuyd applied: a process
 * of this build would read and write its tables as they were before that migration (sql/021's order directory, for one).
 * Says so in err.
 */
static int migrated_by_newer(MYSQL *mysql, const char *dir, const migration_t *last, char *err, size_t errsize)
{
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    int newer = 0;
    if (mysql_query(mysql, "SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1") == 0 &&
        (res = mysql_store_result(mysql)) != NULL && (row = mysql_fetch_row(res)) != NULL && row[0] != NULL &&
        strtoul(row[0], NULL, 10) > last->version) {
        snprintf(err, errsize,
                 "the database was migrated by a newer livebuyd: it has migration %s, and the newest in %s is %s; run "
                 "the newer livebuyd (docs/operations.md, upgrading)",
                 row[1] != NULL ? row[1] : row[0], dir, last->name);
        newer = 1;
    }
    if (res != NULL)
        mysql_free_result(res);
    return newer;
}

static int apply(MYSQL *mysql, const char *dir, const migration_t *m, char *err, size_t errsize)
{
    char reason[400], record[512];
    char *sql = read_file(dir, m->name);
    if (sql == NULL) {
        snprintf(err, errsize, "cannot read %s/%s", dir, m->name);
        return -1;
    }
    int ret = run_sql(mysql, sql, reason, sizeof(reason));
    free(sql);
    if (ret != 0) {
        snprintf(err, errsize, "migration %s failed: %s", m->name, reason);
        return -1;
    }
    /* The name is [a-z0-9_] (parse_file_name), so it can be written into the statement as it is. */
    snprintf(record, sizeof(record), "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%u, '%s', %lld)",
             m->version, m->name, (long long)lb_now());
    if (run_sql(mysql, record, reason, sizeof(reason)) != 0) {
        snprintf(err, errsize, "cannot record migration %s: %s", m->name, reason);
        return -1;
    }
    lb_log(LB_LOG_INFO, "applied migration %s", m->name);
    return 0;
}

int lb_migrate(const char *dir, unsigned *applied, char *err, size_t errsize)
{
    size_t count = 0;
    int ret = LB_EDB;
    char reason[400];
    *applied = 0;

    migration_t *list = list_migrations(dir, &count, err, errsize);
    if (list == NULL)
        return LB_EINPUT;
    /* No 30 s bound on a read here: a migration of a large table (an index added, rows copied) takes what it takes,
     * and a second process waits up to LOCK_TIMEOUT_S for the lock; a read bound shorter than either would drop the
     * session in the middle, and livebuyd would not start. */
    MYSQL *mysql = lb_db_open_session(CLIENT_MULTI_STATEMENTS, MIGRATION_IO_TIMEOUT, err, errsize);
    if (mysql == NULL) {
        ret = LB_EDB_DOWN;
        goto Exit;
    }
    if (query_number(mysql, "SELECT GET_LOCK('" LOCK_NAME "', " LOCK_TIMEOUT_S ")") != 1) {
        snprintf(err, errsize, "cannot take the migration lock: %s", mysql_error(mysql));
        goto Exit;
    }
    if (run_sql(mysql,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INT UNSIGNED NOT NULL PRIMARY KEY, "
                "name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL) ENGINE = InnoDB",
                reason, sizeof(reason)) != 0) {
        snprintf(err, errsize, "cannot create schema_migrations: %s", reason);
        goto Exit;
    }
    /* Sequences (sql/005), INSERT ... RETURNING and array binding are MariaDB's from 10.5 on, JSON_TABLE (server/store/lists.c)
     * from 10.6. */
    if (strstr(mysql_get_server_info(mysql), "MariaDB") == NULL || mysql_get_server_version(mysql) < 100600) {
        snprintf(err, errsize, "the database is %s; livebuy needs MariaDB 10.6 or later", mysql_get_server_info(mysql));
        ret = LB_EINPUT;
        goto Exit;
    }
    if (count != 0 && migrated_by_newer(mysql, dir, &list[count - 1], err, errsize)) {
        ret = LB_EINPUT;
        goto Exit;
    }
    for (size_t i = 0; i != count; ++i) {
        int applied_already = is_applied(mysql, list[i].version);
        if (applied_already < 0) {
            snprintf(err, errsize, "cannot read schema_migrations: %s", mysql_error(mysql));
            goto Exit;
        }
        if (applied_already)
            continue;
        if (apply(mysql, dir, &list[i], err, errsize) != 0)
            goto Exit;
        ++*applied;
    }
    ret = 0;
Exit:
    if (mysql != NULL)
        mysql_close(mysql); /* also releases the lock */
    for (size_t i = 0; i != count; ++i)
        free(list[i].name);
    free(list);
    return ret;
}
