/* Credentials with OpenSSL: random merchant tokens kept only as hashes, HMAC-signed buyer tokens and callbacks. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "livebuy/common.h"
#include "livebuy/base/token.h"

static void to_hex(const uint8_t *bytes, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i != len; ++i) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 15];
    }
    hex[2 * len] = '\0';
}

void lb_token_random_hex(char *hex, size_t bytes)
{
    uint8_t random[64];
    assert(bytes <= sizeof(random));
    if (RAND_bytes(random, (int)bytes) != 1)
        abort(); /* no entropy: refuse to hand out guessable credentials */
    to_hex(random, bytes, hex);
}

void lb_token_merchant_new(char out[LB_MERCHANT_TOKEN_SIZE + 1])
{
    memcpy(out, "lbm_", 4);
    lb_token_random_hex(out + 4, 24);
}

void lb_token_hash(const char *token, size_t len, uint8_t hash[LB_TOKEN_HASH_SIZE])
{
    SHA256((const unsigned char *)token, len, hash);
}

int lb_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t ha[LB_TOKEN_HASH_SIZE], hb[LB_TOKEN_HASH_SIZE];
    /* Hashing first makes the comparison independent of the lengths, too. */
    lb_token_hash(a, alen, ha);
    lb_token_hash(b, blen, hb);
    return CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0 && alen == blen;
}

/*
 * HMAC-SHA256 contexts keyed once per thread and secret. OpenSSL 3's one-shot HMAC() looks the algorithms up and keys
 * the MAC on every call: some 38k instructions to check a buyer token (callgrind), which every first order of a buyer
 * paid. A keyed context is re-initialised with its key kept (EVP_MAC_init with no key) for a few thousand.
 */
#define KEYED_MACS 4 /* secrets in use: buyer, payment, shipping (and the tests' own) */
typedef struct st_keyed_mac_t {
    char *key;
    EVP_MAC_CTX *ctx;
} keyed_mac_t;
static _Thread_local keyed_mac_t keyed_macs[KEYED_MACS];
static _Thread_local unsigned next_keyed_mac;

static EVP_MAC_CTX *new_keyed_mac(const char *key)
{
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    EVP_MAC_free(hmac); /* the context holds its own reference */
    if (ctx == NULL || EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params) != 1)
        abort(); /* OpenSSL without HMAC-SHA256: nothing can be signed or checked */
    return ctx;
}

/* The calling thread's context for key, ready for a new MAC. */
static EVP_MAC_CTX *keyed_mac(const char *key)
{
    for (size_t i = 0; i != KEYED_MACS; ++i) {
        keyed_mac_t *m = &keyed_macs[i];
        if (m->key != NULL && strcmp(m->key, key) == 0) {
            if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1)
                abort();
            return m->ctx;
        }
    }
    keyed_mac_t *m = &keyed_macs[next_keyed_mac++ % KEYED_MACS];
    free(m->key);
    EVP_MAC_CTX_free(m->ctx);
    m->key = lb_strdup(key);
    m->ctx = new_keyed_mac(key);
    return m->ctx;
}

void lb_token_hmac_hex(const char *key, const void *data, size_t len, char hex[65])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    EVP_MAC_CTX *ctx = keyed_mac(key);
    if (EVP_MAC_update(ctx, data, len) != 1 || EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1)
        abort();
    to_hex(mac, mac_len, hex);
}

/* Is the hex MAC given (of given_len bytes) the expected one? In time that depends on neither's content. */
static int same_mac_hex(const char expected[65], const char *given, size_t given_len)
{
    return given_len == 64 && CRYPTO_memcmp(expected, given, 64) == 0;
}

/* Parses a decimal int64 from [p, end): digits only, at most 18 of them. */
static int parse_decimal(const char *p, const char *end, int64_t *out)
{
    if (p == end || end - p > 18)
        return -1;
    int64_t v = 0;
    for (; p != end; ++p) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

int lb_token_buyer_verify(const char *secret, const char *token, size_t len, int64_t now, int64_t *user_id, const char **why)
{
    const char *end = token + len, *user, *expiry, *sig;
    int64_t uid, exp;
    char expected[65];

    *why = "malformed buyer token";
    if (len < 3 || memcmp(token, "b1.", 3) != 0)
        return LB_EAUTH;
    user = token + 3;
    if ((expiry = memchr(user, '.', (size_t)(end - user))) == NULL ||
        (sig = memchr(expiry + 1, '.', (size_t)(end - expiry - 1))) == NULL)
        return LB_EAUTH;
    if (parse_decimal(user, expiry, &uid) != 0 || uid <= 0 || parse_decimal(expiry + 1, sig, &exp) != 0)
        return LB_EAUTH;
    lb_token_hmac_hex(secret, token, (size_t)(sig - token), expected);
    if (!same_mac_hex(expected, sig + 1, (size_t)(end - sig - 1))) {
        *why = "bad buyer token signature";
        return LB_EAUTH;
    }
    if (exp <= now) {
        *why = "buyer token expired";
        return LB_EAUTH;
    }
    *user_id = uid;
    *why = NULL;
    return 0;
}

size_t lb_token_buyer_make(const char *secret, int64_t user_id, int64_t expiry, char *out, size_t size)
{
    char hex[65];
    int n = snprintf(out, size, "b1.%lld.%lld", (long long)user_id, (long long)expiry);
    if (n < 0 || (size_t)n + 66 > size)
        return 0;
    lb_token_hmac_hex(secret, out, (size_t)n, hex);
    out[n] = '.';
    memcpy(out + n + 1, hex, 65);
    return (size_t)n + 65;
}

void lb_token_signature_hex(const char *secret, const char *timestamp, size_t timestamp_len, const void *body, size_t body_len,
                            char hex[65])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    EVP_MAC_CTX *ctx = keyed_mac(secret);
    if (EVP_MAC_update(ctx, (const unsigned char *)timestamp, timestamp_len) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 || EVP_MAC_update(ctx, body, body_len) != 1 ||
        EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1)
        abort();
    to_hex(mac, mac_len, hex);
}

int lb_token_signature_verify(const char *secret, const char *timestamp, size_t timestamp_len, const char *signature,
                              size_t signature_len, const void *body, size_t body_len, int64_t now, const char **why)
{
    static const char prefix[] = "sha256=";
    int64_t at;
    char expected[65];

    if (timestamp == NULL || signature == NULL) {
        *why = "X-Livebuy-Timestamp and X-Livebuy-Signature are required";
        return LB_EAUTH;
    }
    if (parse_decimal(timestamp, timestamp + timestamp_len, &at) != 0 || signature_len <= sizeof(prefix) - 1 ||
        memcmp(signature, prefix, sizeof(prefix) - 1) != 0) {
        *why = "malformed X-Livebuy-Timestamp or X-Livebuy-Signature";
        return LB_EAUTH;
    }
    if (at < now - LB_SIGNATURE_WINDOW || at > now + LB_SIGNATURE_WINDOW) {
        *why = "X-Livebuy-Timestamp is too far from the server clock";
        return LB_EAUTH;
    }
    lb_token_signature_hex(secret, timestamp, timestamp_len, body, body_len, expected);
    if (!same_mac_hex(expected, signature + sizeof(prefix) - 1, signature_len - (sizeof(prefix) - 1))) {
        *why = "bad signature";
        return LB_EAUTH;
    }
    *why = NULL;
    return 0;
}
