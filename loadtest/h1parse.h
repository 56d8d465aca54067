/*
 * livebuy-load's HTTP/1.1 reading, pure (no I/O, unit-tested): the answers the HTTP/1.1 client gets and the header
 * look-up the shipping receiver uses on the pushes it takes.
 */
#ifndef LIVEBUY_LOAD_H1PARSE_H
#define LIVEBUY_LOAD_H1PARSE_H

#include <stddef.h>

/* The longest head (status line and headers) taken; a longer one is malformed. */
#define LB_H1_HEAD_MAX (32 * 1024)

/* One answer, as lb_h1_parse_response found it at the start of its buffer. */
typedef struct st_lb_h1_response_t {
    int status;
    unsigned retry_after; /* Retry-After seconds; 0 when absent */
    int keep_alive;       /* 0: the server closes the connection after this answer */
    int chunked;          /* the body is chunked on the wire (lb_h1_response_body decodes it) */
    size_t head_len;      /* the status line and the headers, with the empty line after them */
    size_t body_len;      /* the body's length once decoded */
    size_t wire_len;      /* the whole answer's length in the buffer: the next answer starts there */
} lb_h1_response_t;

/*
 * Reads the answer at the start of data[0..len): 1 when all of it is there (*res filled), 0 when more must be read
 * first, -1 when it is not an HTTP/1.x answer with a Content-Length, a chunked body or no body.
 */
int lb_h1_parse_response(const char *data, size_t len, lb_h1_response_t *res);

/* Copies the body of the answer that lb_h1_parse_response found complete in data into out (res->body_len bytes). */
void lb_h1_response_body(const char *data, const lb_h1_response_t *res, char *out);

/*
 * The value of header name (case-insensitive) in head[0..head_len), a request's or an answer's head of CRLF-ended
 * lines: a pointer into head, its length (without surrounding blanks) in *value_len; NULL when head has no such header.
 */
const char *lb_h1_header(const char *head, size_t head_len, const char *name, size_t *value_len);

#endif
