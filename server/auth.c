/* Authentication for handlers: one place that decides 401 (who are you?) versus 403 (not you). */
#include <string.h>
#include "livebuy/auth.h"
#include "livebuy/common.h"

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
        return LB_EAUTH;
    }
    if (!lb_token_equal(token.base, token.len, admin, strlen(admin))) {
        lb_reply_error(call, 401, "unauthorized", "wrong admin token");
        return LB_EAUTH;
    }
    return 0;
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
    if (ret < 0)
        return ret;
    if (ret == 0)
        return lb_call_job_fail(job, 401, "unauthorized", "unknown merchant token");
    if ((LB_KIND(merchant->kind) & kinds) == 0)
        return lb_call_job_fail(job, 403, "forbidden", "a %s merchant may not do this", lb_merchant_kinds[merchant->kind]);
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
    if (lb_token_buyer_verify(call->config->buyer_secret, token.base, token.len, lb_now(), buyer_id, &why) != 0) {
        lb_reply_error(call, 401, "unauthorized", "%s", why);
        return LB_EAUTH;
    }
    return 0;
}
