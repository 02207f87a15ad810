/* SPDX-License-Identifier: Apache-2.0 */
/* Exclusive DingTalk's file controls (docs/dingtalk.md, "Exclusive DingTalk"): the file-send check
 * (org_file_send_check, answered pass, fail or "needs approval" from the policy) and the file
 * audit log, polled with a cursor kept in the state database so that a restart neither skips nor
 * repeats records; each record becomes an activity event for the monitor. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/dingtalk.h"
#include "server/lang-guess.h"
#include "server/verdict.h"

#include "core/banned.h"

#define CURSOR_NS   "dingtalk.cursor"
#define ACTIVITY_NS "activity" /* read by the monitor: "time:source:id" -> activity event JSON */

enum { STATUS_PASS = 1, STATUS_FAIL = 2, STATUS_NEEDS_APPROVAL = 3 };

static int put_status(struct gw_dingtalk *dt, json_t *ids, int status)
{
    if (json_array_size(ids) == 0) {
        return 0;
    }
    json_t *body = json_pack("{s:O, s:i}", "requestIds", ids, "status", status);
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (s == NULL) {
        return -BARRA_ENOMEM;
    }
    struct buf answer;
    buf_init(&answer, 1 << 16);
    long code = 0;
    struct barra_error err;
    int r = dt_api_call(dt->api, "PUT", "/v1.0/exclusive/sending/files/status", s, &answer, &code,
                        &err);
    free(s);
    buf_done(&answer);
    if (r < 0 || code >= 500 || code == 429) {
        dt_log("file-send check: %s", r < 0 ? err.message : "DingTalk failed; trying again");
        return DT_RETRY;
    }
    if (code != 200) {
        dt_log("file-send check: DingTalk refused the status (HTTP %ld)", code);
        return -BARRA_EIO;
    }
    return 0;
}

/* Decides about one file record; returns the status to answer. Only the file's name, its sender
 * and conversation are known: DingTalk does not say how to fetch the bytes behind ossKey. */
static int check_one(struct gw_dingtalk *dt, json_t *f, struct gw_verdict *v)
{
    const char *name = json_string_value(json_object_get(f, "fileName"));
    const char *user = json_string_value(json_object_get(f, "userId"));
    const char *conv = json_string_value(json_object_get(f, "openCid"));
    const char *req = json_string_value(json_object_get(f, "requestId"));
    barra_event_t *e = NULL;
    int r = barra_event_new("file", &e);
    r = r < 0 || req == NULL ? r : barra_event_set(e, "id", req, NULL);
    r = r < 0 ? r : barra_event_set(e, "source", "dingtalk", NULL);
    r = r < 0 || name == NULL ? r : barra_event_set(e, "file.name", name, NULL);
    r = r < 0 || user == NULL ? r : barra_event_set(e, "sender.id", user, NULL);
    r = r < 0 || conv == NULL ? r : barra_event_set(e, "conversation.id", conv, NULL);
    r = r < 0 ? r : barra_event_set(e, "destination.platform", "dingtalk", NULL);
    r = r < 0 ? r : barra_event_set(e, "destination.region", "cn-mainland", NULL);
    r = r < 0 ? r : barra_event_set(e, "direction", "outbound", NULL);
    struct barra_error err;
    if (r == 0) {
        size_t len = name ? strlen(name) : 0;
        r = gw_verdict_decide(dt->gw, e, name, len, gw_guess_lang(name, len), "dingtalk-file-check",
                              v, &err);
    }
    barra_event_free(e);
    if (r < 0) {
        return r;
    }
    switch (v->action) {
    case BARRA_ACTION_ALLOW:
    case BARRA_ACTION_TAG:
        return STATUS_PASS;
    case BARRA_ACTION_REQUIRE_CONSENT:
        return STATUS_NEEDS_APPROVAL;
    default:
        return STATUS_FAIL;
    }
}

int dt_file_check_event(struct gw_dingtalk *dt, const char *json, size_t len)
{
    if (!dt->c->file_check || dt->api == NULL) {
        return DT_DONE;
    }
    json_t *j = json_loadb(json, len, 0, NULL);
    json_t *records = json_object_get(j, "fileRecords");
    if (!json_is_array(records)) {
        json_decref(j);
        return -BARRA_EPARSE;
    }
    json_t *by_status[4] = {NULL, json_array(), json_array(), json_array()};
    size_t n = json_array_size(records), nv = 0, i;
    struct gw_verdict *verdicts = barra_calloc(n ? n : 1, sizeof(*verdicts));
    json_t *f;
    int r = verdicts && by_status[1] && by_status[2] && by_status[3] ? 0 : DT_RETRY;
    json_array_foreach(records, i, f)
    {
        const char *req = json_string_value(json_object_get(f, "requestId"));
        if (req == NULL || r != 0) {
            continue; /* without a requestId there is nothing to answer */
        }
        int status = check_one(dt, f, &verdicts[nv]);
        if (status < 0) { /* not recorded: no answer, so the check is asked again */
            r = DT_RETRY;
            break;
        }
        nv++;
        (void)json_array_append_new(by_status[status], json_string(req));
    }
    for (int s = STATUS_PASS; r == 0 && s <= STATUS_NEEDS_APPROVAL; s++) {
        r = put_status(dt, by_status[s], s);
    }
    static const char *const names[] = {"", "file_check_pass", "file_check_fail",
                                        "file_check_approval"};
    for (size_t k = 0; k < nv; k++) {
        int s = verdicts[k].action == BARRA_ACTION_ALLOW || verdicts[k].action == BARRA_ACTION_TAG
                    ? STATUS_PASS
                : verdicts[k].action == BARRA_ACTION_REQUIRE_CONSENT ? STATUS_NEEDS_APPROVAL
                                                                     : STATUS_FAIL;
        if (r != DT_RETRY) {
            (void)gw_verdict_action(dt->gw, &verdicts[k], "dingtalk", names[s], r == 0,
                                    r == 0 ? NULL : "DingTalk refused the file status");
        }
        if (s == STATUS_FAIL && r == 0) {
            gw_dingtalk_notify(dt, "Barra: a file was stopped",
                               "A file sent on DingTalk failed the check (decision %s, %s).",
                               verdicts[k].decision_id, barra_action_name(verdicts[k].action));
        }
        gw_verdict_done(&verdicts[k]);
    }
    for (int s = 1; s < 4; s++) {
        json_decref(by_status[s]);
    }
    barra_free(verdicts);
    json_decref(j);
    return r;
}

/* ---- the file audit log ---- */

/* DingTalk's action codes as activity actions (docs/activity.md); others keep their code. */
static const char *activity_action(json_int_t code, char *buf, size_t size)
{
    switch (code) {
    case 0:
    case 23:
        return "file_upload";
    case 1:
    case 11:
        return "file_delete";
    case 2:
    case 32:
        return "file_download";
    case 3:
    case 13:
    case 31:
        return "file_preview";
    case 5:
        return "share_link";
    case 8:
        return "file_forward";
    case 12:
        return "file_export";
    case 15:
        return "share_internal";
    default:
        (void)snprintf(buf, size, "dingtalk_%lld", (long long)code);
        return buf;
    }
}

static const char *platform_name(json_int_t p)
{
    switch (p) {
    case 0:
        return "ios";
    case 1:
        return "android";
    case 2:
        return "web";
    case 11:
        return "windows";
    case 12:
        return "mac";
    default:
        return "unknown";
    }
}

/* Stores one audit record as an activity event; returns 1 when it is new. */
static int store_activity(struct gw_dingtalk *dt, json_t *rec)
{
    json_int_t gmt = json_integer_value(json_object_get(rec, "gmtCreate"));
    json_int_t code = json_integer_value(json_object_get(rec, "action"));
    const char *user = json_string_value(json_object_get(rec, "userId"));
    const char *biz = json_string_value(json_object_get(rec, "bizId"));
    if (gmt <= 0 || user == NULL || biz == NULL) {
        return 0;
    }
    char abuf[32], when[40], key[512];
    time_t t = (time_t)(gmt / 1000);
    struct tm tm;
    (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
    (void)snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ", (int)(gmt % 1000));
    json_t *ev = json_pack(
        "{s:s, s:s, s:s, s:s, s:s?, s:s, s:I, s:I, s:s?, s:s, s:I}", "time", when, "source",
        "dingtalk.file_audit", "actor", user, "action", activity_action(code, abuf, sizeof(abuf)),
        "resource", json_string_value(json_object_get(rec, "resource")), "resource_id", biz,
        "count", (json_int_t)1, "bytes", json_integer_value(json_object_get(rec, "resourceSize")),
        "ip", json_string_value(json_object_get(rec, "ipAddress")), "client",
        platform_name(json_integer_value(json_object_get(rec, "platform"))), "dingtalk_action",
        code);
    char *s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (s == NULL) {
        return -BARRA_ENOMEM;
    }
    (void)snprintf(key, sizeof(key), "%013lld:dingtalk:%.100s:%.100s:%lld", (long long)gmt, biz,
                   user, (long long)code);
    struct barra_error err;
    int r = dt->gw->store->ops->kv_put(dt->gw->store, ACTIVITY_NS, key, s, false, &err);
    free(s);
    if (r == -BARRA_EEXIST) {
        return 0;
    }
    return r < 0 ? r : 1;
}

/* One poll: pages until DingTalk has no more. */
static int poll_once(struct gw_dingtalk *dt)
{
    struct store *st = dt->gw->store;
    struct buf cur;
    buf_init(&cur, 4096);
    struct barra_error err;
    long long gmt = 0;
    char biz[129] = "";
    int r = st->ops->kv_get(st, CURSOR_NS, "file_audit", &cur, &err);
    if (r == 0 && sscanf(cur.data ? cur.data : "", "%lld %128s", &gmt, biz) != 2) {
        gmt = 0;
    }
    buf_done(&cur);
    if (r < 0 && r != -BARRA_ENOENT) {
        return r;
    }
    long long now = (long long)time(NULL) * 1000;
    long long start = gmt ? gmt : now - (long long)dt->c->audit_lookback_s * 1000;
    for (;;) {
        char path[600];
        int n = snprintf(path, sizeof(path),
                         "/v1.0/exclusive/fileAuditLogs?startDate=%lld&endDate=%lld&pageSize=%u",
                         start, now, dt->c->audit_page_size);
        if (gmt && biz[0]) {
            (void)snprintf(path + n, sizeof(path) - (size_t)n, "&nextGmtCreate=%lld&nextBizId=%s",
                           gmt, biz);
        }
        struct buf answer;
        buf_init(&answer, 64 << 20);
        long status = 0;
        r = dt_api_call(dt->api, "GET", path, NULL, &answer, &status, &err);
        json_t *j = r == 0 && status == 200
                        ? json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL)
                        : NULL;
        buf_done(&answer);
        json_t *list = json_object_get(j, "list");
        if (!json_is_array(list)) {
            dt_log("file audit: %s", r < 0 ? err.message : "DingTalk's answer has no list");
            json_decref(j);
            return -BARRA_EIO;
        }
        size_t i;
        json_t *rec;
        json_array_foreach(list, i, rec)
        {
            int k = store_activity(dt, rec);
            if (k < 0) {
                json_decref(j);
                return k;
            }
            if (k > 0) {
                atomic_fetch_add(&dt->activity_events, 1);
            }
            const char *b = json_string_value(json_object_get(rec, "bizId"));
            json_int_t g = json_integer_value(json_object_get(rec, "gmtCreate"));
            if (b && g > 0 && strlen(b) < sizeof(biz)) {
                gmt = (long long)g;
                (void)snprintf(biz, sizeof(biz), "%s", b);
            }
        }
        size_t got = json_array_size(list);
        json_decref(j);
        if (got > 0) { /* the cursor moves only once the page's events are stored */
            char value[200];
            (void)snprintf(value, sizeof(value), "%lld %s", gmt, biz);
            if ((r = st->ops->kv_put(st, CURSOR_NS, "file_audit", value, true, &err)) < 0) {
                return r;
            }
        }
        if (got < dt->c->audit_page_size) {
            return 0;
        }
    }
}

void *dt_file_audit_thread(void *arg)
{
    struct gw_dingtalk *dt = arg;
    do {
        if (dt->api && poll_once(dt) < 0) {
            dt_log("file audit: this poll stopped early; the next one goes on from the cursor");
        }
    } while (dt_sleep(dt, (int64_t)dt->c->audit_interval_s * 1000));
    return NULL;
}
