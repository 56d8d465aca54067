/* Authentication for handlers: one place that decides 401 (who are you?) versus 403 (not you). */
#include <stdlib.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/common.h"
#include "livebuy/store/catalog.h"

int lb_auth_admin(lb_call_t *call)
{
    h2o_iovec_t token;
    if (lb_call_bearer(call, &token) != 0) {
        lb_reply_error(call, 401, "unauthorized", "Authorization: Bearer ADMIN_TOKEN is required");
        return LB_EAUTH;
    }
    const char *admin = call->config->admin_token;
    if (admin == NULL) {
        lb_reply_error(call, 403, "forbidden", "this server has no admin token configured (--admin-token)");
        return LB_EFORBIDDEN;
    }
    if (!lb_token_equal(token.base, token.len, admin, strlen(admin))) {
        lb_reply_error(call, 401, "unauthorized", "wrong admin token");
        return LB_EAUTH;
    }
    return 0;
}

int lb_auth_signed(lb_call_t *call, const char *secret, uint8_t signature[LB_SIGNATURE_SIZE])
{
    static const size_t prefix_len = sizeof("sha256=") - 1;
    h2o_iovec_t timestamp = lb_call_header_named(call, "x-livebuy-timestamp");
    h2o_iovec_t header = lb_call_header_named(call, "x-livebuy-signature");
    const char *why;
    if (lb_token_signature_verify(secret, timestamp.base, timestamp.len, header.base, header.len, call->req->entity.base,
                                  call->req->entity.len, lb_now(), &why) == 0) {
        /* verified: "sha256=" and 64 lower-case hex digits */
        if (signature != NULL && h2o_hex_decode(signature, header.base + prefix_len, 2 * LB_SIGNATURE_SIZE) != 0)
            abort();
        return 0;
    }
    lb_reply_error(call, 401, "unauthorized", "%s", why);
    return LB_EAUTH;
}

int lb_auth_bearer_hash(lb_call_t *call, uint8_t hash[LB_TOKEN_HASH_SIZE])
{
    h2o_iovec_t token;
    if (lb_call_bearer(call, &token) != 0) {
        lb_reply_error(call, 401, "unauthorized", "Authorization: Bearer MERCHANT_TOKEN is required");
        return LB_EAUTH;
    }
    lb_token_hash(token.base, token.len, hash);
    return 0;
}

int lb_auth_merchant(lb_call_job_t *job, lb_db_t *db, const uint8_t hash[LB_TOKEN_HASH_SIZE], unsigned kinds,
                     lb_merchant_t *merchant)
{
    int ret = lb_store_merchant_by_token(db, hash, merchant);
    if (ret == LB_ENOTFOUND)
        return lb_call_job_fail(job, 401, "unauthorized", "unknown merchant token");
    if (ret != 0)
        return ret;
    job->call->merchant_id = merchant->id; /* read on the loop once the job is done (the access log) */
    if ((LB_KIND(merchant->kind) & kinds) == 0)
        return lb_call_job_fail(job, 403, "forbidden", "a %s merchant may not do this", lb_merchant_kinds[merchant->kind]);
    return 0;
}

/*
 * Buyer tokens this thread has verified, so that a buyer's next taps skip the HMAC: a small direct-mapped cache. The slot
 * is chosen by a non-secret hash and the token compared in constant time, so timing tells nothing about cached tokens.
 */
#define BUYER_CACHE_SIZE 4096
#define BUYER_TOKEN_MAX  128
typedef struct st_cached_buyer_t {
    char token[BUYER_TOKEN_MAX];
    size_t len;
    int64_t buyer_id, expiry;
} cached_buyer_t;
static _Thread_local cached_buyer_t *buyer_cache;

static uint64_t load_word(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* A word at a time: a token is some 90 bytes, hashed and compared on every buyer request. */
static cached_buyer_t *buyer_cache_slot(const char *token, size_t len)
{
    uint64_t h = len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        h = (h ^ load_word(token + i)) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (; i != len; ++i)
        h = (h ^ (uint8_t)token[i]) * 0x100000001b3ull;
    if (buyer_cache == NULL)
        buyer_cache = lb_calloc(BUYER_CACHE_SIZE, sizeof(*buyer_cache));
    return &buyer_cache[(h ^ (h >> 32)) % BUYER_CACHE_SIZE];
}

/* Equal? In time that depends on len only (like CRYPTO_memcmp, which goes a byte at a time). */
static int same_token(const char *a, const char *b, size_t len)
{
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        diff |= load_word(a + i) ^ load_word(b + i);
    for (; i != len; ++i)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

/* The token's expiry is its second dot-separated field; verified tokens are well formed. */
static int64_t token_expiry(const char *token, size_t len)
{
    const char *p = memchr(token + 3, '.', len - 3);
    return p != NULL ? strtoll(p + 1, NULL, 10) : 0;
}

static int verify_buyer(const lb_config_t *config, h2o_iovec_t token, int64_t *buyer_id, const char **why)
{
    int64_t now = lb_now();
    cached_buyer_t *slot = buyer_cache_slot(token.base, token.len);
    if (slot->len == token.len && same_token(slot->token, token.base, token.len) && now < slot->expiry) {
        *buyer_id = slot->buyer_id;
        return 0;
    }
    if (lb_token_buyer_verify(config->buyer_secret, token.base, token.len, now, buyer_id, why) != 0)
        return LB_EAUTH;
    if (token.len <= BUYER_TOKEN_MAX) {
        memcpy(slot->token, token.base, token.len);
        slot->len = token.len;
        slot->buyer_id = *buyer_id;
        slot->expiry = token_expiry(token.base, token.len);
    }
    return 0;
}

int lb_auth_buyer(lb_call_t *call, int64_t *buyer_id)
{
    h2o_iovec_t token;
    const char *why;
    if (lb_call_bearer(call, &token) != 0) {
        lb_reply_error(call, 401, "unauthorized", "Authorization: Bearer BUYER_TOKEN is required");
        return LB_EAUTH;
    }
    if (call->config->buyer_secret == NULL) {
        lb_reply_error(call, 401, "unauthorized", "this server takes no buyer tokens (no --buyer-secret)");
        return LB_EAUTH;
    }
    if (verify_buyer(call->config, token, buyer_id, &why) != 0) {
        lb_reply_error(call, 401, "unauthorized", "%s", why);
        return LB_EAUTH;
    }
    call->buyer_id = *buyer_id;
    return 0;
}

lb_writer_t *lb_page_answer_start(lb_page_job_t *page, const char *name)
{
    lb_writer_t *w = lb_call_job_answer(&page->super, 200);
    lb_writer_map(w, NULL);
    lb_writer_array(w, name);
    return w;
}

void lb_page_answer_end(lb_writer_t *w, const lb_page_job_t *page, size_t found, int64_t last_id)
{
    lb_writer_end(w);
    lb_writer_pack(w, "next:N", found != 0 && found == (size_t)page->limit ? last_id : 0);
    lb_writer_end(w);
}

lb_merchant_job_t *lb_auth_merchant_job_new(lb_call_t *call, size_t size)
{
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    if (lb_auth_bearer_hash(call, hash) != 0)
        return NULL;
    lb_merchant_job_t *job = lb_call_job_new(call, size);
    memcpy(job->token_hash, hash, sizeof(hash));
    return job;
}

lb_page_job_t *lb_auth_page_job_new(lb_call_t *call, size_t size)
{
    lb_input_error_t err = {0};
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    int64_t after = 0, limit = LB_PAGE_DEFAULT;
    if (lb_auth_bearer_hash(call, hash) != 0)
        return NULL;
    if (lb_call_query_int(call, "after", 0, INT64_MAX, &after, &err) != 0 ||
        lb_call_query_int(call, "limit", 1, LB_PAGE_MAX, &limit, &err) != 0) {
        lb_reply_input_error(call, &err);
        return NULL;
    }
    lb_page_job_t *job = lb_call_job_new(call, size);
    memcpy(job->token_hash, hash, sizeof(hash));
    job->after = after;
    job->limit = limit;
    return job;
}

/* A refusal waiting for its merchant token's lookup. */
typedef struct st_refusal_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    lb_input_error_t refusal;
} refusal_job_t;

static int refusal_work(lb_call_job_t *super, lb_db_t *db)
{
    refusal_job_t *job = (refusal_job_t *)super;
    lb_merchant_t merchant;
    int ret = lb_store_merchant_by_token(db, job->token_hash, &merchant);
    if (ret == LB_ENOTFOUND)
        return lb_call_job_fail(super, 401, "unauthorized", "unknown merchant token");
    if (ret != 0)
        return ret;
    super->error = job->refusal;
    return LB_EINPUT;
}

void lb_auth_refuse(lb_call_t *call, const lb_input_error_t *err)
{
    int64_t buyer_id;
    if ((call->route_flags & LB_ROUTE_ADMIN) != 0 && lb_auth_admin(call) != 0)
        return;
    if ((call->route_flags & LB_ROUTE_BUYER) != 0 && lb_auth_buyer(call, &buyer_id) != 0)
        return;
    if ((call->route_flags & LB_ROUTE_MERCHANT) != 0) {
        refusal_job_t *job = (refusal_job_t *)lb_auth_merchant_job_new(call, sizeof(refusal_job_t));
        if (job == NULL)
            return; /* no token: answered 401 */
        job->refusal = *err;
        lb_call_job_submit(&job->super, refusal_work);
        return;
    }
    lb_reply_error(call, err->status, err->code, "%s", err->message);
}
