/*
 * The outbox dispatcher. On one loop thread: a timer looks for due shipments; a database job claims a few (claimed_by,
 * claimed_until, so that one process at a time sends a row) and builds their bodies; libcurl's multi interface, driven
 * by this loop (curl's sockets as uv_poll_t, its timer as a uv_timer_t), pushes them; each outcome is recorded by
 * another job: acked (the orders handed off), or a retry after a backoff, or a dead letter.
 *
 *   timer / a slot frees --> claim job --> curl push --> outcome job --> slot free
 *
 * A push that never finishes (a crash, a stop) leaves its claim to run out: the row is sent again, by any process, and
 * the receiver deduplicates by Idempotency-Key.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <h2o/memory.h>
#include "livebuy/codec/codec.h"
#include "livebuy/common.h"
#include "livebuy/db/db.h"
#include "livebuy/db/periodic.h"
#include "livebuy/jobs/dispatcher.h"
#include "livebuy/base/metrics.h"
#include "livebuy/order/shipping.h"
#include "livebuy/store/shipments.h"
#include "livebuy/base/token.h"

#define MAX_IN_FLIGHT    4     /* shipments claimed and not yet recorded, per process */
#define CLAIM_SECONDS    30    /* longer than a push may take, so that a claim outlives its push */
#define PUSH_TIMEOUT_MS  10000 /* connect, send, answer: all of it */
#define POLL_INTERVAL_MS 250   /* how often an idle dispatcher looks for due shipments */
#define BACKLOG_EVERY_NS (2 * 1000000000ull)
#define ERROR_TEXT_SIZE  400 /* shipments.last_error */
#define RESPONSE_EXCERPT 160 /* bytes of a refusal's body kept for last_error */
#define CLAIMER_SIZE     65  /* shipments.claimed_by, VARCHAR(64) */

/* One shipment from its claim to its recorded outcome. */
typedef struct st_push_t {
    lb_db_job_t job; /* the outcome job */
    int64_t shipment_id;
    int64_t attempts; /* failed pushes before this one */
    char *body;       /* the encoded document; NULL when the stored payload could not be read */
    size_t body_len;
    CURL *easy; /* while the push is in flight */
    struct curl_slist *headers;
    char response[RESPONSE_EXCERPT + 1];
    size_t response_len;
    char curl_error[CURL_ERROR_SIZE];
    /* The outcome. */
    int acked, dead;
    int64_t next_attempt_at;
    char error[ERROR_TEXT_SIZE + 1];
} push_t;

/* The claim job: what it got is kept across the job's retries (what committed stays claimed). */
typedef struct st_claim_t {
    lb_periodic_t periodic; /* on a timer, and whenever a slot frees */
    size_t want;
    int count_backlog;
    int64_t backlog;
    push_t *claimed[MAX_IN_FLIGHT];
    size_t num_claimed;
} claim_t;

/* A socket curl asked this loop to watch. */
typedef struct st_watched_socket_t {
    uv_poll_t poll;
    curl_socket_t fd;
} watched_socket_t;

static uv_loop_t *loop;
static const lb_config_t *config;
static lb_format_t format;
static char claimer[CLAIMER_SIZE];
static CURLM *multi;
static uv_timer_t curl_timer;
static claim_t claim;
static size_t in_flight;
static push_t *sending[MAX_IN_FLIGHT]; /* pushes with an easy handle in multi */
static uint64_t backlog_counted_ns, random_state;

/* ---- Backoff ------------------------------------------------------------------------------------------------------ */

uint64_t lb_dispatcher_backoff_ms(uint64_t first_ms, int64_t attempts, double random)
{
    uint64_t delay = first_ms;
    for (int64_t i = 1; i < attempts && delay < LB_DISPATCHER_BACKOFF_MAX_MS; ++i)
        delay *= 2;
    if (delay > LB_DISPATCHER_BACKOFF_MAX_MS)
        delay = LB_DISPATCHER_BACKOFF_MAX_MS;
    return (uint64_t)((double)delay * (0.8 + 0.4 * random));
}

/* xorshift64*: jitter needs no more; only the dispatcher's loop thread draws. */
static double next_random(void)
{
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return (double)((random_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Claiming (a database job) ------------------------------------------------------------------------------------ */

/* On a worker: the body the shipping system gets, the stored payload with shipment_id first, in the configured format. */
static push_t *push_new(const lb_shipment_row_t *row)
{
    push_t *push = lb_calloc(1, sizeof(*push));
    push->shipment_id = row->id;
    push->attempts = row->attempts;
    lb_fields_t payload;
    lb_fields_init(&payload);
    if (lb_codec_decode(LB_FORMAT_JSON, row->payload, row->payload_len, &payload, NULL, 0) == 0) {
        lb_writer_t w;
        lb_writer_init(&w, format);
        lb_writer_map(&w, NULL);
        lb_writer_integer(&w, "shipment_id", row->id);
        for (const lb_value_t *member = lb_value_first(lb_fields_root(&payload)); member != NULL; member = lb_value_next(member))
            if (!lb_value_named(member, "shipment_id"))
                lb_writer_value(&w, member);
        lb_writer_end(&w);
        if (w.failed) {
            free(w.out.bytes);
        } else {
            push->body = w.out.bytes;
            push->body_len = w.out.len;
        }
    }
    lb_fields_dispose(&payload);
    return push;
}

static void push_free(push_t *push)
{
    if (push->easy != NULL)
        curl_easy_cleanup(push->easy);
    curl_slist_free_all(push->headers);
    free(push->body);
    free(push);
}

static void release_claims(void);

static int claim_work(lb_periodic_t *periodic, lb_db_t *db)
{
    lb_shipment_row_t rows[MAX_IN_FLIGHT];
    size_t found;
    int64_t now = lb_now();
    int ret = lb_store_shipments_claim(db, claimer, now, now + CLAIM_SECONDS, claim.want - claim.num_claimed, rows, &found);
    if (ret != 0)
        return ret;
    for (size_t i = 0; i != found; ++i)
        claim.claimed[claim.num_claimed++] = push_new(&rows[i]);
    lb_store_shipment_rows_free(rows, found);
    return claim.count_backlog ? lb_store_shipments_backlog(db, &claim.backlog) : 0;
}

static void start_push(push_t *push);

static void claim_done(lb_periodic_t *periodic, int status)
{
    size_t got = claim.num_claimed;
    claim.num_claimed = 0;
    if (status != 0 && status != LB_EDB_DOWN)
        fprintf(stderr, "livebuyd: claiming shipments failed (%d); next try soon\n", status);
    if (status == 0 && claim.count_backlog)
        lb_metrics_outbox_backlog(claim.backlog);
    if (periodic->stopping) {
        for (size_t i = 0; i != got; ++i)
            push_free(claim.claimed[i]);
        release_claims();
        return;
    }
    /* The next claim comes with the timer or when one of these is recorded and frees its slot. */
    for (size_t i = 0; i != got; ++i) {
        ++in_flight;
        start_push(claim.claimed[i]);
    }
}

/* Claims as many as there are free slots; none while all are taken. */
static int claim_prepare(lb_periodic_t *periodic)
{
    if (in_flight == MAX_IN_FLIGHT)
        return LB_EBUSY;
    uint64_t now = lb_monotonic_ns();
    claim.want = MAX_IN_FLIGHT - in_flight;
    claim.num_claimed = 0;
    claim.count_backlog = now - backlog_counted_ns >= BACKLOG_EVERY_NS;
    if (claim.count_backlog)
        backlog_counted_ns = now;
    return 0;
}

/* ---- Recording an outcome (a database job) ------------------------------------------------------------------------ */

static int outcome_work(lb_db_job_t *job, lb_db_t *db)
{
    push_t *push = H2O_STRUCT_FROM_MEMBER(push_t, job, job);
    if (push->acked)
        return lb_shipping_ack(db, push->shipment_id, lb_now());
    return lb_store_shipment_retry(db, push->shipment_id, claimer, push->attempts, push->next_attempt_at, push->dead, push->error);
}

static void outcome_done(lb_db_job_t *job, int status)
{
    push_t *push = H2O_STRUCT_FROM_MEMBER(push_t, job, job);
    if (status != 0 && status != LB_EDB_DOWN)
        fprintf(stderr, "livebuyd: recording the push of shipment %lld failed (%d); it is sent again when its claim runs out\n",
                (long long)push->shipment_id, status);
    if (status == 0 && push->dead)
        lb_metrics_shipping_dead_letter();
    push_free(push);
    --in_flight;
    lb_periodic_run(&claim.periodic);
}

/* On the loop, once the push is over: what to record, then the job that records it. */
static void record_outcome(push_t *push, int acked)
{
    push->acked = acked;
    lb_metrics_shipping_push(acked ? LB_METRICS_PUSH_ACKED : LB_METRICS_PUSH_FAILED);
    if (!acked) {
        ++push->attempts;
        push->dead = push->attempts >= (int64_t)config->shipping_max_attempts;
        uint64_t delay = lb_dispatcher_backoff_ms(config->shipping_backoff_ms, push->attempts, next_random());
        /* next_attempt_at is in seconds: round up, so that the wait is never shorter than the backoff. */
        push->next_attempt_at = (now_ms() + (int64_t)delay + 999) / 1000;
    }
    lb_db_submit(loop, &push->job, outcome_work, outcome_done);
}

/* ---- Pushing (libcurl's multi interface on this loop) ------------------------------------------------------------- */

static size_t on_response_data(char *data, size_t size, size_t n, void *arg)
{
    push_t *push = arg;
    size_t len = size * n;
    /* Printable ASCII only: last_error is utf8mb4 text, and a refusal's body may be anything. */
    for (size_t i = 0; i != len && push->response_len != RESPONSE_EXCERPT; ++i)
        push->response[push->response_len++] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '?';
    return len;
}

static void add_header(push_t *push, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_header(push_t *push, const char *fmt, ...)
{
    char line[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    push->headers = curl_slist_append(push->headers, line);
}

/* The signed request (API.md "Auth": HMAC-SHA256 of "TIMESTAMP.BODY" under --shipping-secret). */
static void set_headers(push_t *push)
{
    char timestamp[24], signature[65];
    snprintf(timestamp, sizeof(timestamp), "%lld", (long long)lb_now());
    lb_token_signature_hex(config->shipping_secret, timestamp, strlen(timestamp), push->body, push->body_len, signature);
    add_header(push, "Content-Type: %s", lb_codec_media_type(format));
    add_header(push, "Idempotency-Key: %lld", (long long)push->shipment_id);
    add_header(push, "X-Livebuy-Timestamp: %s", timestamp);
    add_header(push, "X-Livebuy-Signature: sha256=%s", signature);
    add_header(push, "Expect:"); /* no 100-continue round trip */
}

static void start_push(push_t *push)
{
    if (push->body == NULL) {
        snprintf(push->error, sizeof(push->error), "the stored payload is not a JSON object");
        record_outcome(push, 0);
        return;
    }
    set_headers(push);
    CURL *easy = push->easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, config->shipping_url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, push->body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)push->body_len);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, push->headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "livebuyd");
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)PUSH_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_response_data);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, push);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, push->curl_error);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, push);
    for (size_t i = 0; i != MAX_IN_FLIGHT; ++i) {
        if (sending[i] == NULL) {
            sending[i] = push;
            break;
        }
    }
    curl_multi_add_handle(multi, easy);
}

/* A push is over: 2xx is an acknowledgement; anything else, or no answer in time, is a failure to retry. */
static void push_finished(CURL *easy, CURLcode result)
{
    char *owner;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    push_t *push = (push_t *)owner;
    for (size_t i = 0; i != MAX_IN_FLIGHT; ++i)
        if (sending[i] == push)
            sending[i] = NULL;
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    push->easy = NULL;
    int acked = result == CURLE_OK && status >= 200 && status < 300;
    if (result != CURLE_OK)
        snprintf(push->error, sizeof(push->error), "%s",
                 push->curl_error[0] != '\0' ? push->curl_error : curl_easy_strerror(result));
    else if (!acked)
        snprintf(push->error, sizeof(push->error), "HTTP %ld: %.*s", status, (int)push->response_len, push->response);
    record_outcome(push, acked);
}

static void finish_transfers(void)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(multi, &left)) != NULL)
        if (message->msg == CURLMSG_DONE)
            push_finished(message->easy_handle, message->data.result);
}

static void on_socket_ready(uv_poll_t *poll, int status, int events)
{
    watched_socket_t *watched = poll->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(multi, watched->fd, flags, &running);
    finish_transfers();
}

static void on_watched_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* CURLMOPT_SOCKETFUNCTION: watch (or stop watching) one of curl's sockets on the loop. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    watched_socket_t *watched = socket_arg;
    if (what == CURL_POLL_REMOVE) {
        if (watched != NULL) {
            uv_poll_stop(&watched->poll);
            uv_close((uv_handle_t *)&watched->poll, on_watched_closed);
            curl_multi_assign(multi, fd, NULL);
        }
        return 0;
    }
    if (watched == NULL) {
        watched = lb_calloc(1, sizeof(*watched));
        watched->fd = fd;
        watched->poll.data = watched;
        if (uv_poll_init_socket(loop, &watched->poll, fd) != 0) {
            free(watched);
            return -1;
        }
        curl_multi_assign(multi, fd, watched);
    }
    int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    uv_poll_start(&watched->poll, events, on_socket_ready);
    return 0;
}

static void on_curl_timer(uv_timer_t *timer)
{
    int running;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    finish_transfers();
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called back in timeout_ms (-1: never). */
static int on_curl_timer_change(CURLM *m, long timeout_ms, void *arg)
{
    if (timeout_ms < 0)
        uv_timer_stop(&curl_timer);
    else
        uv_timer_start(&curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- Start and stop ----------------------------------------------------------------------------------------------- */

void lb_dispatcher_start(uv_loop_t *l, const lb_config_t *c)
{
    char host[32] = "";
    loop = l;
    config = c;
    format = strcmp(config->shipping_format, "msgpack") == 0 ? LB_FORMAT_MSGPACK : LB_FORMAT_JSON;
    gethostname(host, sizeof(host) - 1);
    random_state = lb_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)lb_now();
    if (random_state == 0)
        random_state = 1;
    /* Who holds a claim: this host and process, and a random part (pids are reused across restarts). */
    snprintf(claimer, sizeof(claimer), "%s:%d:%08x", host, (int)getpid(), (unsigned)(next_random() * 4294967296.0));

    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer_change);
    uv_timer_init(loop, &curl_timer);
    lb_periodic_start(loop, &claim.periodic, 0, POLL_INTERVAL_MS, claim_prepare, claim_work, claim_done);
}

static int release_work(lb_db_job_t *job, lb_db_t *db)
{
    return lb_store_shipments_release(db, claimer);
}

static void release_done(lb_db_job_t *job, int status)
{
    free(job);
}

/* A stop lets go of this process's claims (after the claim job, if one is in flight), so others need not wait. */
static void release_claims(void)
{
    lb_db_submit(loop, lb_calloc(1, sizeof(lb_db_job_t)), release_work, release_done);
}

void lb_dispatcher_stop(void)
{
    lb_periodic_stop(&claim.periodic);
    for (size_t i = 0; i != MAX_IN_FLIGHT; ++i) {
        if (sending[i] == NULL)
            continue;
        curl_multi_remove_handle(multi, sending[i]->easy);
        push_free(sending[i]);
        sending[i] = NULL;
        --in_flight;
    }
    curl_multi_cleanup(multi);
    uv_timer_stop(&curl_timer);
    uv_close((uv_handle_t *)&curl_timer, NULL);
    if (!claim.periodic.running)
        release_claims();
}
