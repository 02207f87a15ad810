/* SPDX-License-Identifier: Apache-2.0 */
/* POST /v1/connectors/dingtalk/callback: DingTalk's HTTP event push (docs/dingtalk.md). The
 * signature is checked before anything is decrypted, stale timestamps are refused, and an event is
 * stored (de-duplicated by its eventId: DingTalk redelivers) before the encrypted "success" that
 * acknowledges it; the connector's worker then processes it (dingtalk.h). */
#include "config.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect/dingtalk/callback-crypto.h"
#include "core/alloc.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "server/dingtalk.h"
#include "server/http.h"

#include "core/banned.h"

/* The reply DingTalk expects: its own encrypted "success", signed over a new timestamp and nonce.
 */
static void reply_success(struct gw_req *rq, const struct gw_dingtalk_config *dc)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char nonce[17], ts[24], sig[41];
    uint8_t raw[16];
    struct barra_error err;
    char *enc = NULL;
    if (RAND_bytes(raw, sizeof(raw)) != 1 ||
        dt_encrypt(rq->gw->dingtalk_key, dc->client_id, "success", 7, NULL, &enc, &err) < 0) {
        gw_fail(rq, 503, "crypto_failed", "the reply could not be encrypted");
        return;
    }
    for (size_t i = 0; i < 16; i++) {
        nonce[i] = alnum[raw[i] % 62];
    }
    nonce[16] = '\0';
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    (void)snprintf(ts, sizeof(ts), "%lld",
                   (long long)now.tv_sec * 1000 + (long long)(now.tv_nsec / 1000000));
    dt_signature(dc->token, ts, nonce, enc, sig);
    struct buf *b = &rq->out;
    buf_clear(b);
    (void)buf_printf(
        b, "{\"msg_signature\":\"%s\",\"timeStamp\":\"%s\",\"nonce\":\"%s\",\"encrypt\":", sig, ts,
        nonce);
    (void)jsonw_string(b, enc);
    (void)buf_append_str(b, "}");
    barra_free(enc);
    gw_answer(rq, b->err ? 500 : 200);
}

/* Seconds since the epoch from DingTalk's timestamp, which is in milliseconds or seconds. */
static bool parse_timestamp(const char *s, int64_t *ret)
{
    size_t n = strlen(s);
    if (n == 0 || n > 16 || strspn(s, "0123456789") != n) {
        return false;
    }
    long long v = strtoll(s, NULL, 10);
    *ret = v > 100000000000LL ? v / 1000 : v;
    return true;
}

void api_dingtalk_callback(struct gw_req *rq)
{
    struct gw *gw = rq->gw;
    const struct gw_dingtalk_config *dc = gw->config->dingtalk;
    if (dc == NULL || dc->token == NULL) {
        gw_fail(rq, 404, "not_found", "DingTalk's HTTP push is not configured");
        return;
    }
    const char *sig = gw_query(rq, "msg_signature"), *ts = gw_query(rq, "timestamp");
    const char *nonce = gw_query(rq, "nonce");
    sig = sig ? sig : gw_query(rq, "signature"); /* older flows' spellings */
    ts = ts ? ts : gw_query(rq, "timeStamp");
    struct jr_doc doc;
    struct jr_error jerr;
    int r = jr_parse(rq->body.data ? rq->body.data : "", rq->body.len, &doc, &jerr);
    const struct jr_value *enc = r == 0 ? jr_get(&doc.root, "encrypt") : NULL;
    int64_t t = 0;
    if (sig == NULL || ts == NULL || nonce == NULL || !jr_is_string(enc) || doc.root.n != 1) {
        jr_free(&doc);
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "bad_callback",
                "a DingTalk callback has msg_signature, timestamp and nonce in its URL and "
                "{\"encrypt\": ...} as its body");
        return;
    }
    /* The signature first: nothing unauthenticated is decrypted. */
    if (!dt_signature_ok(sig, dc->token, ts, nonce, enc->u.s)) {
        jr_free(&doc);
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_AUTH], 1);
        gw_fail(rq, 403, "bad_signature", "DingTalk callback refused (%d): signature mismatch",
                DT_SIGNATURE_MISMATCH);
        return;
    }
    int64_t now = (int64_t)time(NULL);
    if (!parse_timestamp(ts, &t) || t < now - (int64_t)dc->max_skew_s ||
        t > now + (int64_t)dc->max_skew_s) {
        jr_free(&doc);
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_AUTH], 1);
        gw_fail(rq, 403, "stale_timestamp",
                "DingTalk callback refused: its timestamp is more than %u s from now (a replay, or "
                "a clock to set right)",
                dc->max_skew_s);
        return;
    }
    char *msg = NULL;
    size_t len = 0;
    struct barra_error err;
    r = dt_decrypt(gw->dingtalk_key, dc->client_id, enc->u.s, &msg, &len, NULL, &err);
    jr_free(&doc);
    if (r < 0) {
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, r == -BARRA_ENOMEM ? 503 : 403, "bad_callback", "%s", err.message);
        return;
    }
    r = jr_parse(msg, len, &doc, &jerr);
    const struct jr_value *type = r == 0 ? jr_get(&doc.root, "EventType") : NULL;
    const struct jr_value *id = r == 0 ? jr_get(&doc.root, "eventId") : NULL;
    if (!jr_is_string(type)) {
        explicit_bzero(msg, len);
        barra_free(msg);
        jr_free(&doc);
        atomic_fetch_add(&gw->metrics.rejects[GW_REJECT_MALFORMED], 1);
        gw_fail(rq, 400, "bad_callback", "the decrypted event has no EventType");
        return;
    }
    /* Stored before it is acknowledged; a redelivered event is acknowledged again, once stored. */
    if (jr_is_string(id) && strcmp(type->u.s, "check_url") != 0) {
        r = gw->dingtalk
                ? gw_dingtalk_accept(gw->dingtalk, id->u.s, type->u.s, msg, len, &err)
                : gw->store->ops->inbound_add(gw->store, "dingtalk", id->u.s, type->u.s, now, &err);
        if (r < 0 && r != -BARRA_EEXIST) {
            explicit_bzero(msg, len);
            barra_free(msg);
            jr_free(&doc);
            gw_fail(rq, 503, "store_unavailable", "the event was not stored: %s", err.message);
            return;
        }
    }
    explicit_bzero(msg, len);
    barra_free(msg);
    jr_free(&doc);
    reply_success(rq, dc);
}
