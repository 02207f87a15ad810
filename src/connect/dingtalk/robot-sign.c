/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "connect/dingtalk/robot-sign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

int dt_robot_sign(const char *secret, int64_t timestamp_ms, char out[136])
{
    char data[512];
    int n = snprintf(data, sizeof(data), "%lld\n%s", (long long)timestamp_ms, secret);
    if (n < 0 || (size_t)n >= sizeof(data)) {
        return -1;
    }
    uint8_t mac[32];
    unsigned len = 0;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)data, (size_t)n, mac,
             &len) == NULL ||
        len != 32) {
        return -1;
    }
    char b64[48];
    (void)EVP_EncodeBlock((unsigned char *)b64, mac, 32); /* 44 characters */
    /* URL-encoding: only '+', '/' and '=' occur in Base64. */
    size_t o = 0;
    for (const char *p = b64; *p; p++) {
        const char *esc = *p == '+' ? "%2B" : *p == '/' ? "%2F" : *p == '=' ? "%3D" : NULL;
        if (esc) {
            memcpy(out + o, esc, 3);
            o += 3;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return 0;
}
