/*
 * The database layer: jobs run on libuv's thread pool, each worker thread with its own MariaDB connection, prepared
 * statements only, explicit reconnect with backoff, whole-transaction retry on deadlock; results come back on the loop
 * thread that submitted the job. A connection that died while idle between jobs (MariaDB restarted) is replaced at the
 * job's first round trip, which alone is sent again, and only when that cannot do anything twice.
 */
#ifndef LIVEBUY_DB_H
#define LIVEBUY_DB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <uv.h>
#include <mysql.h>
#include "livebuy/base/config.h"

/* One connection and its prepared statements. Owned by the worker thread that opened it. */
typedef struct st_lb_db_t lb_db_t;

/*
 * Remembers where the database is; call once, before any job or connection. The url is copied. sharded: the database
 * is a sharded front (MariaDB's Spider, docs/scale-out.md), where lb_db_exec_rows writes an INSERT's rows as multi-row
 * statements and the store shapes some reads for it (lb_db_is_sharded).
 */
void lb_db_global_init(const lb_db_url_t *url, int sharded);
/* Closes every worker connection. Call only when no job is queued or running (after the loops have stopped). */
void lb_db_global_dispose(void);

/*
 * Opens a plain session (no statement cache) for start-up work on the calling thread: the reachability check and
 * migrations. flags are passed to mysql_real_connect (e.g. CLIENT_MULTI_STATEMENTS); io_timeout is the seconds a read or
 * write may take (LB_DB_IO_TIMEOUT for the workers). NULL with a reason in err.
 */
#define LB_DB_IO_TIMEOUT 30
MYSQL *lb_db_open_session(unsigned long flags, unsigned io_timeout, char *err, size_t errsize);

/*
 * A unit of database work. Embed it in the struct that holds the job's inputs and outputs; recover that struct in the
 * callbacks with H2O_STRUCT_FROM_MEMBER. work runs on a worker thread (it may run more than once: after a deadlock the
 * whole transaction is run again, so it must start from its inputs each time); done runs on the submitting loop's
 * thread with work's last return value, or LB_EDB_DOWN when no connection could be had.
 */
typedef struct st_lb_db_job_t lb_db_job_t;
typedef int (*lb_db_work_cb)(lb_db_job_t *job, lb_db_t *db);
typedef void (*lb_db_done_cb)(lb_db_job_t *job, int status);
struct st_lb_db_job_t {
    uv_work_t uv;
    lb_db_work_cb work;
    lb_db_done_cb done;
    lb_db_done_cb release; /* prompt jobs only */
    uint64_t queued_ns;
    _Atomic(lb_db_job_t *) *finished; /* prompt jobs: the submitting thread's list of jobs finished and not answered */
    lb_db_job_t *next_finished;
    int status;
    int answered;
};

/* Queues job on the pool; done is always called later, on loop's thread. */
void lb_db_submit(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done);
/*
 * Queues a job whose answer should not wait for the loop's next turn: done runs on loop's thread at the first call of
 * lb_db_answer_finished after work has returned, or when libuv reports the job done, whichever comes first. release
 * runs after both done and libuv's report: it, and not done, frees the job.
 */
void lb_db_submit_prompt(uv_loop_t *loop, lb_db_job_t *job, lb_db_work_cb work, lb_db_done_cb done, lb_db_done_cb release);
/*
 * Answers the calling loop thread's prompt jobs that have finished (cheap when none has: one atomic load). A call from
 * within one of those answers does nothing: a done callback never runs inside another.
 */
void lb_db_answer_finished(void);
/* Jobs submitted and not yet done, across all loops (for a clean stop). */
unsigned lb_db_jobs_pending(void);

/* Transactions. A job that returns with a transaction still open has it rolled back. */
int lb_db_begin(lb_db_t *db);
int lb_db_commit(lb_db_t *db);
void lb_db_rollback(lb_db_t *db);

/*
 * Prepared statements, cached per connection by their SQL text (pass string literals). Parameter types, one letter
 * each: 'i' int64_t, 's' const char * (NUL-terminated), 'b' const void *, size_t (bytes), 'n' NULL (no argument).
 * lb_db_exec returns the affected rows (>= 0) or an LB_E* code.
 */
int64_t lb_db_exec(lb_db_t *db, const char *sql, const char *types, ...);
/*
 * Statements built at run time (multi-row inserts, IN lists): key (the address of a static name for the statement's
 * shape) and variant (e.g. its row count) identify it in the cache; sql is read only when it is first prepared.
 */
typedef struct st_lb_db_param_t {
    char type; /* as for lb_db_exec, or 'u': an unsigned integer (LB_DB_ID) */
    int64_t i;
    const void *p;
    size_t len;
} lb_db_param_t;
/*
 * LB_DB_ID: an id for an IN list or a CASE over a BIGINT UNSIGNED column. Bound unsigned, MariaDB compares the two as
 * integers; bound signed, as decimals (perf, orders over 1,000 SKUs: the CASE of lb_store_skus_add_reserved took 4.9% of
 * mariadbd's time with signed ids, 1.0% with these, and the decimal comparisons were gone).
 */
#define LB_DB_INT(v)        ((lb_db_param_t){'i', (v), NULL, 0})
#define LB_DB_ID(v)         ((lb_db_param_t){'u', (v), NULL, 0})
#define LB_DB_BYTES(ptr, n) ((lb_db_param_t){'b', 0, (ptr), (n)})
#define LB_DB_TEXT(s)       ((lb_db_param_t){'s', 0, (s), strlen(s)})
#define LB_DB_NULL          ((lb_db_param_t){'n', 0, NULL, 0})
/* Whether db reaches a sharded front (lb_db_global_init). */
int lb_db_is_sharded(const lb_db_t *db);
/* Is this statement prepared on this connection already? (Then its SQL need not be built: pass NULL.) */
int lb_db_is_prepared(lb_db_t *db, const char *key, size_t variant);
int64_t lb_db_exec_array(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n);
int lb_db_query_array(lb_db_t *db, const char *key, size_t variant, const char *sql, const lb_db_param_t *params, size_t n);

/*
 * A statement with one row of parameters, run once per row of columns (MariaDB's array binding: the rows go to the
 * server in one packet and are executed as one statement, COM_STMT_BULK_EXECUTE). Column i feeds parameter i, num_rows
 * values each: type 'i' from ints, or 'b' bytes from bytes and lengths; nulls (optional) says per row whether the value
 * is SQL NULL. Returns the rows affected or an LB_E* code, like lb_db_exec.
 * On a sharded front (lb_db_global_init's sharded) an INSERT (sql ending in its one row of VALUES) goes instead as a
 * few multi-row INSERTs: a Spider front runs an array-bound statement once per row, and sends each row to its backend
 * alone. Other statements are array-bound there too.
 */
typedef struct st_lb_db_column_t {
    char type;
    const int64_t *ints;
    const char *const *bytes;
    const unsigned long *lengths;
    const char *nulls;
} lb_db_column_t;
int64_t lb_db_exec_rows(lb_db_t *db, const char *sql, const lb_db_column_t *columns, size_t num_columns, size_t num_rows);

/* The AUTO_INCREMENT id of the last insert through lb_db_exec (the first row's, for a multi-row insert). */
int64_t lb_db_insert_id(lb_db_t *db);
/*
 * Runs a query; read its rows with lb_db_fetch until that returns LB_ENOTFOUND (or an error). One query is open at a
 * time per connection; starting another statement abandons the rest of the rows.
 */
int lb_db_query(lb_db_t *db, const char *sql, const char *types, ...);
/*
 * Reads the next row into the outputs named by types: 'i' int64_t * (NULL reads as 0), 's' char *buf, size_t size
 * (NUL-terminated; NULL reads as ""), 'b' void *buf, size_t size, size_t *len. Returns 0 for a row, LB_ENOTFOUND
 * after the last one, or an LB_E* code.
 */
int lb_db_fetch(lb_db_t *db, const char *types, ...);
/* Runs a query and reads its first row into the outputs: 0, or LB_ENOTFOUND when there is none, or an LB_E* code. */
int lb_db_query_row(lb_db_t *db, const char *sql, const char *ptypes, const char *rtypes, ...);

/* Marks the connection as lost: it is closed after the job and the next use opens a new one. */
void lb_db_break(lb_db_t *db);

/* The last MariaDB error on this connection, for logs. */
const char *lb_db_error(lb_db_t *db);

#endif
