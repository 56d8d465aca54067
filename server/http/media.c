/* The product photos served from --media-dir: names checked, files read on a worker, immutable answers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "livebuy/common.h"
#include "livebuy/base/log.h"
#include "livebuy/http/answer.h"
#include "livebuy/http/media.h"
#include "livebuy/store/media.h"

/* A name is a hash of its bytes: what is served under it never changes. */
#define CACHE_CONTROL "public, max-age=31536000, immutable"
/* A file bigger than any upload is not one of ours. */
#define MEDIA_FILE_MAX (LB_IMAGE_MAX_BYTES + 1)

typedef struct st_media_handler_t {
    h2o_handler_t super;
    const char *dir;
} media_handler_t;

/*
 * One file read on the thread pool for one request. Freed when both the read is done and h2o has let go of the request
 * (refs), whichever comes last: req is NULL once the client has gone.
 */
typedef struct st_media_read_t {
    uv_work_t uv;
    h2o_req_t *req;
    unsigned refs;
    char path[4096];
    lb_image_type_t type;
    char etag[LB_IMAGE_HASH_SIZE + 2]; /* the hash in quotes */
    char *bytes;
    size_t len;
    int error; /* errno of the read, or 0 */
} media_read_t;

static void reply_error(h2o_req_t *req, int status, const char *reason, const char *code, const char *message)
{
    char body[256];
    int len = snprintf(body, sizeof(body), "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);
    req->res.status = status;
    req->res.reason = reason;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    lb_body_t *answer = lb_body_copy(body, (size_t)len);
    lb_answer_send(req, answer);
    lb_body_release(answer);
}

static void read_release(media_read_t *read)
{
    if (--read->refs != 0)
        return;
    free(read->bytes);
    free(read);
}

static void on_request_disposed(void *p)
{
    media_read_t *read = *(media_read_t **)p;
    read->req = NULL;
    read_release(read);
}

/* On a worker: the whole file into memory (at most MEDIA_FILE_MAX bytes). */
static void read_work(uv_work_t *uv)
{
    media_read_t *read = H2O_STRUCT_FROM_MEMBER(media_read_t, uv, uv);
    struct stat st;
    int fd = open(read->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        read->error = errno;
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MEDIA_FILE_MAX) {
        read->error = EINVAL;
        goto Exit;
    }
    read->bytes = lb_malloc((size_t)st.st_size + 1);
    while (read->len < (size_t)st.st_size) {
        ssize_t n = pread(fd, read->bytes + read->len, (size_t)st.st_size - read->len, (off_t)read->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            read->error = n < 0 ? errno : EIO;
            break;
        }
        read->len += (size_t)n;
    }
Exit:
    close(fd);
}

static void add_cache_headers(h2o_req_t *req, const media_read_t *read)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, read->etag, strlen(read->etag));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT(CACHE_CONTROL));
}

/* On the loop: the file's answer, if the client is still there. */
static void read_done(uv_work_t *uv, int status)
{
    media_read_t *read = H2O_STRUCT_FROM_MEMBER(media_read_t, uv, uv);
    h2o_req_t *req = read->req;
    if (req == NULL) {
    } else if (read->error == ENOENT || read->error == ENOTDIR) {
        reply_error(req, 404, "Not Found", "not_found", "no such photo");
    } else if (read->error != 0 || status != 0) {
        lb_log(LB_LOG_ERROR, "media: cannot read %s: %s", read->path, strerror(read->error != 0 ? read->error : EIO));
        reply_error(req, 500, "Internal Server Error", "internal", "internal error (logged)");
    } else {
        const char *type = lb_image_media_type(read->type);
        req->res.status = 200;
        req->res.reason = "OK";
        req->res.content_length = read->len;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
        add_cache_headers(req, read);
        lb_body_t *body = lb_body_adopt(read->bytes, read->len);
        read->bytes = NULL;
        lb_answer_send(req, body);
        lb_body_release(body);
    }
    read_release(read);
}

/*
 * Does If-None-Match name etag? The name is the content's hash: a client that names it holds those bytes. "*" (any
 * copy at all) is not taken on the name alone: the photo may not exist, and a 304 would tell the client to keep
 * a photo for a year that is not there; it is read, and a missing one is a 404.
 */
static int not_modified(h2o_req_t *req, const char *etag)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, -1);
    if (i < 0)
        return 0;
    h2o_iovec_t value = req->headers.entries[i].value;
    return h2o_strstr(value.base, value.len, etag, strlen(etag)) != SIZE_MAX;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    media_handler_t *handler = (media_handler_t *)self;
    h2o_iovec_t prefix = req->pathconf->path, path = req->path_normalized;
    char hash[LB_IMAGE_HASH_SIZE];
    lb_image_type_t type;

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        reply_error(req, 405, "Method Not Allowed", "method_not_allowed", "photos are read with GET");
        return 0;
    }
    /* path_normalized has no "..": a name here is the "ab/hash.ext" of a photo or nothing. */
    if (path.len <= prefix.len + 1 || path.base[prefix.len] != '/' ||
        lb_media_name_parse(path.base + prefix.len + 1, path.len - prefix.len - 1, &type, hash) != 0) {
        reply_error(req, 404, "Not Found", "not_found", "no such photo");
        return 0;
    }
    media_read_t *read = lb_calloc(1, sizeof(*read));
    read->req = req;
    read->type = type;
    snprintf(read->etag, sizeof(read->etag), "\"%s\"", hash);
    if (not_modified(req, read->etag)) {
        req->res.status = 304;
        req->res.reason = "Not Modified";
        add_cache_headers(req, read);
        lb_answer_send(req, NULL);
        free(read);
        return 0;
    }
    snprintf(read->path, sizeof(read->path), "%s/%.*s", handler->dir, (int)(path.len - prefix.len - 1), path.base + prefix.len + 1);
    read->refs = 2; /* the read and the request */
    media_read_t **guard = h2o_mem_alloc_shared(&req->pool, sizeof(*guard), on_request_disposed);
    *guard = read;
    uv_queue_work(req->conn->ctx->loop, &read->uv, read_work, read_done);
    return 0;
}

void lb_media_register(h2o_pathconf_t *path, const char *dir)
{
    media_handler_t *handler = (media_handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->dir = dir;
}
