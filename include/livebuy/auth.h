/* Who is calling: the admin token, merchant tokens (looked up by hash on a worker), buyer tokens (checked on the loop). */
#ifndef LIVEBUY_AUTH_H
#define LIVEBUY_AUTH_H

#include <stdint.h>
#include "livebuy/call.h"
#include "livebuy/store.h"

/* Bits of lb_merchant_kind_t, for the kinds a route accepts. */
#define LB_KIND(kind) (1u << (kind))

/* On the loop: 0 when the call carries the admin token; otherwise answers 401/403 and returns LB_EAUTH. */
int lb_auth_admin(lb_call_t *call);
/*
 * On the loop: 0 when the call is a signed callback (payment notify, shipping event) under secret: X-Livebuy-Timestamp
 * and X-Livebuy-Signature over the raw body (token.h); otherwise answers 401 and returns LB_EAUTH.
 */
int lb_auth_signed(lb_call_t *call, const char *secret);
/* On the loop: hashes the call's bearer token into hash; answers 401 and returns LB_EAUTH when there is none. */
int lb_auth_bearer_hash(lb_call_t *call, uint8_t hash[LB_TOKEN_HASH_SIZE]);
/* On the loop: the buyer id of the call's buyer token (API.md "Auth"); otherwise answers 401 and returns LB_EAUTH. */
int lb_auth_buyer(lb_call_t *call, int64_t *buyer_id);
/*
 * On a worker: the merchant whose token hashes to hash, if its kind is in kinds. Otherwise records a 401 or 403 answer
 * in job and returns LB_EINPUT (or an LB_EDB_* code).
 */
int lb_auth_merchant(lb_call_job_t *job, lb_db_t *db, const uint8_t hash[LB_TOKEN_HASH_SIZE], unsigned kinds,
                     lb_merchant_t *merchant);

#endif
