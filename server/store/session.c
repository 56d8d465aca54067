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

int lb_store__lock(lb_db_t *db, const char *name, int64_t wait_s)
{
    /* 1 taken, 0 not within wait_s, NULL an error (the wait killed): only 1 is the lock. */
    static const char sql[] = "SELECT COALESCE(GET_LOCK(" LOCK_NAME ", ?), 0)";
    int64_t taken;
    int ret = lb_db_query_row(db, sql, "si", "i", name, wait_s, &taken);
    if (ret == LB_ENOTFOUND)
        ret = LB_EDB;
    return ret != 0 ? ret : taken == 1 ? 0 : LB_EBUSY;
}

void lb_store__unlock(lb_db_t *db, const char *name)
{
    static const char sql[] = "SELECT COALESCE(RELEASE_LOCK(" LOCK_NAME "), 0)";
    int64_t released = 0;
    /* Unsure that it is let go (this session may even hold it twice now): the session ends after the job, and with it
     * every lock it holds. */
    if (lb_db_query_row(db, sql, "s", "i", name, &released) != 0 || released != 1)
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
