/* The blocking HTTP/1.1 client: "Connection: close", read to EOF, Content-Length or chunked bodies. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "livebuy/common.h"
#include "http1.h"

#define TIMEOUT_SECONDS 30

int lb_http1_parse_url(const char *url, lb_http1_target_t *target)
{
    const char *p = url, *colon, *end;
    if (strncmp(p, "http://", 7) != 0)
        return -1;
    p += 7;
    end = p + strcspn(p, "/");
    colon = memchr(p, ':', (size_t)(end - p));
    size_t host_len = (size_t)((colon != NULL ? colon : end) - p);
    if (host_len == 0 || host_len >= sizeof(target->host))
        return -1;
    memcpy(target->host, p, host_len);
    target->host[host_len] = '\0';
    if (colon != NULL) {
        size_t port_len = (size_t)(end - colon - 1);
        if (port_len == 0 || port_len >= sizeof(target->port) || strspn(colon + 1, "0123456789") < port_len)
            return -1;
        memcpy(target->port, colon + 1, port_len);
        target->port[port_len] = '\0';
    } else {
        strcpy(target->port, "80");
    }
    return (*end == '\0' || strcmp(end, "/") == 0) ? 0 : -1;
}

static int connect_to(const lb_http1_target_t *target, char *err, size_t err_size)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int fd = -1, ret = getaddrinfo(target->host, target->port, &hints, &res);
    if (ret != 0) {
        snprintf(err, err_size, "%s: %s", target->host, gai_strerror(ret));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
            continue;
        struct timeval tv = {TIMEOUT_SECONDS, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, err_size, "cannot connect to %s:%s: %s", target->host, target->port, strerror(errno));
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len != 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads everything until the server closes; returns a NUL-terminated buffer (the caller frees it) or NULL. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 16384;
    char *buf = lb_malloc(cap);
    *len = 0;
    for (;;) {
        if (cap - *len < 4096)
            buf = lb_realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + *len, cap - *len - 1, 0);
        if (n == 0)
            break;
        if (n < 0) {
            free(buf);
            return NULL;
        }
        *len += (size_t)n;
    }
    buf[*len] = '\0';
    return buf;
}

/* Decodes a chunked body in place; returns its length. */
static size_t unchunk(char *body, size_t len)
{
    char *in = body, *out = body, *end = body + len;
    while (in < end) {
        char *line_end;
        size_t chunk = strtoul(in, &line_end, 16);
        if ((line_end = strstr(in, "\r\n")) == NULL || chunk == 0 || chunk > (size_t)(end - line_end - 2))
            break;
        memmove(out, line_end + 2, chunk);
        out += chunk;
        in = line_end + 2 + chunk + 2;
    }
    return (size_t)(out - body);
}

int lb_http1_json(const lb_http1_target_t *target, const char *method, const char *path, const char *token, const json_t *body,
                  json_t **answer, char *err, size_t err_size)
{
    char *payload = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL, *response = NULL, head[2048];
    size_t payload_len = payload != NULL ? strlen(payload) : 0, len;
    int status = -1, fd = connect_to(target, err, err_size);
    *answer = NULL;
    if (fd < 0)
        goto Exit;
    /* no-cache: the setup and the check read what is there now, past livebuyd's public answer cache */
    int head_len = snprintf(head, sizeof(head),
                            "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\nAccept: application/json\r\n"
                            "Cache-Control: no-cache\r\n%s%s%s"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                            method, path, target->host, target->port, token != NULL ? "Authorization: Bearer " : "",
                            token != NULL ? token : "", token != NULL ? "\r\n" : "", payload_len);
    if (head_len < 0 || (size_t)head_len >= sizeof(head) || send_all(fd, head, (size_t)head_len) != 0 ||
        send_all(fd, payload != NULL ? payload : "", payload_len) != 0 || (response = read_all(fd, &len)) == NULL) {
        snprintf(err, err_size, "%s %s: %s", method, path, errno != 0 ? strerror(errno) : "request too large");
        goto Exit;
    }
    char *body_start = strstr(response, "\r\n\r\n");
    if (sscanf(response, "HTTP/1.%*d %d", &status) != 1 || body_start == NULL) {
        snprintf(err, err_size, "%s %s: not an HTTP answer", method, path);
        status = -1;
        goto Exit;
    }
    *body_start = '\0';
    body_start += 4;
    size_t body_len = len - (size_t)(body_start - response);
    if (strcasestr(response, "\r\ntransfer-encoding: chunked") != NULL)
        body_len = unchunk(body_start, body_len);
    *answer = json_loadb(body_start, body_len, 0, NULL);
Exit:
    if (fd >= 0)
        close(fd);
    free(payload);
    free(response);
    return status;
}
