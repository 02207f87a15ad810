/* SPDX-License-Identifier: Apache-2.0 */
/* Signing for DingTalk's custom group robot webhook (自定义机器人, "加签"): the query parameters
 * `timestamp` (ms) and `sign` = URL-encoded Base64 of HMAC-SHA256(key = secret, data = timestamp
 * + "\n" + secret). Alerts and notices to a group go through it. */
#ifndef BARRA_CONNECT_DINGTALK_ROBOT_SIGN_H
#define BARRA_CONNECT_DINGTALK_ROBOT_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* Writes the URL-encoded signature for `timestamp_ms` into out (at most 136 bytes with the NUL:
 * every Base64 character may need escaping). Returns 0, or -1 when HMAC fails. */
int dt_robot_sign(const char *secret, int64_t timestamp_ms, char out[136]);

#endif
