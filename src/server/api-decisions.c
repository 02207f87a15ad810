/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/decisions/{id}: a decision as the audit log holds it, with the proof that it is in the
 * log (an inclusion proof up to a signed checkpoint, docs/audit-log.md "Proofs"), so that whoever
 * receives it can check it without trusting this server. GET /v1/vault/{id}: routed content. */
#include "config.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/jsonw.h"
#include "server/api-requests.h"
#include "server/http.h"

#include "core/banned.h"

static void put_hash(struct buf *b, const uint8_t h[32])
{
    char out[48];
    (void)EVP_EncodeBlock((unsigned char *)out, h, 32);
    (void)jsonw_string(b, out);
}

/* The tree size a checkpoint signs (its second line). */
static uint64_t checkpoint_size(const char *note)
{
    const char *nl = note ? strchr(note, '\n') : NULL;
    return nl ? strtoull(nl + 1, NULL, 10) : 0;
}

void api_decision_get(struct gw_req *rq)
{
    struct gw *gw = rq->gw;
    uint64_t index;
    if (!decision_id_parse(rq->arg, &index)) {
        gw_fail(rq, 404, "not_found", "a decision id is the number /v1/events answered with");
        return;
    }
    char *type = NULL, *record = NULL, *note = NULL;
    int64_t time_ns = 0;
    size_t rlen = 0;
    struct barra_error err;
    if (barra_audit_entry(gw->audit, index, &type, &time_ns, &record, &rlen, &err) < 0 ||
        strcmp(type, "decision") != 0) {
        barra_audit_free(type);
        barra_audit_free(record);
        gw_fail(rq, 404, "not_found", "no decision %s in the audit log", rq->arg);
        return;
    }
    /* The newest checkpoint, or a new one when the entry came after it. */
    if (barra_audit_latest_checkpoint(gw->audit, &note, &err) < 0 ||
        checkpoint_size(note) <= index) {
        barra_audit_free(note);
        note = NULL;
        (void)barra_audit_checkpoint(gw->audit, &note, &err);
    }
    uint64_t size = checkpoint_size(note);
    uint8_t proof[BARRA_AUDIT_MAX_PROOF][32], leaf[32], root[32];
    size_t n = 0;
    if (note == NULL || size <= index ||
        barra_audit_inclusion_proof(gw->audit, index, size, proof, &n, leaf, root, &err) < 0) {
        barra_audit_free(type);
        barra_audit_free(record);
        barra_audit_free(note);
        gw_fail(rq, 503, "audit_unavailable", "no proof could be made: %s", err.message);
        return;
    }
    struct buf *b = &rq->out;
    buf_clear(b);
    (void)buf_printf(b,
                     "{\"decision_id\":\"%llu\",\"entry\":{\"index\":%llu,\"time_ns\":%lld,"
                     "\"type\":",
                     (unsigned long long)index, (unsigned long long)index, (long long)time_ns);
    (void)jsonw_string(b, type);
    (void)buf_append_str(b, ",\"record\":");
    (void)buf_append(b, record, rlen); /* the gateway wrote it as JSON */
    /* The exact bytes too: the leaf hash commits to them, not to any re-serialisation. */
    char *b64 = barra_malloc(4 * ((rlen + 2) / 3) + 1);
    if (b64) {
        (void)EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)record, (int)rlen);
        (void)buf_append_str(b, ",\"record_base64\":");
        (void)jsonw_string(b, b64);
        barra_free(b64);
    }
    (void)buf_printf(b,
                     "},\"proof\":{\"type\":\"inclusion\",\"index\":%llu,\"size\":%llu,"
                     "\"leaf_hash\":",
                     (unsigned long long)index, (unsigned long long)size);
    put_hash(b, leaf);
    (void)buf_append_str(b, ",\"root\":");
    put_hash(b, root);
    (void)buf_append_str(b, ",\"proof\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            (void)buf_append_char(b, ',');
        }
        put_hash(b, proof[i]);
    }
    (void)buf_append_str(b, "]},\"checkpoint\":");
    (void)jsonw_string(b, note);
    (void)buf_append_str(b, "}\n");
    barra_audit_free(type);
    barra_audit_free(record);
    barra_audit_free(note);
    gw_answer(rq, b->err ? 500 : 200);
}

struct vault_meta {
    char extension[16];
    uint64_t size;
};

static int keep_meta(const struct vault_item *v, void *userdata)
{
    struct vault_meta *m = userdata;
    (void)snprintf(m->extension, sizeof(m->extension), "%s", v->extension);
    m->size = v->size;
    return 0;
}

static void finish_vault(struct gw_req *rq)
{
    if (rq->audit_result < 0) {
        explicit_bzero(rq->out.data, rq->out.len);
        gw_fail_audit(rq, "the access could not be recorded");
        return;
    }
    gw_answer(rq, 200);
}

void api_vault_get(struct gw_req *rq)
{
    struct gw *gw = rq->gw;
    struct vault_meta meta;
    struct barra_error err;
    if (!vault_id_valid(rq->arg) ||
        gw->store->ops->vault_find(gw->store, rq->arg, keep_meta, &meta, &err) < 0) {
        gw_fail(rq, 404, "not_found", "no vault item %s", rq->arg);
        return;
    }
    buf_clear(&rq->out);
    if (vault_get(gw->vault, rq->arg, &rq->out, &err) < 0) {
        gw_fail(rq, err.code == -BARRA_EFORMAT ? 500 : 404, "vault_error", "%s", err.message);
        return;
    }
    rq->content_type = strcmp(meta.extension, ".txt") == 0 ? "text/plain; charset=utf-8"
                                                           : "application/octet-stream";
    /* Who read routed content is itself recorded; no record, no content. */
    struct buf rec;
    buf_init(&rec, 4096);
    (void)buf_append_str(&rec, "{\"schema\":\"barra.vault_access/1\",\"token\":");
    (void)jsonw_string(&rec, rq->token->config->name);
    (void)buf_printf(&rec, ",\"vault_id\":\"%s\",\"bytes\":%llu}", rq->arg,
                     (unsigned long long)meta.size);
    gw_audit(rq, "vault_access", rec.data, rec.len, finish_vault, NULL, NULL);
    buf_done(&rec);
}
