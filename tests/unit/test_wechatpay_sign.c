/*
 * Unit tests of the WeChat Pay v3 request signature: a fixed vector (the example key in tests/data, also the worked
 * example of docs/payments.md, checked there with openssl by hand), a signature verified with the key's public half over
 * the exact string WeChat Pay rebuilds, and the path it covers.
 */
#include <stdlib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "check.h"
#include "livebuy/base/wechatpay_sign.h"
#include "livebuy/common.h"

#define MCHID  "1900000001"
#define SERIAL "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
#define BODY                                                                                                                       \
    "{\"transaction_id\":\"4200000001202401011234567890\",\"out_refund_no\":\"42\",\"reason\":\"buyer\",\"amount\":{\"refund\":"   \
    "5990,\"total\":5990,\"currency\":\"CNY\"}}"
#define NONCE "593BEC0C930BF1AFEB40B4A08C8FB242"
/* openssl dgst -sha256 -sign tests/data/wechatpay-merchant-example.pem message.txt | base64 -w0 (docs/payments.md). */
#define EXPECTED_SIGNATURE                                                                                                         \
    "Zqg3uKhzGJChD3v1k0DJAD+cRJbG7+mklOXlFGS+Wnr8W6G5hUURi6UM9zq8OthKHLvpyJEM+tXpf8PGdQ/Xdz5fJZsCzJ+ge9w8rMLNxieY9UtrdLm9LtmE3PYx" \
    "d+ynzwkpyV9jWOqBUmK0WdKTnnsJetJcu8hQ4SODViIozIk0wMMtsXRncZGGBFUdkqN+W+GnB/eIp7KM/kLm3n/D1hAFr+gWeV1+p74JxAciQV85DQF/HKXz5AF" \
    "fYoBKX8xsL0wvr8nfqTYUNn9y+yGIkU3DkMz+SPL+6JgtTCvcXqowpMRs6D8ixfYGz2hXXPd9fNeJ8C0mVtWOBHJ4/IkrSw=="

static char *read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return NULL;
    char *text = calloc(1, 65536);
    *len = fread(text, 1, 65535, file);
    fclose(file);
    return text;
}

/* Whether sig64 (base64) is a valid RSA-SHA256 signature of message under the public half of the PEM private key. */
static int verifies(const char *pem, size_t pem_len, const char *message, const char *sig64)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    /* Only the public half goes to the verifier, as WeChat Pay has it (from the merchant's certificate). */
    unsigned char *der = NULL;
    int der_len = i2d_PUBKEY(key, &der);
    const unsigned char *p = der;
    EVP_PKEY *public_key = d2i_PUBKEY(NULL, &p, der_len);
    unsigned char sig[512];
    int sig_len = EVP_DecodeBlock(sig, (const unsigned char *)sig64, (int)strlen(sig64));
    size_t padding = strlen(sig64) >= 2 ? (sig64[strlen(sig64) - 1] == '=') + (sig64[strlen(sig64) - 2] == '=') : 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = sig_len > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, public_key) == 1 &&
             EVP_DigestVerify(ctx, sig, (size_t)sig_len - padding, (const unsigned char *)message, strlen(message)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(public_key);
    EVP_PKEY_free(key);
    OPENSSL_free(der);
    return ok;
}

/* The value of name="..." in an Authorization header, into out. */
static int param(const char *header, const char *name, char *out, size_t size)
{
    char key[32];
    snprintf(key, sizeof(key), "%s=\"", name);
    const char *start = strstr(header, key);
    if (start == NULL)
        return 0;
    start += strlen(key);
    const char *end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size)
        return 0;
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

static void test_fixed_vector(const char *pem, size_t pem_len)
{
    char err[256], header[LB_WECHATPAY_AUTHORIZATION_SIZE];
    lb_wechatpay_merchant_t *merchant = lb_wechatpay_merchant_parse(pem, pem_len, MCHID, SERIAL, err, sizeof(err));
    CHECK(merchant != NULL);
    if (merchant == NULL)
        return;
    CHECK(lb_wechatpay_authorization(merchant, "POST", "/v3/refund/domestic/refunds", "1700000000", NONCE, BODY, strlen(BODY),
                                     header, sizeof(header)) == 0);
    CHECK(strcmp(header, "WECHATPAY2-SHA256-RSA2048 mchid=\"" MCHID "\",nonce_str=\"" NONCE "\",signature=\"" EXPECTED_SIGNATURE
                         "\",timestamp=\"1700000000\",serial_no=\"" SERIAL "\"") == 0);
    /* Too small a buffer is an error, not a cut header. */
    char small[64];
    CHECK(lb_wechatpay_authorization(merchant, "POST", "/v3/refund/domestic/refunds", "1700000000", NONCE, BODY, strlen(BODY), small,
                                     sizeof(small)) == LB_EINPUT);
    lb_wechatpay_merchant_free(merchant);
}

static void test_verified_with_public_key(const char *pem, size_t pem_len)
{
    char err[256], header[LB_WECHATPAY_AUTHORIZATION_SIZE], nonce[LB_WECHATPAY_NONCE_SIZE + 1], signature[400], timestamp[32];
    lb_wechatpay_merchant_t *merchant = lb_wechatpay_merchant_parse(pem, pem_len, MCHID, SERIAL, err, sizeof(err));
    lb_wechatpay_nonce(nonce);
    const char *body = "{\"out_refund_no\":\"7\",\"reason\":\"买家申请退款\"}";
    CHECK(lb_wechatpay_authorization(merchant, "POST", "/v3/refund/domestic/refunds?x=1", "1733390000", nonce, body, strlen(body),
                                     header, sizeof(header)) == 0);
    CHECK(param(header, "signature", signature, sizeof(signature)));
    CHECK(param(header, "timestamp", timestamp, sizeof(timestamp)) && strcmp(timestamp, "1733390000") == 0);
    char message[512];
    snprintf(message, sizeof(message), "POST\n/v3/refund/domestic/refunds?x=1\n1733390000\n%s\n%s\n", nonce, body);
    CHECK(verifies(pem, pem_len, message, signature));
    /* The check can fail: another body, path or nonce is not what was signed. */
    snprintf(message, sizeof(message), "POST\n/v3/refund/domestic/refunds?x=1\n1733390000\n%s\n%s \n", nonce, body);
    CHECK(!verifies(pem, pem_len, message, signature));
    snprintf(message, sizeof(message), "POST\n/v3/refund/domestic/refunds\n1733390000\n%s\n%s\n", nonce, body);
    CHECK(!verifies(pem, pem_len, message, signature));
    lb_wechatpay_merchant_free(merchant);
}

static void test_nonce(void)
{
    char a[LB_WECHATPAY_NONCE_SIZE + 1], b[LB_WECHATPAY_NONCE_SIZE + 1];
    lb_wechatpay_nonce(a);
    lb_wechatpay_nonce(b);
    CHECK(strlen(a) == LB_WECHATPAY_NONCE_SIZE && strspn(a, "0123456789ABCDEF") == LB_WECHATPAY_NONCE_SIZE);
    CHECK(strcmp(a, b) != 0);
}

static void test_url_path(void)
{
    CHECK(strcmp(lb_wechatpay_url_path("https://api.mch.weixin.qq.com/v3/refund/domestic/refunds"), "/v3/refund/domestic/refunds") == 0);
    CHECK(strcmp(lb_wechatpay_url_path("http://127.0.0.1:8080/refunds?sandbox=1"), "/refunds?sandbox=1") == 0);
    CHECK(strcmp(lb_wechatpay_url_path("http://example.com"), "/") == 0);
    CHECK(strcmp(lb_wechatpay_url_path("http://example.com?a=b"), "/") == 0);
}

static void test_bad_keys(void)
{
    char err[256];
    CHECK(lb_wechatpay_merchant_parse("not a key", 9, MCHID, SERIAL, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "not a PEM private key");
    CHECK(lb_wechatpay_merchant_load("/nonexistent/key.pem", MCHID, SERIAL, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "cannot read /nonexistent/key.pem");
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL);
    char *pem;
    long len = BIO_get_mem_data(bio, &pem);
    CHECK(lb_wechatpay_merchant_parse(pem, (size_t)len, MCHID, SERIAL, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "not an RSA key");
    BIO_free(bio);
    EVP_PKEY_free(ec);
}

int main(void)
{
    size_t pem_len = 0;
    char *pem = read_file(LB_TEST_DATA_DIR "/wechatpay-merchant-example.pem", &pem_len);
    CHECK(pem != NULL);
    if (pem != NULL) {
        test_fixed_vector(pem, pem_len);
        test_verified_with_public_key(pem, pem_len);
    }
    free(pem);
    test_nonce();
    test_url_path();
    test_bad_keys();
    return CHECK_RESULT("wechatpay_sign");
}
