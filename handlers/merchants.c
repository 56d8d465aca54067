/* POST /v1/merchants (admin): a co-op, host or shipper, with its token shown this once. */
#include <stdio.h>
#include <string.h>
#include "livebuy/http/auth.h"
#include "livebuy/handlers.h"
#include "livebuy/store/catalog.h"

typedef struct st_merchant_create_job_t {
    lb_call_job_t super;
    char name[LB_TEXT_SIZE(200)];
    lb_merchant_kind_t kind;
    char token[LB_MERCHANT_TOKEN_SIZE + 1];
} merchant_create_job_t;

static int merchant_create_work(lb_call_job_t *super, lb_db_t *db)
{
    merchant_create_job_t *job = (merchant_create_job_t *)super;
    uint8_t hash[LB_TOKEN_HASH_SIZE];
    int64_t id;
    lb_token_hash(job->token, strlen(job->token), hash);
    int ret = lb_store_merchant_create(db, job->name, job->kind, hash, &id);
    if (ret != 0)
        return ret;
    lb_writer_t *w = lb_call_job_answer(super, 201);
    lb_writer_map(w, NULL);
    lb_writer_pack(w, "id:I,name:s,kind:s,token:s", id, job->name, lb_merchant_kinds[job->kind], job->token);
    lb_writer_end(w);
    return 0;
}

void lb_handle_merchant_create(lb_call_t *call)
{
    lb_input_error_t err = {0};
    lb_merchant_body_t merchant;
    if (lb_auth_admin(call) != 0)
        return;
    if (lb_body_merchant(call->body, &merchant, &err) != 0) {
        lb_reply_input_error(call, &err);
        return;
    }
    merchant_create_job_t *job = lb_call_job_new(call, sizeof(*job));
    snprintf(job->name, sizeof(job->name), "%s", merchant.name);
    job->kind = (lb_merchant_kind_t)merchant.kind;
    lb_token_merchant_new(job->token);
    lb_call_job_submit(&job->super, merchant_create_work);
}
