/*
 * The outbox engine (livebuy/jobs/outbox.h). On one loop thread: a timer (or a wake) looks for due rows; a database job
 * claims a few (claimed_by, claimed_until, so that one process at a time sends a row) and has the kind make their
 * requests; libcurl's multi interface, driven by this loop (curl's sockets as uv_poll_t, its timer as a uv_timer_t),
 * pushes them; each outcome is recorded by another job, through the kind.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <h2o/memory.h>
#include "livebuy/base/token.h"
#include "livebuy/base/log.h"
#include "livebuy/common.h"
#include "livebuy/jobs/outbox.h"

#define CLAIM_SECONDS    30    /* longer than a push may take, so that a claim outlives its push */
#define PUSH_TIMEOUT_MS  10000 /* connect, send, answer: all of it */
#define POLL_INTERVAL_MS 250   /* how often an idle outbox looks for due rows */
#define ERROR_EXCERPT    160 /* bytes of a refusal's body quoted in last_error */

/* A socket curl asked this loop to watch. */
typedef struct st_watched_socket_t {
    uv_poll_t poll;
    curl_socket_t fd;
    lb_outbox_t *outbox;
} watched_socket_t;

/* ---- Backoff ------------------------------------------------------------------------------------------------------ */

uint64_t lb_outbox_backoff_ms(uint64_t first_ms, int64_t attempts, double random)
{
    uint64_t delay = first_ms;
    for (int64_t i = 1; i < attempts && delay < LB_OUTBOX_BACKOFF_MAX_MS; ++i)
        delay *= 2;
    if (delay > LB_OUTBOX_BACKOFF_MAX_MS)
        delay = LB_OUTBOX_BACKOFF_MAX_MS;
    return (uint64_t)((double)delay * (0.8 + 0.4 * random));
}

/* xorshift64*: jitter needs no more; only the outbox's loop thread draws. */
static double next_random(lb_outbox_t *outbox)
{
    uint64_t *state = &outbox->random_state;
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (double)((*state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Requests ----------------------------------------------------------------------------------------------------- */

void lb_outbox_push_body(lb_outbox_push_t *push, char *body, size_t len)
{
    free(push->body);
    push->body = body;
    push->body_len = len;
}

void lb_outbox_push_header(lb_outbox_push_t *push, const char *fmt, ...)
{
    char line[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);
    push->headers = curl_slist_append(push->headers, line);
}

void lb_outbox_push_sign(lb_outbox_push_t *push, const char *secret, const char *media_type, const char *idempotency_key)
{
    char timestamp[24], signature[65];
    snprintf(timestamp, sizeof(timestamp), "%lld", (long long)lb_now());
    lb_token_signature_hex(secret, timestamp, strlen(timestamp), push->body, push->body_len, signature);
    lb_outbox_push_header(push, "Content-Type: %s", media_type);
    lb_outbox_push_header(push, "Idempotency-Key: %s", idempotency_key);
    lb_outbox_push_header(push, "X-Livebuy-Timestamp: %s", timestamp);
    lb_outbox_push_header(push, "X-Livebuy-Signature: sha256=%s", signature);
    lb_outbox_push_header(push, "Expect:"); /* no 100-continue round trip */
}

static void push_free(lb_outbox_t *outbox, lb_outbox_push_t *push)
{
    if (push->easy != NULL)
        curl_easy_cleanup(push->easy);
    curl_slist_free_all(push->headers);
    free(push->body);
    push->body = NULL;
    push->headers = NULL;
    outbox->kind->free(push);
}

/* ---- Claiming (a database job) ------------------------------------------------------------------------------------ */

static void release_claims(lb_outbox_t *outbox);
static void start_push(lb_outbox_t *outbox, lb_outbox_push_t *push);

static int claim_work(lb_periodic_t *periodic, lb_db_t *db)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(lb_outbox_t, claim.periodic, periodic);
    size_t found;
    int64_t now = lb_now();
    int ret = outbox->kind->claim(outbox, db, outbox->claimer, now, now + CLAIM_SECONDS,
                                  outbox->claim.want - outbox->claim.num_claimed,
                                  outbox->claim.claimed + outbox->claim.num_claimed, &found);
    if (ret != 0)
        return ret;
    outbox->claim.num_claimed += found;
    return 0;
}

static void claim_done(lb_periodic_t *periodic, int status)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(lb_outbox_t, claim.periodic, periodic);
    size_t got = outbox->claim.num_claimed;
    outbox->claim.num_claimed = 0;
    if (status != 0 && status != LB_EDB_DOWN)
        lb_log(LB_LOG_ERROR, "claiming %ss failed (%d); next try soon", outbox->kind->name, status);
    if (periodic->stopping) {
        for (size_t i = 0; i != got; ++i)
            push_free(outbox, outbox->claim.claimed[i]);
        release_claims(outbox);
        return;
    }
    /* The next claim comes with the timer, a wake, or when one of these is recorded and frees its slot. */
    for (size_t i = 0; i != got; ++i) {
        ++outbox->in_flight;
        start_push(outbox, outbox->claim.claimed[i]);
    }
    if (outbox->claim.again) {
        outbox->claim.again = 0;
        lb_periodic_run(periodic);
    }
}

/* Claims as many as there are free slots; none while all are taken. */
static int claim_prepare(lb_periodic_t *periodic)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(lb_outbox_t, claim.periodic, periodic);
    if (outbox->in_flight == LB_OUTBOX_MAX_IN_FLIGHT)
        return LB_EBUSY;
    outbox->claim.want = LB_OUTBOX_MAX_IN_FLIGHT - outbox->in_flight;
    outbox->claim.num_claimed = 0;
    return 0;
}

/* ---- Recording an outcome (a database job) ------------------------------------------------------------------------ */

static int outcome_work(lb_db_job_t *job, lb_db_t *db)
{
    lb_outbox_push_t *push = H2O_STRUCT_FROM_MEMBER(lb_outbox_push_t, job, job);
    lb_outbox_t *outbox = push->outbox;
    return outbox->kind->record(outbox, db, push, outbox->claimer);
}

static void outcome_done(lb_db_job_t *job, int status)
{
    lb_outbox_push_t *push = H2O_STRUCT_FROM_MEMBER(lb_outbox_push_t, job, job);
    lb_outbox_t *outbox = push->outbox;
    if (status != 0 && status != LB_EDB_DOWN)
        lb_log(LB_LOG_ERROR, "recording the push of %s %lld failed (%d); it is sent again when its claim runs out",
               outbox->kind->name, (long long)push->id, status);
    outbox->kind->recorded(push, status);
    push_free(outbox, push);
    --outbox->in_flight;
    lb_periodic_run(&outbox->claim.periodic);
}

/* On the loop, once the push is over: what to record, then the job that records it. */
static void record_outcome(lb_outbox_t *outbox, lb_outbox_push_t *push, lb_outbox_result_t result)
{
    push->result = result;
    outbox->kind->pushed(push);
    if (result == LB_OUTBOX_RETRY) {
        ++push->attempts;
        push->dead = push->attempts >= (int64_t)outbox->settings.max_attempts;
        uint64_t delay = lb_outbox_backoff_ms(outbox->settings.backoff_ms, push->attempts, next_random(outbox));
        /* next_attempt_at is in seconds: round up, so that the wait is never shorter than the backoff. */
        push->next_attempt_at = (now_ms() + (int64_t)delay + 999) / 1000;
    }
    push->outbox = outbox;
    lb_db_submit(outbox->loop, &push->job, outcome_work, outcome_done);
}

/* ---- Pushing (libcurl's multi interface on this loop) ------------------------------------------------------------- */

static size_t on_response_data(char *data, size_t size, size_t n, void *arg)
{
    lb_outbox_push_t *push = arg;
    size_t len = size * n, room = LB_OUTBOX_ANSWER_MAX - push->answer_len;
    memcpy(push->answer + push->answer_len, data, len < room ? len : room);
    push->answer_len += len < room ? len : room;
    push->answer[push->answer_len] = '\0';
    return len;
}

static void start_push(lb_outbox_t *outbox, lb_outbox_push_t *push)
{
    if (push->body == NULL) {
        record_outcome(outbox, push, LB_OUTBOX_RETRY);
        return;
    }
    CURL *easy = push->easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, outbox->settings.url);
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
    for (size_t i = 0; i != LB_OUTBOX_MAX_IN_FLIGHT; ++i) {
        if (outbox->sending[i] == NULL) {
            outbox->sending[i] = push;
            break;
        }
    }
    curl_multi_add_handle(outbox->multi, easy);
}

/* The answer's status says what it comes to: 2xx delivered; a 4xx but 408 and 429 refused, if the kind says so. */
static lb_outbox_result_t judge(const lb_outbox_t *outbox, CURLcode result, long status)
{
    if (result != CURLE_OK)
        return LB_OUTBOX_RETRY;
    if (status >= 200 && status < 300)
        return LB_OUTBOX_DELIVERED;
    if (outbox->kind->refuse_4xx && status >= 400 && status < 500 && status != 408 && status != 429)
        return LB_OUTBOX_REFUSED;
    return LB_OUTBOX_RETRY;
}

/* last_error's text for what was not delivered: curl's reason, or the status and the first printable bytes of the body. */
static void describe_failure(lb_outbox_push_t *push, CURLcode result)
{
    if (result != CURLE_OK) {
        snprintf(push->error, sizeof(push->error), "%s", push->curl_error[0] != '\0' ? push->curl_error : curl_easy_strerror(result));
        return;
    }
    /* Printable ASCII only: last_error is utf8mb4 text, and a refusal's body may be anything. */
    char excerpt[ERROR_EXCERPT + 1];
    size_t len = push->answer_len < ERROR_EXCERPT ? push->answer_len : ERROR_EXCERPT;
    for (size_t i = 0; i != len; ++i)
        excerpt[i] = push->answer[i] >= 0x20 && push->answer[i] < 0x7f ? push->answer[i] : '?';
    excerpt[len] = '\0';
    snprintf(push->error, sizeof(push->error), "HTTP %ld: %s", push->status, excerpt);
}

static void push_finished(lb_outbox_t *outbox, CURL *easy, CURLcode result)
{
    char *owner;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    lb_outbox_push_t *push = (lb_outbox_push_t *)owner;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &push->status);
    for (size_t i = 0; i != LB_OUTBOX_MAX_IN_FLIGHT; ++i)
        if (outbox->sending[i] == push)
            outbox->sending[i] = NULL;
    curl_multi_remove_handle(outbox->multi, easy);
    curl_easy_cleanup(easy);
    push->easy = NULL;
    lb_outbox_result_t verdict = judge(outbox, result, push->status);
    if (verdict != LB_OUTBOX_DELIVERED)
        describe_failure(push, result);
    record_outcome(outbox, push, verdict);
}

static void finish_transfers(lb_outbox_t *outbox)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(outbox->multi, &left)) != NULL)
        if (message->msg == CURLMSG_DONE)
            push_finished(outbox, message->easy_handle, message->data.result);
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
    lb_outbox_t *outbox = watched->outbox;
    curl_multi_socket_action(outbox->multi, watched->fd, flags, &running);
    finish_transfers(outbox);
}

static void on_watched_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* CURLMOPT_SOCKETFUNCTION: watch (or stop watching) one of curl's sockets on the loop. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socket_arg)
{
    lb_outbox_t *outbox = arg;
    watched_socket_t *watched = socket_arg;
    if (what == CURL_POLL_REMOVE) {
        if (watched != NULL) {
            uv_poll_stop(&watched->poll);
            uv_close((uv_handle_t *)&watched->poll, on_watched_closed);
            curl_multi_assign(outbox->multi, fd, NULL);
        }
        return 0;
    }
    if (watched == NULL) {
        watched = lb_calloc(1, sizeof(*watched));
        watched->fd = fd;
        watched->outbox = outbox;
        watched->poll.data = watched;
        if (uv_poll_init_socket(outbox->loop, &watched->poll, fd) != 0) {
            free(watched);
            return -1;
        }
        curl_multi_assign(outbox->multi, fd, watched);
    }
    int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    uv_poll_start(&watched->poll, events, on_socket_ready);
    return 0;
}

static void on_curl_timer(uv_timer_t *timer)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(lb_outbox_t, curl_timer, timer);
    int running;
    curl_multi_socket_action(outbox->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    finish_transfers(outbox);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called back in timeout_ms (-1: never). */
static int on_curl_timer_change(CURLM *multi, long timeout_ms, void *arg)
{
    lb_outbox_t *outbox = arg;
    if (timeout_ms < 0)
        uv_timer_stop(&outbox->curl_timer);
    else
        uv_timer_start(&outbox->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- Start, wake and stop ----------------------------------------------------------------------------------------- */

static void init_curl(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void on_wake(uv_async_t *async)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(lb_outbox_t, wake, async);
    if (outbox->claim.periodic.running)
        outbox->claim.again = 1; /* what the running claim read may be from before the wake's commit */
    else
        lb_periodic_run(&outbox->claim.periodic);
}

void lb_outbox_start(lb_outbox_t *outbox, uv_loop_t *loop, const lb_outbox_kind_t *kind, const lb_outbox_settings_t *settings)
{
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    char host[32] = "";
    outbox->kind = kind;
    outbox->settings = *settings;
    outbox->loop = loop;
    gethostname(host, sizeof(host) - 1);
    outbox->random_state = lb_monotonic_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)lb_now() ^ (uint64_t)(uintptr_t)outbox;
    if (outbox->random_state == 0)
        outbox->random_state = 1;
    /* Who holds a claim: this host and process, and a random part (pids are reused across restarts). */
    snprintf(outbox->claimer, sizeof(outbox->claimer), "%s:%d:%08x", host, (int)getpid(),
             (unsigned)(next_random(outbox) * 4294967296.0));

    pthread_once(&curl_once, init_curl);
    outbox->multi = curl_multi_init();
    curl_multi_setopt(outbox->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(outbox->multi, CURLMOPT_SOCKETDATA, outbox);
    curl_multi_setopt(outbox->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer_change);
    curl_multi_setopt(outbox->multi, CURLMOPT_TIMERDATA, outbox);
    uv_timer_init(loop, &outbox->curl_timer);
    pthread_mutex_init(&outbox->wake_mutex, NULL);
    uv_async_init(loop, &outbox->wake, on_wake);
    outbox->wake_open = 1;
    lb_periodic_start(loop, &outbox->claim.periodic, 0, POLL_INTERVAL_MS, claim_prepare, claim_work, claim_done);
}

void lb_outbox_wake(lb_outbox_t *outbox)
{
    pthread_mutex_lock(&outbox->wake_mutex);
    if (outbox->wake_open)
        uv_async_send(&outbox->wake);
    pthread_mutex_unlock(&outbox->wake_mutex);
}

typedef struct st_release_t {
    lb_db_job_t job;
    lb_outbox_t *outbox;
} release_t;

static int release_work(lb_db_job_t *job, lb_db_t *db)
{
    lb_outbox_t *outbox = H2O_STRUCT_FROM_MEMBER(release_t, job, job)->outbox;
    return outbox->kind->release(db, outbox->claimer);
}

static void release_done(lb_db_job_t *job, int status)
{
    free(H2O_STRUCT_FROM_MEMBER(release_t, job, job));
}

/* A stop lets go of this process's claims (after the claim job, if one is in flight), so others need not wait. */
static void release_claims(lb_outbox_t *outbox)
{
    release_t *release = lb_calloc(1, sizeof(*release));
    release->outbox = outbox;
    lb_db_submit(outbox->loop, &release->job, release_work, release_done);
}

void lb_outbox_stop(lb_outbox_t *outbox)
{
    pthread_mutex_lock(&outbox->wake_mutex);
    outbox->wake_open = 0;
    pthread_mutex_unlock(&outbox->wake_mutex);
    uv_close((uv_handle_t *)&outbox->wake, NULL);
    lb_periodic_stop(&outbox->claim.periodic);
    for (size_t i = 0; i != LB_OUTBOX_MAX_IN_FLIGHT; ++i) {
        lb_outbox_push_t *push = outbox->sending[i];
        if (push == NULL)
            continue;
        curl_multi_remove_handle(outbox->multi, push->easy);
        push_free(outbox, push);
        outbox->sending[i] = NULL;
        --outbox->in_flight;
    }
    curl_multi_cleanup(outbox->multi);
    uv_timer_stop(&outbox->curl_timer);
    uv_close((uv_handle_t *)&outbox->curl_timer, NULL);
    if (!outbox->claim.periodic.running)
        release_claims(outbox);
}
