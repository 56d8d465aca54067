/*
 * libFuzzer target for the credentials livebuy reads from requests (livebuy/base/token.h, livebuy/base/wechatpay.h):
 * buyer tokens, the generic signed callbacks' X-Livebuy-Timestamp and X-Livebuy-Signature, and WeChat Pay's signature
 * headers, base64 and resource decryption (the platform certificate and the APIv3 key of docs/examples/wechatpay).
 * The first byte picks the reader; the rest is its text, fields separated by newlines. What a reader takes is checked
 * again with OpenSSL directly (HMAC, base64, AES-GCM), so that no input is taken that the rule refuses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "livebuy/common.h"
#include "livebuy/base/token.h"
#include "livebuy/base/wechatpay.h"
#include "fuzz_check.h"

#define SECRET    "fuzz-secret-0123456789"
#define APIV3_KEY "livebuyExampleApiV3Key0123456789" /* docs/payments.md's worked example */
#define NOW       1796400000                         /* 2026-12-04: the seeds are signed for this clock */

static lb_wechatpay_platform_t *platform;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    if ((platform = lb_wechatpay_platform_load(LB_EXAMPLES_DIR "/platform_cert.pem", err, sizeof(err))) == NULL) {
        fprintf(stderr, "fuzz_token: %s\n", err);
        abort();
    }
    return 0;
}

/* The next field of [*p, end): up to a newline (taken) or the end. */
static lb_wechatpay_text_t next_field(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    lb_wechatpay_text_t field = {*p, (size_t)((nl != NULL ? nl : end) - *p)};
    *p = nl != NULL ? nl + 1 : end;
    return field;
}

/* The hex HMAC-SHA256 of a then b under SECRET, by OpenSSL's one-shot HMAC. */
static void hmac_hex(const void *a, size_t a_len, const void *b, size_t b_len, char hex[65])
{
    unsigned char mac[32];
    unsigned mac_len = 0;
    unsigned char *both = lb_malloc(a_len + b_len + 1);
    memcpy(both, a, a_len);
    memcpy(both + a_len, b, b_len);
    CHECK(HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), both, a_len + b_len, mac, &mac_len) != NULL && mac_len == 32);
    free(both);
    for (unsigned i = 0; i != mac_len; ++i)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* b1.USER.EXPIRY.SIG: taken only with SIG the HMAC of what comes before it, a user id above 0 and an expiry to come. */
static void buyer_token(const char *text, size_t len)
{
    int64_t user_id = 0;
    const char *why = NULL;
    if (lb_token_buyer_verify(SECRET, text, len, NOW, &user_id, &why) != 0) {
        CHECK(why != NULL);
        return;
    }
    const char *sig = text + len - 64;
    char hex[65];
    CHECK(len > 64 + 3 && sig[-1] == '.' && memcmp(text, "b1.", 3) == 0);
    hmac_hex(text, (size_t)(sig - 1 - text), "", 0, hex);
    CHECK(memcmp(hex, sig, 64) == 0);
    CHECK(user_id > 0 && strtoll(text + 3, NULL, 10) == user_id);
    const char *expiry = memchr(text + 3, '.', len - 3);
    CHECK(expiry != NULL && strtoll(expiry + 1, NULL, 10) > NOW);
}

/* TIMESTAMP \n SIGNATURE \n BODY */
static void signed_callback(const char *text, size_t len)
{
    const char *p = text, *end = text + len, *why = NULL;
    lb_wechatpay_text_t timestamp = next_field(&p, end), signature = next_field(&p, end);
    if (lb_token_signature_verify(SECRET, timestamp.base, timestamp.len, signature.base, signature.len, p, (size_t)(end - p), NOW,
                                  &why) != 0) {
        CHECK(why != NULL);
        return;
    }
    char ts[32], hex[65];
    CHECK(timestamp.len != 0 && timestamp.len < sizeof(ts) && signature.len == 7 + 64 && memcmp(signature.base, "sha256=", 7) == 0);
    memcpy(ts, timestamp.base, timestamp.len);
    ts[timestamp.len] = '.';
    hmac_hex(ts, timestamp.len + 1, p, (size_t)(end - p), hex);
    CHECK(memcmp(hex, signature.base + 7, 64) == 0);
    ts[timestamp.len] = '\0';
    long long at = strtoll(ts, NULL, 10);
    CHECK(at >= NOW - LB_SIGNATURE_WINDOW && at <= NOW + LB_SIGNATURE_WINDOW);
}

/* SERIAL \n TIMESTAMP \n NONCE \n SIGNATURE \n SIGNATURE-TYPE \n BODY; an empty field is an absent header. */
static void wechatpay_notice(const char *text, size_t len)
{
    const char *p = text, *end = text + len, *why = NULL;
    lb_wechatpay_signed_t notice;
    lb_wechatpay_text_t *fields[] = {&notice.serial, &notice.timestamp, &notice.nonce, &notice.signature, &notice.signature_type};
    for (size_t i = 0; i != LB_ARRAY_SIZE(fields); ++i)
        if ((*fields[i] = next_field(&p, end)).len == 0)
            fields[i]->base = NULL;
    notice.body = (lb_wechatpay_text_t){p, (size_t)(end - p)};
    if (lb_wechatpay_verify(platform, &notice, NOW, &why) != 0) {
        CHECK(why != NULL && strlen(why) <= 64);
        return;
    }
    char ts[32];
    CHECK(notice.timestamp.len != 0 && notice.timestamp.len < sizeof(ts));
    memcpy(ts, notice.timestamp.base, notice.timestamp.len);
    ts[notice.timestamp.len] = '\0';
    long long at = strtoll(ts, NULL, 10);
    CHECK(at >= NOW - LB_WECHATPAY_WINDOW && at <= NOW + LB_WECHATPAY_WINDOW);
}

/* Base64: what decodes has the input's length once encoded again, and decodes to the same bytes from there. */
static void base64(const char *text, size_t len)
{
    if (len > 4096)
        return;
    unsigned char out[3072 + 3], again[3072 + 3];
    char encoded[4096 + 4];
    size_t out_len = 0, again_len = 0;
    if (lb_wechatpay_base64_decode(text, len, out, &out_len) != 0)
        return;
    CHECK(out_len <= len / 4 * 3);
    int n = EVP_EncodeBlock((unsigned char *)encoded, out, (int)out_len);
    CHECK((size_t)n == len);
    CHECK(lb_wechatpay_base64_decode(encoded, (size_t)n, again, &again_len) == 0);
    CHECK(again_len == out_len && memcmp(again, out, out_len) == 0);
}

/* NONCE \n ASSOCIATED-DATA \n CIPHERTEXT: what decrypts encrypts back to the same ciphertext. */
static void resource(const char *text, size_t len)
{
    const char *p = text, *end = text + len, *why = NULL;
    lb_wechatpay_text_t nonce = next_field(&p, end), associated = next_field(&p, end), ciphertext = next_field(&p, end);
    char *plain = NULL;
    size_t plain_len = 0;
    if (lb_wechatpay_decrypt(APIV3_KEY, nonce, associated, ciphertext, &plain, &plain_len, &why) != 0) {
        CHECK(why != NULL && plain == NULL);
        return;
    }
    CHECK(plain[plain_len] == '\0');
    unsigned char *sealed = lb_malloc(plain_len + LB_WECHATPAY_TAG_SIZE);
    char *encoded = lb_malloc((plain_len + LB_WECHATPAY_TAG_SIZE) / 3 * 4 + 8);
    int out_len = 0, final_len = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    CHECK(ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce.len, NULL) == 1 &&
          EVP_EncryptInit_ex(ctx, NULL, NULL, (const unsigned char *)APIV3_KEY, (const unsigned char *)nonce.base) == 1 &&
          (associated.len == 0 ||
           EVP_EncryptUpdate(ctx, NULL, &out_len, (const unsigned char *)associated.base, (int)associated.len) == 1) &&
          EVP_EncryptUpdate(ctx, sealed, &out_len, (const unsigned char *)plain, (int)plain_len) == 1 &&
          EVP_EncryptFinal_ex(ctx, sealed + out_len, &final_len) == 1 &&
          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, LB_WECHATPAY_TAG_SIZE, sealed + plain_len) == 1);
    EVP_CIPHER_CTX_free(ctx);
    int n = EVP_EncodeBlock((unsigned char *)encoded, sealed, (int)(plain_len + LB_WECHATPAY_TAG_SIZE));
    unsigned char check[4096];
    size_t check_len = 0;
    /* The same bytes sealed, whatever base64 spelling the input used for them. */
    CHECK((size_t)n == ciphertext.len);
    if (ciphertext.len <= sizeof(check) / 3 * 4) {
        CHECK(lb_wechatpay_base64_decode(ciphertext.base, ciphertext.len, check, &check_len) == 0);
        CHECK(check_len == plain_len + LB_WECHATPAY_TAG_SIZE && memcmp(check, sealed, check_len) == 0);
    }
    free(encoded);
    free(sealed);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] % 5) {
    case 0:
        buyer_token(text, len);
        break;
    case 1:
        signed_callback(text, len);
        break;
    case 2:
        wechatpay_notice(text, len);
        break;
    case 3:
        base64(text, len);
        break;
    default:
        resource(text, len);
        break;
    }
    return 0;
}
