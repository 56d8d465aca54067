/* The door (livebuy/http/door.h): refusals that come before any handler of a path, with the API's error body. */
#include "livebuy/http/door.h"
#include <assert.h>
#include <ctype.h>
#include "livebuy/base/request.h"
#include "livebuy/http/call.h"

/* Why req is refused, or NULL; sets *close when its connection must close after the answer. */
static const char *refusal(h2o_req_t *req, int *close)
{
    *close = 0;
    if (req->version < 0x200) {
        /* h2o keeps only the first Content-Length and none of the framing headers in req->headers: the head is read again
         * where h2o parsed it, at the start of the connection's input (consumed only once the answer is sent). */
        h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
        lb_request_framing_t framing;
        if (sock != NULL && sock->input != NULL) {
            lb_request_framing(sock->input->bytes, sock->input->size, &framing);
            const char *why = lb_request_framing_refusal(&framing);
            if (why != NULL) {
                *close = 1;
                return why;
            }
        }
    }
    if (lb_request_path_has_nul(req->path.base, req->path.len) ||
        memchr(req->path_normalized.base, '\0', req->path_normalized.len) != NULL)
        return "a path may not hold a NUL character (or %00)";
    return NULL;
}

typedef struct st_door_t {
    lb_http_handler_t super; /* what a call is made from (lb_call_new) */
    lb_door_files_t files;   /* what follows: a file handler takes only GET and HEAD; a folder's lists nothing */
} door_t;

/* Whether the path names the page on req's h2o path: nothing or "/" below it, or for a page of many things "/{id}" with
 * an optional trailing "/" (/shop/abc would be a shop page of no live, answered 200). */
static int names_page(h2o_req_t *req, lb_door_files_t files)
{
    h2o_iovec_t path = req->path_normalized, page = req->pathconf->path;
    assert(path.len >= page.len); /* h2o matched the page's path */
    const char *rest = path.base + page.len, *end = path.base + path.len;
    if (rest != end && *rest == '/')
        ++rest;
    if (rest == end)
        return 1;
    if (files != LB_DOOR_PAGE_ID || !isdigit((unsigned char)*rest))
        return 0;
    while (rest != end && isdigit((unsigned char)*rest))
        ++rest;
    return rest == end || (rest + 1 == end && *rest == '/');
}

static int reads_only(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    door_t *door = (door_t *)self;
    int close;
    const char *why = refusal(req, &close);
    h2o_iovec_t path = req->path_normalized;
    int page = door->files == LB_DOOR_PAGE || door->files == LB_DOOR_PAGE_ID;
    int listing = door->files == LB_DOOR_FOLDER && path.len != 0 && path.base[path.len - 1] == '/';
    int nothing = listing || (page && !names_page(req, door->files));
    if (why == NULL && !nothing && door->files == LB_DOOR_API)
        return -1; /* on to the path's next handler */
    if (why == NULL && !nothing && reads_only(req)) {
        /* h2o's file handler answers without us: the door counts what the answer holds (the photos' handler adds their
         * bytes when it sends them) */
        lb_answer_hold(req);
        return -1;
    }
    lb_call_t *call = lb_call_new(&door->super, req);
    call->route = door->super.num_routes;
    if (why == NULL && nothing) {
        /* h2o's file handler would answer a folder with a plain-text 403, and a page's file for any path below it */
        lb_reply_error(call, 404, "not_found", "no %s at %.*s", listing ? "file" : "page", (int)(path.len < 200 ? path.len : 200),
                       path.base);
        return 0;
    }
    if (why == NULL) {
        /* h2o's file handler would answer a plain-text 405 itself */
        lb_call_add_header(call, "allow", "GET, HEAD");
        lb_reply_error(call, 405, "method_not_allowed", "%.*s is not allowed here: a page is read with GET", (int)req->method.len,
                       req->method.base);
        return 0;
    }
    if (close)
        req->http1_is_persistent = 0; /* what follows in the connection is not read as another request */
    lb_reply_error(call, 400, "bad_request", "%s", why);
    return 0;
}

void lb_door_register(h2o_pathconf_t *path, const lb_config_t *config, size_t num_routes, lb_door_files_t files)
{
    door_t *door = (door_t *)h2o_create_handler(path, sizeof(*door));
    door->super.super.on_req = on_req;
    door->super.config = config;
    door->super.num_routes = num_routes;
    door->files = files;
}
