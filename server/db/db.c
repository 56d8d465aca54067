/*
 * Database jobs on libuv's thread pool: each worker thread keeps its own connection (opened on first use, reopened with
 * backoff after a failure, replaced when a job finds it died while idle), its own cache of prepared statements, and runs
 * a job's transaction again after a deadlock.
 */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <h2o/memory.h>
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/base/log.h"
#include "livebuy/base/metrics.h"

#define MAX_STATEMENTS   256
#define MAX_COLUMNS      32
#define MAX_RETRIES      5
#define BACKOFF_FIRST_NS 100000000ull  /* 100 ms */
#define BACKOFF_MAX_NS   2000000000ull /* 2 s */

/* A multi-row INSERT's rows at most (lb_db_exec_rows on a sharded front): orders' 13 columns make 13,312 parameters. */
#define MAX_ROWS_PER_INSERT 1024

/* Statements are cached by the address of their text (or of a shape's name) and a variant (a row count, or 0). */
typedef struct st_cached_statement_t {
    const char *key;
    size_t variant;
    MYSQL_STMT *stmt;
} cached_statement_t;

struct st_lb_db_t {
    MYSQL *mysql;
    int in_transaction;
    int broken;
    int idle; /* the job has sent nothing yet on a connection opened before it: see replaced_stale */
    cached_statement_t statements[MAX_STATEMENTS];
    size_t num_statements;
    MYSQL_STMT *open_query;
    int64_t insert_id;
    MYSQL_BIND *binds;
    size_t binds_capacity;
    MYSQL_BIND *row_binds; /* a multi-row INSERT's: length and is_null set too, unlike binds */
    size_t row_binds_capacity;
    char error[256];
    lb_db_t *next; /* in all_connections */
};

static lb_db_url_t db_url;
static int sharded_front;
static pthread_mutex_t all_connections_mutex = PTHREAD_MUTEX_INITIALIZER;
static lb_db_t *all_connections;
static atomic_uint jobs_pending;

/* Per worker thread: its connection and when it may try to connect again after a failure. */
static _Thread_local lb_db_t *thread_db;
static _Thread_local uint64_t thread_next_connect_ns, thread_backoff_ns;
/* Per loop thread: its prompt jobs whose work has returned, newest first (pushed by workers). */
static _Thread_local _Atomic(lb_db_job_t *) finished_jobs;
static _Thread_local int answering; /* lb_db_answer_finished is running on this thread: calls from its callbacks wait */

void lb_db_global_init(const lb_db_url_t *url, int sharded)
{
    mysql_library_init(0, NULL, NULL);
    sharded_front = sharded;
    db_url.user = lb_strdup(url->user);
    db_url.password = url->password != NULL ? lb_strdup(url->password) : NULL;
    db_url.host = lb_strdup(url->host);
    db_url.port = url->port;
    db_url.database = lb_strdup(url->database);
    db_url.socket = url->socket != NULL ? lb_strdup(url->socket) : NULL;
}

MYSQL *lb_db_open_session(unsigned long flags, unsigned io_timeout, char *err, size_t errsize)
{
    MYSQL *mysql = mysql_init(NULL);
    unsigned connect_timeout = 3;
    my_bool reconnect = 0; /* never: a silent reconnect inside a transaction would split it (STACK-NOTES) */
    mysql_optionsv(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_optionsv(mysql, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
    mysql_optionsv(mysql, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
    mysql_optionsv(mysql, MYSQL_OPT_RECONNECT, &reconnect);
    mysql_optionsv(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /*
     * Lock waits on a hot SKU row should fail fast and be retried, not hold a worker for 50 s. READ COMMITTED: every
     * order transaction first locks its SKU row, and what it reads after that must include what the transaction that
     * held the lock before it committed (idempotency keys, per-buyer counts), not a snapshot from before.
     * in_predicate_conversion_threshold = 0: MariaDB would otherwise turn an IN list of 1000+ values into a derived
     * table and scan every order of the SKU instead of the index range.
     */
    mysql_optionsv(mysql, MYSQL_INIT_COMMAND,
                   "SET SESSION innodb_lock_wait_timeout = 5, time_zone = '+00:00', "
                   "tx_isolation = 'READ-COMMITTED', in_predicate_conversion_threshold = 0");
    if (mysql_real_connect(mysql, db_url.host, db_url.user, db_url.password, db_url.database, db_url.port, db_url.socket, flags) ==
        NULL) {
        snprintf(err, errsize, "cannot connect to the database: %s", mysql_error(mysql));
        mysql_close(mysql);
        return NULL;
    }
    return mysql;
}

static void close_statements(lb_db_t *db)
{
    for (size_t i = 0; i != db->num_statements; ++i)
        mysql_stmt_close(db->statements[i].stmt);
    db->num_statements = 0;
    db->open_query = NULL;
}

static void close_connection(lb_db_t *db)
{
    close_statements(db);
    if (db->mysql != NULL)
        mysql_close(db->mysql);
    db->mysql = NULL;
    db->in_transaction = 0;
}

void lb_db_global_dispose(void)
{
    pthread_mutex_lock(&all_connections_mutex);
    while (all_connections != NULL) {
        lb_db_t *db = all_connections;
        all_connections = db->next;
        close_connection(db);
        free(db->binds);
        free(db->row_binds);
        free(db);
    }
    pthread_mutex_unlock(&all_connections_mutex);
    lb_config_free_db_url(&db_url);
    mysql_library_end();
}

/*
 * Every worker says when it cannot connect: folded into one line per message and 10 s. When the database went away
 * (since: a monotonic time, 0 while it answers), the first worker to reach it again says after how long.
 */
static lb_log_fold_t connect_failures = LB_LOG_FOLD_INIT;
static atomic_ullong unreachable_since_ns;

static void database_down(void)
{
    unsigned long long none = 0;
    atomic_compare_exchange_strong(&unreachable_since_ns, &none, lb_monotonic_ns());
    lb_metrics_database_up(0);
}

static void database_up(void)
{
    unsigned long long since = atomic_exchange(&unreachable_since_ns, 0);
    lb_metrics_database_up(1);
    if (since == 0)
        return;
    lb_log_fold_flush(&connect_failures);
    lb_log(LB_LOG_INFO, "database reachable again after %.1f s", (double)(lb_monotonic_ns() - since) / 1e9);
}

/* A new connection for the calling worker; NULL while the database is unreachable (said, folded) or the worker backs off. */
static MYSQL *connect_worker(lb_db_t *db)
{
    uint64_t now = lb_monotonic_ns();
    if (now < thread_next_connect_ns)
        return NULL;
    MYSQL *mysql = lb_db_open_session(0, LB_DB_IO_TIMEOUT, db->error, sizeof(db->error));
    if (mysql == NULL) {
        thread_backoff_ns = thread_backoff_ns == 0 ? BACKOFF_FIRST_NS : thread_backoff_ns * 2;
        if (thread_backoff_ns > BACKOFF_MAX_NS)
            thread_backoff_ns = BACKOFF_MAX_NS;
        thread_next_connect_ns = now + thread_backoff_ns;
        database_down();
        lb_log_folded(&connect_failures, LB_LOG_ERROR, "%s", db->error);
        return NULL;
    }
    thread_backoff_ns = 0;
    database_up();
    return mysql;
}

/* The calling worker's connection, (re)opened as needed; NULL while the database is unreachable. */
static lb_db_t *worker_connection(void)
{
    if (thread_db == NULL) {
        thread_db = lb_calloc(1, sizeof(*thread_db));
        pthread_mutex_lock(&all_connections_mutex);
        thread_db->next = all_connections;
        all_connections = thread_db;
        pthread_mutex_unlock(&all_connections_mutex);
    }
    lb_db_t *db = thread_db;
    if (db->broken) {
        close_connection(db);
        db->broken = 0;
    }
    if (db->mysql == NULL && (db->mysql = connect_worker(db)) == NULL)
        return NULL;
    return db;
}

/*
 * A connection left idle between jobs dies unnoticed when MariaDB restarts or ends the session (wait_timeout, KILL):
 * the next job's first round trip fails. That round trip alone may go again, once, on a new connection, when sending
 * it twice cannot do anything twice: it never left (2006: the write failed), or it changes nothing (harmless: START
 * TRANSACTION, a prepare, a SELECT). Anything later in the job is never sent again: a statement of the job may have
 * run by then (a lost COMMIT stays "outcome unknown"). idle: this is the job's first round trip on a connection it
 * found open (taken_idle). Returns 1 when db has its new connection (its statements are prepared again as they are
 * used); 0: classify the error as it is.
 */
static lb_log_fold_t stale_connections = LB_LOG_FOLD_INIT;

static int replaced_stale(lb_db_t *db, int idle, unsigned err, const char *message, int harmless)
{
    if (!idle || !(harmless || err == CR_SERVER_GONE_ERROR))
        return 0;
    switch (err) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
        break;
    default:
        return 0;
    }
    char lost[sizeof(db->error)];
    snprintf(lost, sizeof(lost), "%u: %s", err, message);
    MYSQL *mysql = connect_worker(db);
    if (mysql == NULL)
        return 0; /* down indeed */
    close_connection(db);
    db->mysql = mysql;
    lb_log_folded(&stale_connections, LB_LOG_INFO,
                  "a database connection had died while idle (%s): replaced, and the job's first round trip sent again", lost);
    return 1;
}

/* Whether the round trip about to be sent is the job's first on a connection it found open; clears the mark. */
static int taken_idle(lb_db_t *db)
{
    int idle = db->idle;
    db->idle = 0;
    return idle;
}

/* Maps a MariaDB error number to an LB_E* code; connection-level errors mark the connection for reopening. */
static int classify(lb_db_t *db, unsigned err, const char *message)
{
    snprintf(db->error, sizeof(db->error), "%u: %s", err, message);
    switch (err) {
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
        return LB_EDB_RETRY;
    case ER_DUP_ENTRY:
        return LB_EDB_DUP;
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case ER_QUERY_INTERRUPTED:
    case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */
    /* A Spider front (docs/scale-out.md) whose backend is down or went away in a statement or at COMMIT: a 503 for the
     * SKUs on it, and the outcome of a COMMIT unknown, as when the connection itself breaks. */
    case ER_CONNECT_TO_FOREIGN_DATA_SOURCE:
    case ER_NET_READ_ERROR: /* 1158: Spider's read from a backend that went down */
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case 12701: /* ER_SPIDER_REMOTE_SERVER_GONE_AWAY_NUM */
        db->broken = 1;
        database_down();
        return LB_EDB_DOWN;
    default:
        lb_log(LB_LOG_ERROR, "database error %s", db->error);
        return LB_EDB;
    }
}

static int stmt_failed(lb_db_t *db, MYSQL_STMT *stmt)
{
    return classify(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
}

static int plain_query(lb_db_t *db, const char *sql, int harmless)
{
    int idle = taken_idle(db);
    db->open_query = NULL;
    if (mysql_query(db->mysql, sql) == 0)
        return 0;
    if (replaced_stale(db, idle, mysql_errno(db->mysql), mysql_error(db->mysql), harmless))
        return plain_query(db, sql, 0);
    return classify(db, mysql_errno(db->mysql), mysql_error(db->mysql));
}

int lb_db_begin(lb_db_t *db)
{
    int ret = plain_query(db, "START TRANSACTION", 1);
    db->in_transaction = ret == 0;
    return ret;
}

int lb_db_commit(lb_db_t *db)
{
    db->in_transaction = 0;
    return plain_query(db, "COMMIT", 0);
}

void lb_db_rollback(lb_db_t *db)
{
    if (db->mysql != NULL && !db->broken)
        plain_query(db, "ROLLBACK", 0);
    db->in_transaction = 0;
}

static MYSQL_STMT *cached(lb_db_t *db, const char *key, size_t variant)
{
    for (size_t i = 0; i != db->num_statements; ++i)
        if (db->statements[i].key == key && db->statements[i].variant == variant)
            return db->statements[i].stmt;
    return NULL;
}

static MYSQL_STMT *prepared(lb_db_t *db, const char *key, size_t variant, const char *sql, int *ret)
{
    MYSQL_STMT *stmt = cached(db, key, variant);
    if (stmt != NULL)
        return stmt;
    /* Full (the shapes of lists and multi-row inserts add up): start again; what is in use is prepared again. */
    if (db->num_statements == MAX_STATEMENTS)
        close_statements(db);
    stmt = mysql_stmt_init(db->mysql);
    int idle = taken_idle(db);
    if (mysql_stmt_prepare(stmt, sql, strlen(sql)) != 0) {
        /* stmt outlives its connection when that is replaced: closing it then only frees it */
        int again = replaced_stale(db, idle, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), 1);
        if (!again)
            *ret = stmt_failed(db, stmt);
        mysql_stmt_close(stmt);
        return again ? prepared(db, key, variant, sql, ret) : NULL;
    }
    db->statements[db->num_statements++] = (cached_statement_t){key, variant, stmt};
    return stmt;
}

/* Binds params and runs the statement; NULL with *ret set on failure. */
static MYSQL_STMT *execute(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n,
                           int *ret)
{
    MYSQL_BIND *binds;
    MYSQL_STMT *stmt;

    /*
     * The bind array is the connection's, grown as needed: a batch's insert binds over a thousand parameters. Its new
     * part is zeroed once; afterwards only buffer_type, buffer, buffer_length and is_unsigned are ever written (by the loop
     * below; mysql_stmt_bind_param copies the array and changes only its copy), so every other field stays zero without
     * a memset per statement (that memset was 5% of a hot-SKU order's CPU).
     */
    if (n > db->binds_capacity) {
        db->binds = lb_realloc(db->binds, n * sizeof(*db->binds));
        memset(db->binds + db->binds_capacity, 0, (n - db->binds_capacity) * sizeof(*db->binds));
        db->binds_capacity = n;
    }
    binds = db->binds;
    for (size_t i = 0; i != n; ++i) {
        binds[i].is_unsigned = params[i].type == 'u';
        switch (params[i].type) {
        case 'i':
        case 'u':
            binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
            binds[i].buffer = (void *)&params[i].i;
            binds[i].buffer_length = 0;
            break;
        case 's':
            binds[i].buffer_type = MYSQL_TYPE_STRING;
            binds[i].buffer = (void *)params[i].p;
            binds[i].buffer_length = params[i].len;
            break;
        case 'b':
            binds[i].buffer_type = MYSQL_TYPE_BLOB;
            binds[i].buffer = (void *)params[i].p;
            binds[i].buffer_length = params[i].len;
            break;
        default:
            binds[i].buffer_type = MYSQL_TYPE_NULL;
            binds[i].buffer = NULL;
            binds[i].buffer_length = 0;
            break;
        }
    }

    db->open_query = NULL;
    for (;;) {
        if ((stmt = prepared(db, key, variant, sql, ret)) == NULL)
            break;
        assert(mysql_stmt_param_count(stmt) == n);
        int idle = taken_idle(db);
        if (mysql_stmt_bind_param(stmt, binds) == 0 && mysql_stmt_execute(stmt) == 0)
            break;
        /* Sent again only with its text at hand, to prepare it on the new connection. */
        if (sql == NULL ||
            !replaced_stale(db, idle, mysql_stmt_errno(stmt), mysql_stmt_error(stmt), strncmp(sql, "SELECT ", 7) == 0)) {
            *ret = stmt_failed(db, stmt);
            stmt = NULL;
            break;
        }
    }
    return stmt;
}

/* Reads parameters described by types from args into params (at most MAX_COLUMNS). */
static size_t collect_params(lb_db_param_t *params, const char *types, va_list *args)
{
    size_t n = strlen(types);
    assert(n <= MAX_COLUMNS);
    for (size_t i = 0; i != n; ++i) {
        params[i] = (lb_db_param_t){types[i], 0, NULL, 0};
        switch (types[i]) {
        case 'i':
            params[i].i = va_arg(*args, int64_t);
            break;
        case 's':
            params[i].p = va_arg(*args, const char *);
            params[i].len = strlen(params[i].p);
            break;
        case 'b':
            params[i].p = va_arg(*args, const void *);
            params[i].len = va_arg(*args, size_t);
            break;
        case 'n':
            break;
        default:
            assert(!"unknown parameter type");
        }
    }
    return n;
}

static int64_t exec_done(lb_db_t *db, MYSQL_STMT *stmt, int ret)
{
    if (stmt == NULL)
        return ret;
    db->insert_id = (int64_t)mysql_stmt_insert_id(stmt);
    return (int64_t)mysql_stmt_affected_rows(stmt);
}

int64_t lb_db_exec(lb_db_t *db, const char *sql, const char *types, ...)
{
    lb_db_param_t params[MAX_COLUMNS];
    va_list args;
    int ret;
    va_start(args, types);
    size_t n = collect_params(params, types, &args);
    va_end(args);
    MYSQL_STMT *stmt = execute(db, sql, 0, sql, params, n, &ret);
    return exec_done(db, stmt, ret);
}

int64_t lb_db_exec_array(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n)
{
    int ret;
    MYSQL_STMT *stmt = execute(db, key, variant, sql, params, n, &ret);
    return exec_done(db, stmt, ret);
}

_Static_assert(STMT_INDICATOR_NONE == 0 && STMT_INDICATOR_NULL == 1, "lb_db_column_t's nulls are MariaDB's indicators");

/* sql, an INSERT whose text ends in one row of VALUES, with that row k times; from malloc. */
static char *insert_sql(const char *sql, size_t k)
{
    const char *row = strstr(sql, " VALUES (");
    assert(row != NULL);
    row += strlen(" VALUES ");
    size_t head_len = (size_t)(row - sql), row_len = strlen(row);
    char *text = lb_malloc(head_len + k * (row_len + 2) + 1), *p = text;
    memcpy(p, sql, head_len);
    p += head_len;
    for (size_t i = 0; i != k; ++i) {
        if (i != 0) {
            *p++ = ',';
            *p++ = ' ';
        }
        memcpy(p, row, row_len);
        p += row_len;
    }
    *p = '\0';
    return text;
}

/* The parameters of rows [first, first + k) of columns, row after row; the connection's array, grown as needed. */
static MYSQL_BIND *bind_rows(lb_db_t *db, const lb_db_column_t *columns, size_t num_columns, size_t first, size_t k)
{
    size_t n = k * num_columns;
    if (n > db->row_binds_capacity) {
        db->row_binds = lb_realloc(db->row_binds, n * sizeof(*db->row_binds));
        memset(db->row_binds + db->row_binds_capacity, 0, (n - db->row_binds_capacity) * sizeof(*db->row_binds));
        db->row_binds_capacity = n;
    }
    MYSQL_BIND *b = db->row_binds;
    for (size_t row = first; row != first + k; ++row)
        for (const lb_db_column_t *c = columns; c != columns + num_columns; ++c, ++b) {
            if (c->type == 'i') {
                b->buffer_type = MYSQL_TYPE_LONGLONG;
                b->buffer = (void *)&c->ints[row];
                b->length = NULL;
            } else {
                b->buffer_type = MYSQL_TYPE_BLOB;
                b->buffer = (void *)c->bytes[row];
                b->length = (unsigned long *)&c->lengths[row];
            }
            b->is_null = c->nulls != NULL ? (my_bool *)&c->nulls[row] : NULL;
        }
    return db->row_binds;
}

/*
 * lb_db_exec_rows of an INSERT on a sharded front: a Spider front runs an array-bound statement once per row and sends
 * each row to its backend as a statement of its own, but a multi-row INSERT as one (or a few: spider_bulk_size). So the
 * rows go as multi-row INSERTs of k rows, for k the powers of two that add up to num_rows (at most MAX_ROWS_PER_INSERT):
 * a few shapes per statement, each prepared once per connection.
 */
static int64_t insert_rows(lb_db_t *db, const char *sql, const lb_db_column_t *columns, size_t num_columns, size_t num_rows)
{
    int64_t inserted = 0;
    for (size_t first = 0, k; first != num_rows; first += k) {
        for (k = MAX_ROWS_PER_INSERT; k > num_rows - first; k /= 2)
            ;
        MYSQL_STMT *stmt = cached(db, sql, k);
        if (stmt == NULL) {
            int ret;
            char *text = insert_sql(sql, k);
            stmt = prepared(db, sql, k, text, &ret);
            free(text);
            if (stmt == NULL)
                return ret;
        }
        assert(mysql_stmt_param_count(stmt) == k * num_columns);
        taken_idle(db); /* a write: never sent again */
        if (mysql_stmt_bind_param(stmt, bind_rows(db, columns, num_columns, first, k)) != 0 || mysql_stmt_execute(stmt) != 0)
            return stmt_failed(db, stmt);
        inserted += (int64_t)mysql_stmt_affected_rows(stmt);
    }
    return inserted;
}

int64_t lb_db_exec_rows(lb_db_t *db, const char *sql, const lb_db_column_t *columns, size_t num_columns, size_t num_rows)
{
    MYSQL_BIND binds[MAX_COLUMNS];
    unsigned int array_size = (unsigned int)num_rows;
    int ret;
    MYSQL_STMT *stmt;

    assert(num_columns <= MAX_COLUMNS && num_rows != 0);
    db->open_query = NULL;
    if (sharded_front && strncmp(sql, "INSERT", 6) == 0)
        return insert_rows(db, sql, columns, num_columns, num_rows);
    if ((stmt = prepared(db, sql, 0, sql, &ret)) == NULL)
        return ret;
    assert(mysql_stmt_param_count(stmt) == num_columns);
    memset(binds, 0, num_columns * sizeof(binds[0]));
    for (size_t i = 0; i != num_columns; ++i) {
        const lb_db_column_t *c = &columns[i];
        if (c->type == 'i') {
            binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
            binds[i].buffer = (void *)c->ints;
        } else {
            assert(c->type == 'b');
            binds[i].buffer_type = MYSQL_TYPE_BLOB;
            binds[i].buffer = (void *)c->bytes;
            binds[i].length = (unsigned long *)c->lengths;
        }
        /* the flags (0 or 1) are the indicators */
        binds[i].u.indicator = (char *)c->nulls;
    }
    taken_idle(db); /* a write: never sent again */
    if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &array_size) != 0 || mysql_stmt_bind_param(stmt, binds) != 0 ||
        mysql_stmt_execute(stmt) != 0)
        return stmt_failed(db, stmt);
    return (int64_t)mysql_stmt_affected_rows(stmt);
}

int lb_db_is_sharded(const lb_db_t *db)
{
    (void)db;
    return sharded_front;
}

int lb_db_is_prepared(lb_db_t *db, const char *key, size_t variant)
{
    return cached(db, key, variant) != NULL;
}

int64_t lb_db_insert_id(lb_db_t *db)
{
    return db->insert_id;
}

static int start_query(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n)
{
    int ret;
    MYSQL_STMT *stmt = execute(db, key, variant, sql, params, n, &ret);
    if (stmt == NULL)
        return ret;
    if (mysql_stmt_store_result(stmt) != 0)
        return stmt_failed(db, stmt);
    db->open_query = stmt;
    return 0;
}

int lb_db_query(lb_db_t *db, const char *sql, const char *types, ...)
{
    lb_db_param_t params[MAX_COLUMNS];
    va_list args;
    va_start(args, types);
    size_t n = collect_params(params, types, &args);
    va_end(args);
    return start_query(db, sql, 0, sql, params, n);
}

int lb_db_query_array(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n)
{
    return start_query(db, key, variant, sql, params, n);
}

static int fetch_row(lb_db_t *db, const char *types, va_list *args)
{
    MYSQL_BIND results[MAX_COLUMNS];
    my_bool is_null[MAX_COLUMNS];
    unsigned long lengths[MAX_COLUMNS];
    size_t *blob_lengths[MAX_COLUMNS];
    size_t n = strlen(types);
    MYSQL_STMT *stmt = db->open_query;

    assert(stmt != NULL && n <= MAX_COLUMNS && mysql_stmt_field_count(stmt) == n);
    memset(results, 0, sizeof(results[0]) * n);
    for (size_t i = 0; i != n; ++i) {
        results[i].is_null = &is_null[i];
        results[i].length = &lengths[i];
        blob_lengths[i] = NULL;
        switch (types[i]) {
        case 'i':
            results[i].buffer_type = MYSQL_TYPE_LONGLONG;
            results[i].buffer = va_arg(*args, int64_t *);
            break;
        case 's':
            results[i].buffer_type = MYSQL_TYPE_STRING;
            results[i].buffer = va_arg(*args, char *);
            results[i].buffer_length = va_arg(*args, size_t) - 1;
            break;
        case 'b':
            results[i].buffer_type = MYSQL_TYPE_BLOB;
            results[i].buffer = va_arg(*args, void *);
            results[i].buffer_length = va_arg(*args, size_t);
            blob_lengths[i] = va_arg(*args, size_t *);
            break;
        default:
            assert(!"unknown result type");
        }
    }
    if (mysql_stmt_bind_result(stmt, results) != 0)
        return stmt_failed(db, stmt);
    switch (mysql_stmt_fetch(stmt)) {
    case 0:
        break;
    case MYSQL_NO_DATA:
        mysql_stmt_free_result(stmt);
        db->open_query = NULL;
        return LB_ENOTFOUND;
    case MYSQL_DATA_TRUNCATED:
        snprintf(db->error, sizeof(db->error), "a column was longer than its buffer");
        lb_log(LB_LOG_ERROR, "database error: %s", db->error);
        return LB_EDB;
    default:
        return stmt_failed(db, stmt);
    }
    for (size_t i = 0; i != n; ++i) {
        if (types[i] == 'i' && is_null[i])
            *(int64_t *)results[i].buffer = 0;
        else if (types[i] == 's')
            ((char *)results[i].buffer)[is_null[i] ? 0 : lengths[i]] = '\0';
        else if (types[i] == 'b')
            *blob_lengths[i] = is_null[i] ? 0 : lengths[i];
    }
    return 0;
}

int lb_db_fetch(lb_db_t *db, const char *types, ...)
{
    va_list args;
    va_start(args, types);
    int ret = fetch_row(db, types, &args);
    va_end(args);
    return ret;
}

int lb_db_query_row(lb_db_t *db, const char *sql, const char *ptypes, const char *rtypes, ...)
{
    lb_db_param_t params[MAX_COLUMNS];
    va_list args;
    va_start(args, rtypes);
    size_t n = collect_params(params, ptypes, &args);
    int ret = start_query(db, sql, 0, sql, params, n);
    if (ret == 0)
        ret = fetch_row(db, rtypes, &args);
    va_end(args);
    if (ret == 0 && db->open_query != NULL) {
        mysql_stmt_free_result(db->open_query);
        db->open_query = NULL;
    }
    return ret;
}

void lb_db_break(lb_db_t *db)
{
    db->broken = 1;
}

const char *lb_db_error(lb_db_t *db)
{
    return db->error;
}

static void run_job(uv_work_t *work)
{
    lb_db_job_t *job = H2O_STRUCT_FROM_MEMBER(lb_db_job_t, uv, work);
    lb_metrics_db_started(lb_monotonic_ns() - job->queued_ns);

    int status = LB_EDB_DOWN;
    for (unsigned attempt = 0;; ++attempt) {
        /* Only the first attempt's connection has sat idle since the job before: a retry's has just answered or is new. */
        int found_open = attempt == 0 && thread_db != NULL && thread_db->mysql != NULL && !thread_db->broken;
        /* A job that lost its connection at COMMIT asks for a retry; it gets a fresh connection to find out. */
        lb_db_t *db = worker_connection();
        if (db == NULL) {
            status = LB_EDB_DOWN;
            break;
        }
        db->idle = found_open;
        status = job->work(job, db);
        db->idle = 0;
        if (db->in_transaction)
            lb_db_rollback(db);
        if (status != LB_EDB_RETRY || attempt == MAX_RETRIES)
            break;
        /* Deadlock victims back off a little, with jitter, so they do not collide again. */
        struct timespec pause = {0, (long)(1000000 * (1 + attempt) + rand() % 1000000)};
        nanosleep(&pause, NULL);
    }
    if (thread_db != NULL && thread_db->broken) {
        close_connection(thread_db);
        thread_db->broken = 0;
    }
    job->uv.data = (void *)(intptr_t)status;
    if (job->finished != NULL) {
        job->status = status;
        lb_db_job_t *head = atomic_load_explicit(job->finished, memory_order_relaxed);
        do
            job->next_finished = head;
        while (!atomic_compare_exchange_weak_explicit(job->finished, &head, job, memory_order_release, memory_order_relaxed));
    }
}

static void answer(lb_db_job_t *job, int status)
{
    job->answered = 1;
    lb_metrics_db_done(lb_monotonic_ns() - job->queued_ns);
    job->done(job, status);
}

void lb_db_answer_finished(void)
{
    if (answering || atomic_load_explicit(&finished_jobs, memory_order_relaxed) == NULL)
        return;
    lb_db_job_t *job = atomic_exchange_explicit(&finished_jobs, NULL, memory_order_acquire), *in_order = NULL;
    while (job != NULL) { /* oldest first */
        lb_db_job_t *next = job->next_finished;
        job->next_finished = in_order;
        in_order = job;
        job = next;
    }
    answering = 1;
    for (job = in_order; job != NULL; job = in_order) {
        in_order = job->next_finished;
        answer(job, job->status);
    }
    answering = 0;
}

static void job_done(uv_work_t *work, int uv_status)
{
    lb_db_job_t *job = H2O_STRUCT_FROM_MEMBER(lb_db_job_t, uv, work);
    int status = uv_status == 0 ? (int)(intptr_t)job->uv.data : LB_EDB_DOWN;
    atomic_fetch_sub(&jobs_pending, 1);
    assert(!answering); /* libuv's callbacks never run inside ours */
    if (job->finished == NULL) {
        answer(job, status);
        return;
    }
    lb_db_answer_finished(); /* this job among them, unless it was answered already */
    if (!job->answered)
        answer(job, status);
    job->release(job, status);
}

static void submit(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done, lb_db_done_cb release)
{
    job->work = work;
    job->done = done;
    job->release = release;
    job->finished = release != NULL ? &finished_jobs : NULL;
    job->answered = 0;
    job->queued_ns = lb_monotonic_ns();
    atomic_fetch_add(&jobs_pending, 1);
    lb_metrics_db_queued();
    int ret = uv_queue_work(loop, &job->uv, run_job, job_done);
    assert(ret == 0);
    (void)ret;
}

void lb_db_submit(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done)
{
    submit(loop, job, work, done, NULL);
}

void lb_db_submit_prompt(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done, lb_db_done_cb release)
{
    submit(loop, job, work, done, release);
}

unsigned lb_db_jobs_pending(void)
{
    return atomic_load(&jobs_pending);
}
