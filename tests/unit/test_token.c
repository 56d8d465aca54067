/* Unit tests of credentials: merchant tokens and hashes, buyer tokens (API.md "Auth"). */
#include <stdio.h>
#include <stdlib.h>
#include "check.h"
#include "livebuy/common.h"
#include "livebuy/base/token.h"

#define SECRET "test-buyer-secret-0123"

static void test_merchant_tokens(void)
{
    char a[LB_MERCHANT_TOKEN_SIZE + 1], b[LB_MERCHANT_TOKEN_SIZE + 1];
    uint8_t ha[LB_TOKEN_HASH_SIZE], hb[LB_TOKEN_HASH_SIZE];
    lb_token_merchant_new(a);
    lb_token_merchant_new(b);
    CHECK(strlen(a) == LB_MERCHANT_TOKEN_SIZE && strncmp(a, "lbm_", 4) == 0);
    CHECK(strcmp(a, b) != 0);
    lb_token_hash(a, strlen(a), ha);
    lb_token_hash(b, strlen(b), hb);
    CHECK(memcmp(ha, hb, sizeof(ha)) != 0);
    CHECK(lb_token_equal("abc", 3, "abc", 3));
    CHECK(!lb_token_equal("abc", 3, "abd", 3));
    CHECK(!lb_token_equal("abc", 3, "abcd", 4));
}

static void test_hmac_vector(void)
{
    /* RFC 4231 test case 2. */
    char hex[65];
    lb_token_hmac_hex("Jefe", "what do ya want for nothing?", 28, hex);
    CHECK(strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0);
}

/* More secrets than the contexts a thread keeps keyed: each MAC is still made under its own key, and the same again. */
static void test_hmac_many_secrets(void)
{
    char first[6][65], again[65], key[16];
    for (int i = 0; i != 6; ++i) {
        snprintf(key, sizeof(key), "secret-%d", i);
        lb_token_hmac_hex(key, "text", 4, first[i]);
        for (int j = 0; j != i; ++j)
            CHECK(strcmp(first[i], first[j]) != 0);
    }
    for (int i = 5; i >= 0; --i) {
        snprintf(key, sizeof(key), "secret-%d", i);
        lb_token_hmac_hex(key, "text", 4, again);
        CHECK(strcmp(again, first[i]) == 0);
    }
    lb_token_hmac_hex("Jefe", "what do ya want for nothing?", 28, again);
    CHECK(strcmp(again, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") == 0);
    /* A signature is the MAC of "TIMESTAMP.BODY", however it is fed in. */
    lb_token_signature_hex("Jefe", "what do ya", 10, "want for nothing?", 17, again);
    lb_token_hmac_hex("Jefe", "what do ya.want for nothing?", 28, first[0]);
    CHECK(strcmp(again, first[0]) == 0);
}

static void test_buyer_tokens(void)
{
    char token[160];
    int64_t user = 0;
    const char *why;
    size_t len = lb_token_buyer_make(SECRET, 1001, 2000000000, token, sizeof(token));
    CHECK(len == strlen(token) && strncmp(token, "b1.1001.2000000000.", 19) == 0);
    CHECK(lb_token_buyer_verify(SECRET, token, len, 1900000000, &user, &why) == 0 && user == 1001);

    CHECK(lb_token_buyer_verify(SECRET, token, len, 2000000000, &user, &why) == LB_EAUTH);
    CHECK_CONTAINS(why, "expired");
    CHECK(lb_token_buyer_verify("another-secret-0123456", token, len, 1900000000, &user, &why) == LB_EAUTH);
    CHECK_CONTAINS(why, "signature");

    char forged[160];
    memcpy(forged, token, len + 1);
    forged[3] = '2'; /* b1.2001...: another user with the first one's signature */
    CHECK(lb_token_buyer_verify(SECRET, forged, len, 1900000000, &user, &why) == LB_EAUTH);
    memcpy(forged, token, len + 1);
    forged[len - 1] = forged[len - 1] == 'a' ? 'b' : 'a';
    CHECK(lb_token_buyer_verify(SECRET, forged, len, 1900000000, &user, &why) == LB_EAUTH);

    static const char *const malformed[] = {"",
                                            "b1.",
                                            "b2.1.2.abc",
                                            "b1.x.2.abc",
                                            "b1.1.2",
                                            "b1.0.2000000000.00",
                                            "b1.-1.2000000000.00",
                                            "b1.1.99999999999999999999.00"};
    for (size_t i = 0; i != sizeof(malformed) / sizeof(malformed[0]); ++i)
        CHECK(lb_token_buyer_verify(SECRET, malformed[i], strlen(malformed[i]), 0, &user, &why) == LB_EAUTH);
}

static void test_signatures(void)
{
    static const char body[] = "{\"order_id\":1}", ts[] = "1900000000";
    char hex[65], header[80];
    const char *why;
    lb_token_signature_hex(SECRET, ts, strlen(ts), body, strlen(body), hex);
    snprintf(header, sizeof(header), "sha256=%s", hex);
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), header, strlen(header), body, strlen(body), 1900000000, &why) == 0);
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), header, strlen(header), body, strlen(body), 1900000300, &why) == 0);
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), header, strlen(header), body, strlen(body), 1900000301, &why) ==
          LB_EAUTH);
    CHECK_CONTAINS(why, "clock");
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), header, strlen(header), body, strlen(body), 1899999699, &why) ==
          LB_EAUTH);
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), header, strlen(header), body, strlen(body) - 1, 1900000000, &why) ==
          LB_EAUTH);
    CHECK_CONTAINS(why, "signature");
    CHECK(lb_token_signature_verify(SECRET, NULL, 0, header, strlen(header), body, strlen(body), 1900000000, &why) == LB_EAUTH);
    CHECK(lb_token_signature_verify(SECRET, ts, strlen(ts), hex, 64, body, strlen(body), 1900000000, &why) == LB_EAUTH);
    CHECK(lb_token_signature_verify(SECRET, "19e8", 4, header, strlen(header), body, strlen(body), 1900000000, &why) == LB_EAUTH);
}

int main(void)
{
    test_merchant_tokens();
    test_hmac_vector();
    test_hmac_many_secrets();
    test_buyer_tokens();
    test_signatures();
    return CHECK_RESULT("token");
}
