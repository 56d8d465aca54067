/* Signing livebuy's own requests to WeChat Pay API v3 with the merchant's key (livebuy/base/wechatpay_sign.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include "livebuy/base/wechatpay_sign.h"
#include "livebuy/common.h"

#define RSA_SIGNATURE_MAX 512 /* bytes: an RSA-4096 signature; WeChat Pay's keys are RSA-2048 */

struct st_lb_wechatpay_merchant_t {
    EVP_PKEY *key;
    char *mchid, *serial;
};

static lb_wechatpay_merchant_t *merchant_new(EVP_PKEY *key, const char *mchid, const char *serial, char *err, size_t errsize)
{
    if (key == NULL) {
        snprintf(err, errsize, "not a PEM private key");
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        snprintf(err, errsize, "the key is not an RSA key (WECHATPAY2-SHA256-RSA2048 signs with RSA)");
        return NULL;
    }
    lb_wechatpay_merchant_t *merchant = lb_calloc(1, sizeof(*merchant));
    merchant->key = key;
    merchant->mchid = lb_strdup(mchid);
    merchant->serial = lb_strdup(serial);
    return merchant;
}

lb_wechatpay_merchant_t *lb_wechatpay_merchant_parse(const char *pem, size_t len, const char *mchid, const char *serial, char *err,
                                                     size_t errsize)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    return merchant_new(key, mchid, serial, err, errsize);
}

lb_wechatpay_merchant_t *lb_wechatpay_merchant_load(const char *key_path, const char *mchid, const char *serial, char *err,
                                                    size_t errsize)
{
    FILE *file = fopen(key_path, "r");
    if (file == NULL) {
        snprintf(err, errsize, "cannot read %s", key_path);
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    fclose(file);
    lb_wechatpay_merchant_t *merchant = merchant_new(key, mchid, serial, err, errsize);
    if (merchant == NULL) {
        char reason[200];
        snprintf(reason, sizeof(reason), "%s", err);
        snprintf(err, errsize, "%s: %s", key_path, reason);
    }
    return merchant;
}

void lb_wechatpay_merchant_free(lb_wechatpay_merchant_t *merchant)
{
    if (merchant == NULL)
        return;
    EVP_PKEY_free(merchant->key);
    free(merchant->mchid);
    free(merchant->serial);
    free(merchant);
}

void lb_wechatpay_nonce(char nonce[LB_WECHATPAY_NONCE_SIZE + 1])
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char random[LB_WECHATPAY_NONCE_SIZE / 2];
    if (RAND_bytes(random, sizeof(random)) != 1)
        abort(); /* no entropy: a guessable nonce would let a request be replayed */
    for (size_t i = 0; i != sizeof(random); ++i) {
        nonce[2 * i] = digits[random[i] >> 4];
        nonce[2 * i + 1] = digits[random[i] & 15];
    }
    nonce[LB_WECHATPAY_NONCE_SIZE] = '\0';
}

const char *lb_wechatpay_url_path(const char *url)
{
    const char *authority = strstr(url, "://");
    authority = authority != NULL ? authority + 3 : url;
    const char *path = authority + strcspn(authority, "/?#");
    return *path == '/' ? path : "/";
}

/* RSA-SHA256 (PKCS #1 v1.5) of message under key into sig; its length, or 0 when OpenSSL fails. */
static size_t rsa_sha256(EVP_PKEY *key, const unsigned char *message, size_t len, unsigned char *sig, size_t sig_size)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = sig_size;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, sig, &sig_len, message, len) != 1)
        sig_len = 0;
    EVP_MD_CTX_free(ctx);
    return sig_len;
}

int lb_wechatpay_authorization(const lb_wechatpay_merchant_t *merchant, const char *method, const char *path, const char *timestamp,
                               const char *nonce, const void *body, size_t body_len, char *out, size_t outsize)
{
    size_t head_len = strlen(method) + strlen(path) + strlen(timestamp) + strlen(nonce) + 4;
    unsigned char *message = lb_malloc(head_len + body_len + 2), sig[RSA_SIGNATURE_MAX];
    /* The body goes in by length: it is bytes, not a C string. */
    int written = snprintf((char *)message, head_len + 1, "%s\n%s\n%s\n%s\n", method, path, timestamp, nonce);
    memcpy(message + written, body, body_len);
    message[written + body_len] = '\n';
    size_t sig_len = rsa_sha256(merchant->key, message, (size_t)written + body_len + 1, sig, sizeof(sig));
    free(message);
    if (sig_len == 0)
        return LB_EINPUT;
    char sig64[4 * ((RSA_SIGNATURE_MAX + 2) / 3) + 1];
    EVP_EncodeBlock((unsigned char *)sig64, sig, (int)sig_len);
    int n = snprintf(out, outsize,
                     "WECHATPAY2-SHA256-RSA2048 mchid=\"%s\",nonce_str=\"%s\",signature=\"%s\",timestamp=\"%s\",serial_no=\"%s\"",
                     merchant->mchid, nonce, sig64, timestamp, merchant->serial);
    return n > 0 && (size_t)n < outsize ? 0 : LB_EINPUT;
}
