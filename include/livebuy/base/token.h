/* Credentials: merchant tokens (random, stored as SHA-256), buyer tokens (HMAC-SHA256, with expiry), signatures. */
#ifndef LIVEBUY_TOKEN_H
#define LIVEBUY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define LB_TOKEN_HASH_SIZE     32
#define LB_MERCHANT_TOKEN_SIZE 52 /* "lbm_" + 48 hex digits */

/* bytes (at most 64) random bytes from OpenSSL's generator as lower-case hex into hex (2 * bytes + 1, NUL-terminated). */
void lb_token_random_hex(char *hex, size_t bytes);
/* Makes a new random merchant token into out (LB_MERCHANT_TOKEN_SIZE + 1 bytes, NUL-terminated). */
void lb_token_merchant_new(char out[LB_MERCHANT_TOKEN_SIZE + 1]);
/* SHA-256 of a token: what the database stores and looks up. */
void lb_token_hash(const char *token, size_t len, uint8_t hash[LB_TOKEN_HASH_SIZE]);
/* Constant-time comparison of two byte strings (different lengths compare unequal, in time independent of content). */
int lb_token_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Lower-case hex HMAC-SHA256 of data under key into hex (65 bytes, NUL-terminated). */
void lb_token_hmac_hex(const char *key, const void *data, size_t len, char hex[65]);

/*
 * Signed callbacks (payment notifies, shipping pushes and events): the signature is "sha256=" followed by the lower-case
 * hex HMAC-SHA256 of "TIMESTAMP.BODY" under secret, the timestamp Unix seconds.
 */
#define LB_SIGNATURE_WINDOW 300 /* seconds a signed timestamp may be away from the clock, either way */
#define LB_SIGNATURE_SIZE   32  /* bytes of the HMAC-SHA256 */
/* The hex HMAC of "timestamp.body" into hex (65 bytes, NUL-terminated). */
void lb_token_signature_hex(const char *secret, const char *timestamp, size_t timestamp_len, const void *body, size_t body_len,
                            char hex[65]);
/*
 * Checks the raw header values of a signed callback at time now: 0, or LB_EAUTH with a reason in *why (missing or
 * malformed header, a timestamp outside the window, a wrong signature).
 */
int lb_token_signature_verify(const char *secret, const char *timestamp, size_t timestamp_len, const char *signature,
                              size_t signature_len, const void *body, size_t body_len, int64_t now, const char **why);

/*
 * Checks a buyer token "b1.USER_ID.EXPIRY.SIG" under secret at time now. Returns 0 and the user id, or LB_EAUTH with a
 * reason ("malformed", "bad signature", "expired") in *why.
 */
int lb_token_buyer_verify(const char *secret, const char *token, size_t len, int64_t now, int64_t *user_id, const char **why);
/* Makes a buyer token (for tools and tests) into out; returns its length, or 0 when out is too small. */
size_t lb_token_buyer_make(const char *secret, int64_t user_id, int64_t expiry, char *out, size_t size);

#endif
