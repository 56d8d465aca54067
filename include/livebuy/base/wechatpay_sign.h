/*
 * The merchant's side of WeChat Pay API v3 (docs/payments.md "The refund push"): the signature livebuy puts on its own
 * requests to WeChat Pay (a refund request), an Authorization header of the WECHATPAY2-SHA256-RSA2048 scheme, made with
 * the merchant's API private key. OpenSSL does the crypto; nothing here does I/O but reading the key's file.
 */
#ifndef LIVEBUY_WECHATPAY_SIGN_H
#define LIVEBUY_WECHATPAY_SIGN_H

#include <stddef.h>

#define LB_WECHATPAY_NONCE_SIZE         32   /* characters of a request's nonce_str */
#define LB_WECHATPAY_AUTHORIZATION_SIZE 1024 /* room for an Authorization header's value, NUL included */

/*
 * The merchant's identity when it calls WeChat Pay: its mchid, its API private key (RSA) and the serial number of the
 * certificate of that key. Loaded once at start and read-only after, so any thread may sign with it at once. Owned by
 * whoever loaded it (lb_wechatpay_merchant_free).
 */
typedef struct st_lb_wechatpay_merchant_t lb_wechatpay_merchant_t;

/* Reads a PEM RSA private key from a file, or from len bytes of PEM text; NULL with a reason in err. mchid and serial are copied. */
lb_wechatpay_merchant_t *lb_wechatpay_merchant_load(const char *key_path, const char *mchid, const char *serial, char *err,
                                                    size_t errsize);
lb_wechatpay_merchant_t *lb_wechatpay_merchant_parse(const char *pem, size_t len, const char *mchid, const char *serial, char *err,
                                                     size_t errsize);
void lb_wechatpay_merchant_free(lb_wechatpay_merchant_t *merchant);

/* A fresh random nonce_str: LB_WECHATPAY_NONCE_SIZE upper-case hex digits and a NUL. */
void lb_wechatpay_nonce(char nonce[LB_WECHATPAY_NONCE_SIZE + 1]);

/*
 * What WeChat Pay signs of a request: the URL's absolute path with its query ("/v3/refund/domestic/refunds"), a pointer
 * into url; "/" when the URL has no path.
 */
const char *lb_wechatpay_url_path(const char *url);

/*
 * The Authorization header's value of a request: WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",
 * timestamp="..",serial_no=".." where signature is the base64 RSA-SHA256 (PKCS #1 v1.5) signature under the merchant's
 * key of "METHOD\nPATH\nTIMESTAMP\nNONCE\nBODY\n" (path as lb_wechatpay_url_path gives it). Pure given its inputs (the
 * signature scheme is deterministic). 0, or LB_EINPUT when out (LB_WECHATPAY_AUTHORIZATION_SIZE is enough) is too small
 * or OpenSSL fails.
 */
int lb_wechatpay_authorization(const lb_wechatpay_merchant_t *merchant, const char *method, const char *path, const char *timestamp,
                               const char *nonce, const void *body, size_t body_len, char *out, size_t outsize);

#endif
