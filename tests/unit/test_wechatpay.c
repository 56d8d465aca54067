/*
 * Unit tests of WeChat Pay API v3 notifications (livebuy/base/wechatpay.h) against the worked example of docs/payments.md
 * (docs/examples/wechatpay/: a certificate, its key and a notification made with Python's cryptography package, so the
 * check here is against another implementation than OpenSSL's signer), and against every way a notification can be wrong.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/wechatpay.h"

#define EXAMPLE_TIMESTAMP 1796455801
#define EXAMPLE_NONCE     "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
#define EXAMPLE_SERIAL    "3A1F0C9E5B7D2468ACE013579BDF02468ACE1357"
#define EXAMPLE_SIGNATURE                                                                                                          \
    "Lr8p9BbzAj+hcAdzyGwm/sHJRUcPZTE49vEKrH7hW4vGQMv8tO3iRPNrlFaP5A5gwDHIJCgYu+RdUeIQ9i+HGBeeI1Y3yJDrHztqA38KNGvuUGXCVzVh1xABQ5dkl4" \
    "tAVG2EynPJq9vO+4TEHDUEDO0iYs1xyBj3hRPQSOKbr2Y1/ErtATpn1bR9j3tJPnIQQeTQjTkYRsJqeWobISz77XEGkf59WRUNS3heA1Oa5sHanqxmF2gJDF1SuQbMv" \
    "7FDHwoG5buOSMKODsKOG6LSfmQ6BIu7XcsO25zkbnpfmBIUEvkCpRFTa8Y9tiWjbJBrUvE/8mfU3AJK4W2Y2pH3Jg=="
#define EXAMPLE_APIV3_KEY "livebuyExampleApiV3Key0123456789"
#define EXAMPLE_RESOURCE_NONCE "fGfYp4sJ1RzA"
#define EXAMPLE_ASSOCIATED_DATA "transaction"

/* A certificate whose key is not RSA (P-256). */
static const char ec_cert[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBBTCBraADAgECAgEHMAoGCCqGSM49BAMCMA0xCzAJBgNVBAMMAmVjMB4XDTI2\n"
                              "MDEwMTAwMDAwMFoXDTMxMDEwMTAwMDAwMFowDTELMAkGA1UEAwwCZWMwWTATBgcq\n"
                              "hkjOPQIBBggqhkjOPQMBBwNCAASCjk5tMY/JVlO03PfiEGsIuV/BlXsvsJROAdr6\n"
                              "nHT9sbKJqjEWg4Jjlrf9+wHZ6nn2obRR8ZeSHWN6sL7kahvoMAoGCCqGSM49BAMC\n"
                              "A0cAMEQCIHlRkztVa4q9vuijpVl4WLN6m2U0nFjJUqin9WRzn946AiAqSRcBSS+p\n"
                              "bJ4ubI6O3Aso88WVwkOsETUPo20Aoc1Jng==\n"
                              "-----END CERTIFICATE-----\n";

static char *read_example(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", LB_EXAMPLES_DIR, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    char *text = lb_malloc(64 * 1024);
    *len = fread(text, 1, 64 * 1024 - 1, file);
    text[*len] = '\0';
    fclose(file);
    return text;
}

static lb_wechatpay_text_t text(const char *s)
{
    return (lb_wechatpay_text_t){s, s != NULL ? strlen(s) : 0};
}

static void test_base64(void)
{
    unsigned char out[16];
    size_t len = 99;
    CHECK(lb_wechatpay_base64_decode("", 0, out, &len) == 0 && len == 0);
    CHECK(lb_wechatpay_base64_decode("Zg==", 4, out, &len) == 0 && len == 1 && out[0] == 'f');
    CHECK(lb_wechatpay_base64_decode("Zm8=", 4, out, &len) == 0 && len == 2 && memcmp(out, "fo", 2) == 0);
    CHECK(lb_wechatpay_base64_decode("Zm9vYmFy", 8, out, &len) == 0 && len == 6 && memcmp(out, "foobar", 6) == 0);
    CHECK(lb_wechatpay_base64_decode("Zg=", 3, out, &len) == LB_EINPUT);        /* not a multiple of 4 */
    CHECK(lb_wechatpay_base64_decode("Z=g=", 4, out, &len) == LB_EINPUT);       /* padding inside */
    CHECK(lb_wechatpay_base64_decode("Zg=a", 4, out, &len) == LB_EINPUT);       /* padding not at the end */
    CHECK(lb_wechatpay_base64_decode("Zm9v\nYmFy", 9, out, &len) == LB_EINPUT); /* no line breaks */
    CHECK(lb_wechatpay_base64_decode("Zm-v", 4, out, &len) == LB_EINPUT);       /* not the URL alphabet */
    CHECK(lb_wechatpay_base64_decode("====", 4, out, &len) == LB_EINPUT);
}

static void test_certificates(void)
{
    char err[256] = "";
    lb_wechatpay_platform_t *platform = lb_wechatpay_platform_load(LB_EXAMPLES_DIR "/platform_cert.pem", err, sizeof(err));
    CHECK(platform != NULL);
    if (platform != NULL)
        CHECK(strcmp(lb_wechatpay_platform_serial(platform), EXAMPLE_SERIAL) == 0);
    lb_wechatpay_platform_free(platform);

    CHECK(lb_wechatpay_platform_load(LB_EXAMPLES_DIR "/no-such.pem", err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "cannot read");
    /* A private key is not a certificate. */
    CHECK(lb_wechatpay_platform_load(LB_EXAMPLES_DIR "/platform_key.pem", err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "not a PEM certificate");
    CHECK(lb_wechatpay_platform_parse("hello", 5, err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "not a PEM certificate");
    CHECK(lb_wechatpay_platform_parse(ec_cert, strlen(ec_cert), err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "not an RSA key");
}

/* The example notification's signed parts, body read from the example. */
static lb_wechatpay_signed_t example_notice(const char *body, size_t body_len)
{
    return (lb_wechatpay_signed_t){.serial = text(EXAMPLE_SERIAL),
                                   .timestamp = text("1796455801"),
                                   .nonce = text(EXAMPLE_NONCE),
                                   .signature = text(EXAMPLE_SIGNATURE),
                                   .body = {body, body_len}};
}

static int verify(const lb_wechatpay_platform_t *platform, const lb_wechatpay_signed_t *notice, int64_t now, const char *why_part)
{
    const char *why = NULL;
    int ret = lb_wechatpay_verify(platform, notice, now, &why);
    CHECK((ret == 0) == (why == NULL));
    CHECK(why == NULL || strlen(why) <= 64); /* WeChat Pay's limit for the message of an answer */
    if (why_part != NULL)
        CHECK_CONTAINS(why, why_part);
    return ret;
}

static void test_verify(void)
{
    char err[256];
    size_t body_len;
    char *body = read_example("notify_body.json", &body_len);
    lb_wechatpay_platform_t *platform = lb_wechatpay_platform_load(LB_EXAMPLES_DIR "/platform_cert.pem", err, sizeof(err));
    if (platform == NULL) {
        CHECK(!"the example certificate loads");
        free(body);
        return;
    }
    lb_wechatpay_signed_t notice = example_notice(body, body_len);
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP, NULL) == 0);
    /* The window: 300 seconds either way, not 301. */
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP + 300, NULL) == 0);
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP - 300, NULL) == 0);
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP + 301, "300 s off") == LB_EAUTH);
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP - 301, "300 s off") == LB_EAUTH);

    /* The serial in lower case, with leading zeros: the same certificate. Another: refused before any RSA. */
    lb_wechatpay_signed_t other = notice;
    other.serial = text("3a1f0c9e5b7d2468ace013579bdf02468ace1357");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, NULL) == 0);
    other.serial = text("003A1F0C9E5B7D2468ACE013579BDF02468ACE1357");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, NULL) == 0);
    other.serial = text("3A1F0C9E5B7D2468ACE013579BDF02468ACE1358");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "Wechatpay-Serial") == LB_EAUTH);
    other.serial = text("3A1F0C9E5B7D2468ACE013579BDF02468ACE135");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "Wechatpay-Serial") == LB_EAUTH);

    other = notice;
    other.signature_type = text(LB_WECHATPAY_SIGNATURE_TYPE);
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, NULL) == 0);
    other.signature_type = text("WECHATPAY2-SM2-WITH-SM3");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "Wechatpay-Signature-Type") == LB_EAUTH);

    /* Every header is required. */
    static const size_t required[] = {offsetof(lb_wechatpay_signed_t, serial), offsetof(lb_wechatpay_signed_t, timestamp),
                                      offsetof(lb_wechatpay_signed_t, nonce), offsetof(lb_wechatpay_signed_t, signature)};
    for (size_t i = 0; i != LB_ARRAY_SIZE(required); ++i) {
        other = notice;
        *(lb_wechatpay_text_t *)((char *)&other + required[i]) = (lb_wechatpay_text_t){NULL, 0};
        CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "is missing") == LB_EAUTH);
    }

    other = notice;
    other.timestamp = text("1796455801.0");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "Unix seconds") == LB_EAUTH);
    /* Another timestamp within the window is still another signed string. */
    other.timestamp = text("1796455802");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "does not match") == LB_EAUTH);
    other = notice;
    other.nonce = text("5K8264ILTKCH16CQ2502SI8ZNMTM67VT");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "does not match") == LB_EAUTH);
    other = notice;
    other.signature = text("not base64!");
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "not base64") == LB_EAUTH);
    char signature[] = EXAMPLE_SIGNATURE;
    signature[10] = signature[10] == 'A' ? 'B' : 'A';
    other.signature = text(signature);
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "does not match") == LB_EAUTH);

    /* One byte of the body changed, or the body cut short (its last byte, the closing brace): not what was signed. */
    other = notice;
    body[20] ^= 1;
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "does not match") == LB_EAUTH);
    body[20] ^= 1;
    other.body.len = body_len - 1;
    CHECK(verify(platform, &other, EXAMPLE_TIMESTAMP, "does not match") == LB_EAUTH);
    CHECK(verify(platform, &notice, EXAMPLE_TIMESTAMP, NULL) == 0);

    lb_wechatpay_platform_free(platform);
    free(body);
}

/* The ciphertext of the example's resource, read out of its body. */
static char *example_ciphertext(void)
{
    size_t len;
    char *body = read_example("notify_body.json", &len);
    const char *start = strstr(body, "\"ciphertext\":\"");
    CHECK(start != NULL);
    start += strlen("\"ciphertext\":\"");
    size_t n = strcspn(start, "\"");
    char *ciphertext = lb_malloc(n + 1);
    memcpy(ciphertext, start, n);
    ciphertext[n] = '\0';
    free(body);
    return ciphertext;
}

static int decrypt(const char *key, const char *nonce, const char *associated_data, const char *ciphertext, char **plain,
                   size_t *plain_len)
{
    const char *why = NULL;
    *plain = NULL;
    int ret = lb_wechatpay_decrypt(key, text(nonce), text(associated_data), text(ciphertext), plain, plain_len, &why);
    CHECK((ret == 0) == (why == NULL));
    CHECK(why == NULL || strlen(why) <= 64);
    return ret;
}

static void test_decrypt(void)
{
    size_t expected_len, plain_len;
    char *expected = read_example("resource.json", &expected_len);
    char *ciphertext = example_ciphertext();
    char *plain;

    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain, &plain_len) == 0);
    CHECK(plain != NULL && plain_len == expected_len && memcmp(plain, expected, expected_len) == 0 && plain[plain_len] == '\0');
    free(plain);

    /* The tag authenticates the ciphertext, the nonce, the associated data and the key: any change fails it. */
    CHECK(decrypt("livebuyExampleApiV3Key0123456788", EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain,
                  &plain_len) == LB_EINPUT);
    CHECK(decrypt(EXAMPLE_APIV3_KEY, "fGfYp4sJ1RzB", EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain, &plain_len) == LB_EINPUT);
    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, "refund", ciphertext, &plain, &plain_len) == LB_EINPUT);
    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, "", ciphertext, &plain, &plain_len) == LB_EINPUT);
    CHECK(decrypt(EXAMPLE_APIV3_KEY, "", EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain, &plain_len) == LB_EINPUT);
    for (size_t at = 0; at < strlen(ciphertext) - 4; at += 97) {
        char saved = ciphertext[at];
        ciphertext[at] = saved == 'A' ? 'B' : 'A';
        CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain, &plain_len) ==
              LB_EINPUT);
        CHECK(plain == NULL);
        ciphertext[at] = saved;
    }
    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, "AAAAAAAAAAAAAAAAAAAA", &plain, &plain_len) ==
          LB_EINPUT); /* 15 bytes: shorter than the tag */
    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, "not base64", &plain, &plain_len) ==
          LB_EINPUT);
    /* And the original still decrypts. */
    CHECK(decrypt(EXAMPLE_APIV3_KEY, EXAMPLE_RESOURCE_NONCE, EXAMPLE_ASSOCIATED_DATA, ciphertext, &plain, &plain_len) == 0);
    free(plain);
    free(ciphertext);
    free(expected);
}

int main(void)
{
    test_base64();
    test_certificates();
    test_verify();
    test_decrypt();
    return CHECK_RESULT("wechatpay");
}
