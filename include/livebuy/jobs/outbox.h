/*
 * The outbox engine: rows of one table that must reach another system (shipments to the shipping system, refunds to
 * the payment provider) are claimed a few at a time per process, pushed over HTTP, retried with exponential backoff and
 * jitter, and given up as dead letters after the last attempt. What a row is, how it is claimed, what its request looks
 * like and what an answer does to it is the kind's (lb_outbox_kind_t); the claim/push/backoff/dead-letter cycle is here,
 * once. Runs on one loop thread; its database work runs as jobs.
 *
 *   timer / wake / a slot frees --> claim job --> curl push --> outcome job --> slot free
 *
 * A push that never finishes (a crash, a stop) leaves its claim to run out: the row is sent again, by any process, and
 * the receiver deduplicates (Idempotency-Key, or the provider's own request number).
 */
#ifndef LIVEBUY_JOBS_OUTBOX_H
#define LIVEBUY_JOBS_OUTBOX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "livebuy/db/db.h"
#include "livebuy/db/periodic.h"

#define LB_OUTBOX_BACKOFF_MAX_MS (5 * 60 * 1000)
#define LB_OUTBOX_MAX_IN_FLIGHT  4   /* rows claimed and not yet recorded, per outbox and process */
#define LB_OUTBOX_CLAIMER_SIZE   65  /* claimed_by, VARCHAR(64) */
#define LB_OUTBOX_ERROR_SIZE     400 /* last_error, VARCHAR(400) */
#define LB_OUTBOX_ANSWER_MAX     2048 /* bytes of an answer's body kept: the kind may read it, last_error quotes it */

/*
 * The delay before the next push after attempts failed ones (attempts >= 1): first_ms, doubled per further attempt,
 * capped at LB_OUTBOX_BACKOFF_MAX_MS, then spread by +-20% with random in [0, 1). Pure, for tests.
 */
uint64_t lb_outbox_backoff_ms(uint64_t first_ms, int64_t attempts, double random);

/* What a finished push comes to. */
typedef enum en_lb_outbox_result_t {
    LB_OUTBOX_DELIVERED, /* a 2xx answer: the receiver has the row */
    LB_OUTBOX_REFUSED,   /* refused for good (a 4xx other than 408 and 429, for a kind that says so): no retry */
    LB_OUTBOX_RETRY      /* no answer in time, or any other answer: pushed again later, or a dead letter */
} lb_outbox_result_t;

/*
 * One row from its claim to its recorded outcome. The kind allocates it (embedded first in a struct of its own, when it
 * needs more: find that with H2O_STRUCT_FROM_MEMBER) and frees it in its free callback; the engine owns it in between.
 */
typedef struct st_lb_outbox_push_t {
    lb_db_job_t job; /* the outcome job (the engine's) */
    int64_t id;      /* the row's */
    int64_t sku_id;  /* the row's SKU: every statement on the row names it (one backend of a sharded database) */
    int64_t attempts; /* failed pushes before this one; after a failed one, including it */
    /* The request, made by the kind on the worker that claimed the row (lb_outbox_push_body, _header). */
    char *body;    /* malloc'd; NULL when the row could not be made into a request (error says why): a failed push */
    size_t body_len;
    struct curl_slist *headers;
    /* The answer, on the loop thread. */
    long status; /* HTTP status, 0 when there was none */
    char answer[LB_OUTBOX_ANSWER_MAX + 1]; /* its body's first bytes, NUL-terminated */
    size_t answer_len;
    /* The outcome, decided on the loop thread, recorded by the kind's record callback on a worker. */
    lb_outbox_result_t result;
    int dead; /* LB_OUTBOX_RETRY after the last attempt */
    int64_t next_attempt_at;
    char error[LB_OUTBOX_ERROR_SIZE + 1]; /* why it was not delivered */
    /* The engine's. */
    struct st_lb_outbox_t *outbox;
    void *easy;
    char curl_error[256];
} lb_outbox_push_t;

/* Takes body (malloc'd, len bytes) as push's request body. */
void lb_outbox_push_body(lb_outbox_push_t *push, char *body, size_t len);
/* Adds a request header line ("Name: value") to push. */
void lb_outbox_push_header(lb_outbox_push_t *push, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The headers of livebuy's own signed request (API.md "Auth"), for push's body: Content-Type media_type,
 * Idempotency-Key, X-Livebuy-Timestamp (now) and X-Livebuy-Signature (sha256= the hex HMAC-SHA256 of "TIMESTAMP.BODY"
 * under secret).
 */
void lb_outbox_push_sign(lb_outbox_push_t *push, const char *secret, const char *media_type, const char *idempotency_key);

typedef struct st_lb_outbox_t lb_outbox_t;

/* What one outbox pushes and how: callbacks, each called on the thread its comment names. */
typedef struct st_lb_outbox_kind_t {
    const char *name; /* "shipment", "refund": in logs */
    int refuse_4xx;   /* a 4xx other than 408 and 429 is LB_OUTBOX_REFUSED (else every failure is retried) */
    /*
     * Worker, in a transaction of its own that it commits: claims up to limit due rows for claimer until
     * claimed_until (rows no other process holds, SKIP LOCKED) and makes each a push with its request, into out.
     */
    int (*claim)(lb_outbox_t *outbox, lb_db_t *db, const char *claimer, int64_t now, int64_t claimed_until, size_t limit,
                 lb_outbox_push_t **out, size_t *found);
    /* Worker: lets go of claimer's claims (a clean stop: another process may send them at once). */
    int (*release)(lb_db_t *db, const char *claimer);
    /*
     * Worker: records push's outcome (push->result, and for a retry push->attempts, next_attempt_at, dead, error), for
     * claimer; nothing when the row has moved on meanwhile or another process claims it now. May run again after a
     * deadlock: start from push each time.
     */
    int (*record)(lb_outbox_t *outbox, lb_db_t *db, lb_outbox_push_t *push, const char *claimer);
    /* Loop thread: an answer (or none) came, push->result says what it was (metrics). */
    void (*pushed)(const lb_outbox_push_t *push);
    /* Loop thread: record's status (0: committed) is known (metrics of what it did). */
    void (*recorded)(const lb_outbox_push_t *push, int status);
    void (*free)(lb_outbox_push_t *push);
} lb_outbox_kind_t;

/* Where and how persistently an outbox pushes. Strings must outlive the outbox. */
typedef struct st_lb_outbox_settings_t {
    const char *url;
    unsigned max_attempts; /* pushes of one row before it is a dead letter */
    unsigned backoff_ms;   /* the first retry's delay; doubles per attempt */
} lb_outbox_settings_t;

/*
 * One outbox. Static storage suits it (it must outlive its last job); the fields are the engine's. Owned by the loop
 * thread that started it, except lb_outbox_wake, which any thread may call.
 */
struct st_lb_outbox_t {
    const lb_outbox_kind_t *kind;
    lb_outbox_settings_t settings;
    uv_loop_t *loop;
    char claimer[LB_OUTBOX_CLAIMER_SIZE];
    void *multi;
    uv_timer_t curl_timer;
    struct {
        lb_periodic_t periodic; /* on a timer, when a slot frees, when woken */
        size_t want;
        lb_outbox_push_t *claimed[LB_OUTBOX_MAX_IN_FLIGHT]; /* kept across the job's retries: what committed is claimed */
        size_t num_claimed;
        int again; /* woken while a claim was in flight: claim again after it */
    } claim;
    size_t in_flight;
    lb_outbox_push_t *sending[LB_OUTBOX_MAX_IN_FLIGHT]; /* pushes with an easy handle in multi */
    uint64_t random_state;
    uv_async_t wake;
    pthread_mutex_t wake_mutex;
    int wake_open; /* under wake_mutex: the async handle may be sent to */
};

/* Starts outbox on loop (call on its thread, before other threads may wake it); kind must outlive it. */
void lb_outbox_start(lb_outbox_t *outbox, uv_loop_t *loop, const lb_outbox_kind_t *kind, const lb_outbox_settings_t *settings);
/*
 * Stops on the same thread: no new claims or pushes; pushes in flight are abandoned and this process's claims let go
 * (in a database job the server waits for), so that another process, or the next start, sends them again.
 */
void lb_outbox_stop(lb_outbox_t *outbox);
/*
 * Any thread: rows became due (committed): claim now instead of at the next poll. Does nothing before the start or
 * after the stop.
 */
void lb_outbox_wake(lb_outbox_t *outbox);

#endif
