/* Who is calling: the admin token, merchant tokens (looked up by hash on a worker), buyer tokens (checked on the loop). */
#ifndef LIVEBUY_AUTH_H
#define LIVEBUY_AUTH_H

#include <stdint.h>
#include "livebuy/base/token.h"
#include "livebuy/http/call.h"
#include "livebuy/model/merchant.h"

/* Bits of lb_merchant_kind_t, for the kinds a route accepts. */
#define LB_KIND(kind) (1u << (kind))

/* On the loop: 0 when the call carries the admin token; otherwise answers 401 (LB_EAUTH) or 403 (LB_EFORBIDDEN). */
int lb_auth_admin(lb_call_t *call);
/*
 * On the loop: 0 when the call is a signed callback (payment notify, shipping event) under secret: X-Livebuy-Timestamp
 * and X-Livebuy-Signature over the raw body (token.h), whose HMAC then goes into signature unless it is NULL; otherwise
 * answers 401 and returns LB_EAUTH.
 */
int lb_auth_signed(lb_call_t *call, const char *secret, uint8_t signature[LB_SIGNATURE_SIZE]);
/* On the loop: hashes the call's bearer token into hash; answers 401 and returns LB_EAUTH when there is none. */
int lb_auth_bearer_hash(lb_call_t *call, uint8_t hash[LB_TOKEN_HASH_SIZE]);
/* On the loop: the buyer id of the call's buyer token (API.md "Auth"); otherwise answers 401 and returns LB_EAUTH. */
int lb_auth_buyer(lb_call_t *call, int64_t *buyer_id);
/*
 * On the loop: answers err, an input error of the call's query or body, only once the route's credential (its
 * LB_ROUTE_ADMIN, _BUYER or _MERCHANT flag) is good: a missing or unknown token gets 401 instead, whatever the input
 * (authentication before validation). A merchant token is looked up by a database job first; the token's kind is
 * left to the handler, after the fields. A route without such a flag is answered err at once.
 */
void lb_auth_refuse(lb_call_t *call, const lb_input_error_t *err);
/* A merchant's paged listing (?after=ID&limit=N): embed it first in the handler's job. */
typedef struct st_lb_page_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
    int64_t after, limit;
} lb_page_job_t;

/* A merchant's call on one resource (/v1/skus/{id}, ...): embed it first in the handler's job. */
typedef struct st_lb_merchant_job_t {
    lb_call_job_t super;
    uint8_t token_hash[LB_TOKEN_HASH_SIZE];
} lb_merchant_job_t;

/* On the loop: reads the bearer token into a new job of size bytes; answers 401 and returns NULL when there is none. */
lb_merchant_job_t *lb_auth_merchant_job_new(lb_call_t *call, size_t size);

#define LB_PAGE_DEFAULT 50
#define LB_PAGE_MAX     200

/*
 * On the loop: reads the bearer token and ?after= (default 0) and ?limit= (1..LB_PAGE_MAX, default LB_PAGE_DEFAULT)
 * into a new job of size bytes; answers 401 or 422 and returns NULL when it cannot.
 */
lb_page_job_t *lb_auth_page_job_new(lb_call_t *call, size_t size);
/*
 * On a worker: starts the page's answer, {"NAME": [ ... for the caller to write found items into; lb_page_answer_end
 * closes it with "next": the last item's id when the page is full (more may follow), else null.
 */
lb_writer_t *lb_page_answer_start(lb_page_job_t *page, const char *name);
void lb_page_answer_end(lb_writer_t *w, const lb_page_job_t *page, size_t found, int64_t last_id);

/*
 * On a worker: the merchant whose token hashes to hash, if its kind is in kinds. Otherwise records a 401 or 403 answer
 * in job and returns LB_EINPUT (or an LB_EDB_* code).
 */
int lb_auth_merchant(lb_call_job_t *job, lb_db_t *db, const uint8_t hash[LB_TOKEN_HASH_SIZE], unsigned kinds,
                     lb_merchant_t *merchant);

#endif
