/* What a database session holds across its transactions: named locks (GET_LOCK), and the tests' pauses between them. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "internal.h"

/*
 * The lock's name is the database's (its first 40 characters: a name has at most 64) and the caller's, so that
 * databases sharing one MariaDB server (the tests') do not share the lock. On a Spider front, the front evaluates
 * GET_LOCK: its sessions are the ones that hold and wait.
 */
#define LOCK_NAME "CONCAT(LEFT(DATABASE(), 40), '/', ?)"

/*
 * While it holds a named lock, the session is ended by the server after this many seconds without a statement: the
 * holder's steps follow each other at once, so only a livebuyd that vanished (its machine gone, the connection never
 * closed) leaves it so long, and its lock is let go then rather than after the server's wait_timeout (8 hours by
 * default), which would stop the feed's placing, or a co-op's products, that long. Whatever step it was at, the
 * session's end makes that safe, as a killed session's does.
 */
#define HOLDER_IDLE_S "10"

/* Back to the server's idle limit (the session's default: the global wait_timeout). */
static int idle_limit_default(lb_db_t *db)
{
    return (int)lb_db_exec(db, "SET SESSION wait_timeout = DEFAULT", "") < 0 ? LB_EDB : 0;
}

int lb_store__lock(lb_db_t *db, const char *name, int64_t wait_s)
{
    /* 1 taken, 0 not within wait_s, NULL an error (the wait killed): only 1 is the lock. */
    static const char sql[] = "SELECT COALESCE(GET_LOCK(" LOCK_NAME ", ?), 0)";
    int64_t taken;
    int64_t set = lb_db_exec(db, "SET SESSION wait_timeout = " HOLDER_IDLE_S, "");
    if (set < 0)
        return (int)set;
    int ret = lb_db_query_row(db, sql, "si", "i", name, wait_s, &taken);
    if (ret == LB_ENOTFOUND)
        ret = LB_EDB;
    if (ret == 0 && taken != 1)
        ret = LB_EBUSY;
    if (ret != 0 && idle_limit_default(db) != 0)
        lb_db_break(db);
    return ret;
}

void lb_store__unlock(lb_db_t *db, const char *name)
{
    static const char sql[] = "SELECT COALESCE(RELEASE_LOCK(" LOCK_NAME "), 0)";
    int64_t released = 0;
    /* Unsure that it is let go (this session may even hold it twice now): the session ends after the job, and with it
     * every lock it holds. */
    if (lb_db_query_row(db, sql, "s", "i", name, &released) != 0 || released != 1 || idle_limit_default(db) != 0)
        lb_db_break(db);
}

int lb_store__pause_for_test(lb_db_t *db, const char *point)
{
    static atomic_int paused;
    static const char sql[] = "SELECT SLEEP(20)";
    const char *wanted = getenv("LIVEBUY_FAULT_PAUSE");
    int64_t interrupted;
    if (wanted == NULL || strcmp(wanted, point) != 0 || atomic_exchange(&paused, 1))
        return 0;
    lb_log(LB_LOG_WARN, "failure point: the session pauses at %s for 20 s (a test may kill it now)", point);
    return lb_db_query_row(db, sql, "", "i", &interrupted);
}
