/* WeChat Pay API v3 notifications with OpenSSL: the platform certificate, the signature check, the resource's decryption. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "livebuy/common.h"
#include "livebuy/base/wechatpay.h"

struct st_lb_wechatpay_platform_t {
    EVP_PKEY *key;
    char *serial;
};

static void fail(char *err, size_t errsize, const char *what)
{
    unsigned long code = ERR_get_error();
    const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;
    snprintf(err, errsize, "%s%s%s", what, reason != NULL ? ": " : "", reason != NULL ? reason : "");
    ERR_clear_error();
}

/* The serial in upper-case hex without leading zeros ("0" for zero), from malloc. */
static char *serial_hex(const X509 *cert)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL)
        return NULL;
    const char *digits = hex;
    while (digits[0] == '0' && digits[1] != '\0')
        ++digits;
    char *serial = lb_strdup(digits);
    OPENSSL_free(hex);
    return serial;
}

lb_wechatpay_platform_t *lb_wechatpay_platform_parse(const char *pem, size_t len, char *err, size_t errsize)
{
    lb_wechatpay_platform_t *platform = NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    if (cert == NULL) {
        fail(err, errsize, "not a PEM certificate");
        goto Exit;
    }
    EVP_PKEY *key = X509_get_pubkey(cert);
    if (key == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        fail(err, errsize, "the certificate's key is not an RSA key");
        goto Exit;
    }
    char *serial = serial_hex(cert);
    if (serial == NULL) {
        EVP_PKEY_free(key);
        fail(err, errsize, "the certificate has no readable serial number");
        goto Exit;
    }
    platform = lb_malloc(sizeof(*platform));
    platform->key = key;
    platform->serial = serial;
Exit:
    X509_free(cert);
    BIO_free(bio);
    return platform;
}

lb_wechatpay_platform_t *lb_wechatpay_platform_load(const char *path, char *err, size_t errsize)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(err, errsize, "cannot read %s", path);
        return NULL;
    }
    char pem[64 * 1024];
    size_t len = fread(pem, 1, sizeof(pem), file);
    int too_long = len == sizeof(pem);
    fclose(file);
    if (too_long) {
        snprintf(err, errsize, "%s is larger than a certificate (64 KiB or more)", path);
        return NULL;
    }
    char why[256];
    lb_wechatpay_platform_t *platform = lb_wechatpay_platform_parse(pem, len, why, sizeof(why));
    if (platform == NULL)
        snprintf(err, errsize, "%s: %s", path, why);
    return platform;
}

void lb_wechatpay_platform_free(lb_wechatpay_platform_t *platform)
{
    if (platform == NULL)
        return;
    EVP_PKEY_free(platform->key);
    free(platform->serial);
    free(platform);
}

const char *lb_wechatpay_platform_serial(const lb_wechatpay_platform_t *platform)
{
    return platform->serial;
}

int lb_wechatpay_base64_decode(const char *text, size_t len, unsigned char *out, size_t *out_len)
{
    if (len % 4 != 0 || len > INT32_MAX)
        return LB_EINPUT;
    size_t padding = 0;
    for (size_t i = 0; i != len; ++i) {
        char c = text[i];
        if (c == '=') {
            /* only at the end, at most two */
            if (i < len - 2 || (i == len - 2 && text[len - 1] != '='))
                return LB_EINPUT;
            ++padding;
        } else if (!isalnum((unsigned char)c) && c != '+' && c != '/') {
            return LB_EINPUT;
        }
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)len);
    if (n < 0)
        return LB_EINPUT;
    *out_len = (size_t)n - padding; /* EVP_DecodeBlock counts the padding's bytes as zeros */
    return 0;
}

/* The serials equal as hex numbers written in either case, leading zeros aside. */
static int same_serial(lb_wechatpay_text_t given, const char *serial)
{
    while (given.len > 1 && given.base[0] == '0') {
        ++given.base;
        --given.len;
    }
    return given.len == strlen(serial) && strncasecmp(given.base, serial, given.len) == 0;
}

/* Parses Wechatpay-Timestamp: Unix seconds, 1 to 18 decimal digits. */
static int parse_timestamp(lb_wechatpay_text_t text, int64_t *out)
{
    if (text.len == 0 || text.len > 18)
        return LB_EINPUT;
    int64_t v = 0;
    for (size_t i = 0; i != text.len; ++i) {
        if (text.base[i] < '0' || text.base[i] > '9')
            return LB_EINPUT;
        v = v * 10 + (text.base[i] - '0');
    }
    *out = v;
    return 0;
}

/* Whether signature (raw bytes) is the key's RSA-SHA256 signature of "timestamp\nnonce\nbody\n". */
static int signature_matches(EVP_PKEY *key, const lb_wechatpay_signed_t *notice, const unsigned char *signature, size_t len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerifyUpdate(ctx, notice->timestamp.base, notice->timestamp.len) == 1 &&
             EVP_DigestVerifyUpdate(ctx, "\n", 1) == 1 && EVP_DigestVerifyUpdate(ctx, notice->nonce.base, notice->nonce.len) == 1 &&
             EVP_DigestVerifyUpdate(ctx, "\n", 1) == 1 &&
             (notice->body.len == 0 || EVP_DigestVerifyUpdate(ctx, notice->body.base, notice->body.len) == 1) &&
             EVP_DigestVerifyUpdate(ctx, "\n", 1) == 1 && EVP_DigestVerifyFinal(ctx, signature, len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* a wrong signature leaves OpenSSL's reasons on this thread's queue */
    return ok;
}

int lb_wechatpay_verify(const lb_wechatpay_platform_t *platform, const lb_wechatpay_signed_t *notice, int64_t now, const char **why)
{
    int64_t timestamp;
    if (notice->serial.len == 0 || notice->timestamp.len == 0 || notice->nonce.len == 0 || notice->signature.len == 0) {
        *why = "a Wechatpay-Serial/Timestamp/Nonce/Signature header is missing";
        return LB_EAUTH;
    }
    if (notice->signature_type.len != 0 &&
        (notice->signature_type.len != strlen(LB_WECHATPAY_SIGNATURE_TYPE) ||
         memcmp(notice->signature_type.base, LB_WECHATPAY_SIGNATURE_TYPE, notice->signature_type.len) != 0)) {
        *why = "Wechatpay-Signature-Type must be " LB_WECHATPAY_SIGNATURE_TYPE;
        return LB_EAUTH;
    }
    if (!same_serial(notice->serial, platform->serial)) {
        *why = "Wechatpay-Serial is not the platform certificate's serial";
        return LB_EAUTH;
    }
    if (parse_timestamp(notice->timestamp, &timestamp) != 0) {
        *why = "Wechatpay-Timestamp must be Unix seconds";
        return LB_EAUTH;
    }
    if (timestamp < now - LB_WECHATPAY_WINDOW || timestamp > now + LB_WECHATPAY_WINDOW) {
        *why = "Wechatpay-Timestamp is more than 300 s off livebuy's clock";
        return LB_EAUTH;
    }
    /* An RSA-2048 signature is 256 bytes (344 base64 characters); room for keys up to 8192 bits. */
    unsigned char signature[1024];
    size_t len;
    if (notice->signature.len > sizeof(signature) / 3 * 4 ||
        lb_wechatpay_base64_decode(notice->signature.base, notice->signature.len, signature, &len) != 0) {
        *why = "Wechatpay-Signature is not base64";
        return LB_EAUTH;
    }
    if (!signature_matches(platform->key, notice, signature, len)) {
        *why = "Wechatpay-Signature does not match the platform certificate";
        return LB_EAUTH;
    }
    return 0;
}

int lb_wechatpay_decrypt(const char *key, lb_wechatpay_text_t nonce, lb_wechatpay_text_t associated_data,
                         lb_wechatpay_text_t ciphertext, char **plain, size_t *plain_len, const char **why)
{
    if (nonce.len == 0 || nonce.len > 128) {
        *why = "resource.nonce must be 1 to 128 bytes (WeChat Pay sends 12)";
        return LB_EINPUT;
    }
    if (associated_data.len > INT32_MAX || ciphertext.len > INT32_MAX) {
        *why = "resource is too large";
        return LB_EINPUT;
    }
    unsigned char *sealed = lb_malloc(ciphertext.len / 4 * 3 + 1);
    char *out = NULL;
    size_t sealed_len;
    int ret = LB_EINPUT, len = 0, final_len = 0;
    if (lb_wechatpay_base64_decode(ciphertext.base, ciphertext.len, sealed, &sealed_len) != 0) {
        *why = "resource.ciphertext is not base64";
        goto Exit;
    }
    if (sealed_len < LB_WECHATPAY_TAG_SIZE) {
        *why = "resource.ciphertext is shorter than its 16-byte tag";
        goto Exit;
    }
    size_t text_len = sealed_len - LB_WECHATPAY_TAG_SIZE;
    out = lb_malloc(text_len + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)nonce.len, NULL) == 1 &&
             EVP_DecryptInit_ex(ctx, NULL, NULL, (const unsigned char *)key, (const unsigned char *)nonce.base) == 1 &&
             (associated_data.len == 0 ||
              EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)associated_data.base, (int)associated_data.len) == 1) &&
             EVP_DecryptUpdate(ctx, (unsigned char *)out, &len, sealed, (int)text_len) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, LB_WECHATPAY_TAG_SIZE, sealed + text_len) == 1 &&
             EVP_DecryptFinal_ex(ctx, (unsigned char *)out + len, &final_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    if (!ok) {
        *why = "resource does not decrypt: changed, or another APIv3 key";
        goto Exit;
    }
    out[len + final_len] = '\0';
    *plain = out;
    *plain_len = (size_t)(len + final_len);
    out = NULL;
    ret = 0;
Exit:
    free(out);
    free(sealed);
    return ret;
}
