/*
 * WeChat Pay API v3 notifications (docs/payments.md "WeChat Pay API v3"): the platform certificate that signs them, the
 * check of a notification's signature headers, and the decryption of its resource. OpenSSL does the crypto; nothing here
 * does I/O but reading the certificate's file.
 */
#ifndef LIVEBUY_WECHATPAY_H
#define LIVEBUY_WECHATPAY_H

#include <stddef.h>
#include <stdint.h>

#define LB_WECHATPAY_WINDOW         300 /* seconds Wechatpay-Timestamp may be away from the clock, either way */
#define LB_WECHATPAY_APIV3_KEY_SIZE 32  /* bytes of the APIv3 key: the AES-256 key itself */
#define LB_WECHATPAY_TAG_SIZE       16  /* bytes of the GCM tag at the end of a resource's ciphertext */
#define LB_WECHATPAY_SIGNATURE_TYPE "WECHATPAY2-SHA256-RSA2048"

/*
 * WeChat Pay's platform certificate: its RSA public key and its serial number. Loaded once at start and read-only after,
 * so every loop thread may use it at once. Owned by whoever loaded it (lb_wechatpay_platform_free).
 */
typedef struct st_lb_wechatpay_platform_t lb_wechatpay_platform_t;

/* Reads a PEM certificate with an RSA key from a file, or from len bytes of PEM text; NULL with a reason in err. */
lb_wechatpay_platform_t *lb_wechatpay_platform_load(const char *path, char *err, size_t errsize);
lb_wechatpay_platform_t *lb_wechatpay_platform_parse(const char *pem, size_t len, char *err, size_t errsize);
void lb_wechatpay_platform_free(lb_wechatpay_platform_t *platform);
/* The certificate's serial number in upper-case hex without leading zeros (what Wechatpay-Serial names). */
const char *lb_wechatpay_platform_serial(const lb_wechatpay_platform_t *platform);

/* Bytes that are not NUL-terminated: a header's value, a body. base NULL (len 0) for one that is absent. */
typedef struct st_lb_wechatpay_text_t {
    const char *base;
    size_t len;
} lb_wechatpay_text_t;

/* What a notification's signature covers and says: its Wechatpay-* headers and its raw body. */
typedef struct st_lb_wechatpay_signed_t {
    lb_wechatpay_text_t serial, timestamp, nonce, signature, signature_type, body;
} lb_wechatpay_signed_t;

/*
 * Checks a notification at time now (Unix seconds): Wechatpay-Signature-Type, when given, is WECHATPAY2-SHA256-RSA2048;
 * Wechatpay-Serial is the certificate's serial (hex, case and leading zeros aside); Wechatpay-Timestamp is within
 * LB_WECHATPAY_WINDOW of now; Wechatpay-Signature is the base64 RSA-SHA256 (PKCS #1 v1.5) signature of
 * "TIMESTAMP\nNONCE\nBODY\n" under the certificate's key. 0, or LB_EAUTH with the first thing wrong in *why (a constant
 * string of at most 64 characters: it fits WeChat Pay's message of a failure answer).
 */
int lb_wechatpay_verify(const lb_wechatpay_platform_t *platform, const lb_wechatpay_signed_t *notice, int64_t now, const char **why);

/*
 * Decrypts a notification's resource (AEAD_AES_256_GCM): key the LB_WECHATPAY_APIV3_KEY_SIZE bytes of the APIv3 key,
 * nonce and associated_data as the resource gives them (the bytes of the strings), ciphertext the base64 of the encrypted
 * bytes followed by the 16-byte tag. 0 and *plain (from malloc, NUL-terminated, *plain_len bytes before the NUL; the caller
 * frees it), or LB_EINPUT with a reason in *why (a constant string of at most 64 characters) when it is not base64 or does not
 * authenticate.
 */
int lb_wechatpay_decrypt(const char *key, lb_wechatpay_text_t nonce, lb_wechatpay_text_t associated_data,
                         lb_wechatpay_text_t ciphertext, char **plain, size_t *plain_len, const char **why);

/*
 * Decodes standard base64 (with its = padding, no line breaks) into out, which has room for len / 4 * 3 bytes; 0 and
 * *out_len, or LB_EINPUT when text is not that.
 */
int lb_wechatpay_base64_decode(const char *text, size_t len, unsigned char *out, size_t *out_len);

#endif
