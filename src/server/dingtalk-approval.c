/* SPDX-License-Identifier: Apache-2.0 */
/* Approvals as the upload and consent gate (docs/dingtalk.md, "Approvals"). Barra is an approver
 * in a configured process: when an instance starts, its form is classified and decided; Barra
 * agrees, refuses with the policy tip, or, when the policy asks for consent, starts an approval in
 * the consent process whose approver is the data subject. When that one finishes, the consent
 * registry records the answer (with the approval as evidence) and the waiting instance is decided
 * again. Every decision and every action is in the audit log. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "server/dingtalk.h"
#include "server/lang-guess.h"
#include "server/record.h"
#include "server/verdict.h"

#include "core/banned.h"

#define CONSENT_NS "dingtalk.consent" /* consent instance -> {gate, subject_ref, purpose} */

/* The form as text: "label: value" a line, for the classifier. */
static void form_text(json_t *values, struct buf *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *value = json_string_value(json_object_get(v, "value"));
        if (value) {
            (void)buf_printf(out, "%s: %s\n", name ? name : "", value);
        }
    }
}

static const char *form_value(json_t *values, const char *label)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && label && strcmp(name, label) == 0) {
            return json_string_value(json_object_get(v, "value"));
        }
    }
    return NULL;
}

/* Appends the contents of the form's attachments (DDAttachment fields: a JSON list of files) to
 * text. 0, DT_RETRY when DingTalk could not be reached, -BARRA_EFORMAT when an attachment is not
 * plain text (the extractors read other formats). The download call is
 * /v1.0/workflow/processInstances/spaces/files/urls/download (unconfirmed: docs/dingtalk.md). */
static int attachments(struct gw_dingtalk *dt, const char *instance, json_t *values,
                       struct buf *text)
{
    size_t i, k;
    json_t *v, *file;
    json_array_foreach(values, i, v)
    {
        const char *kind = json_string_value(json_object_get(v, "componentType"));
        const char *list = json_string_value(json_object_get(v, "value"));
        if (kind == NULL || strcmp(kind, "DDAttachment") != 0 || list == NULL || !list[0]) {
            continue;
        }
        json_t *files = json_loads(list, 0, NULL);
        if (!json_is_array(files)) {
            json_decref(files);
            return -BARRA_EFORMAT;
        }
        int r = 0;
        json_array_foreach(files, k, file)
        {
            const char *id = json_string_value(json_object_get(file, "fileId"));
            json_t *body = json_pack("{s:s, s:s?}", "processInstanceId", instance, "fileId", id);
            json_t *ans = NULL;
            r = body && id ? dt_call(dt, "POST",
                                     "/v1.0/workflow/processInstances/spaces/files/urls/download",
                                     body, &ans)
                           : -BARRA_EFORMAT;
            json_decref(body);
            const char *url =
                json_string_value(json_object_get(json_object_get(ans, "result"), "downloadUri"));
            if (r == 0) {
                r = url ? dt_fetch_text(dt, url, text) : -BARRA_EFORMAT;
                r = r == -BARRA_EIO ? DT_RETRY : r;
            }
            json_decref(ans);
            if (r != 0) {
                break;
            }
        }
        json_decref(files);
        if (r != 0) {
            return r == DT_RETRY ? r : -BARRA_EFORMAT;
        }
    }
    return 0;
}

/* The id of Barra's running task in the instance (a number or a string, sent back as it came),
 * or NULL. */
static json_t *own_task(const struct gw_dingtalk *dt, json_t *inst)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(inst, "tasks"), i, t)
    {
        const char *user = json_string_value(json_object_get(t, "userId"));
        const char *status = json_string_value(json_object_get(t, "status"));
        if (user && status && strcmp(user, dt->c->approver) == 0 &&
            strcmp(status, "RUNNING") == 0) {
            json_t *id = json_object_get(t, "taskId");
            return json_is_integer(id) || json_is_string(id) ? id : NULL;
        }
    }
    return NULL;
}

static int execute(struct gw_dingtalk *dt, const char *instance, json_t *task, bool agree,
                   const char *remark, const struct gw_verdict *v)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:O, s:s}", "processInstanceId", instance, "result",
                             agree ? "agree" : "refuse", "actionerUserId", dt->c->approver,
                             "taskId", task, "remark", remark ? remark : "");
    json_t *ans = NULL;
    int r = body ? dt_call(dt, "POST", "/v1.0/workflow/processInstances/execute", body, &ans)
                 : -BARRA_ENOMEM;
    json_decref(body);
    json_decref(ans);
    if (r != DT_RETRY) {
        (void)gw_verdict_action(dt->gw, v, "dingtalk", agree ? "approve" : "refuse", r == 0,
                                r == 0 ? NULL : "DingTalk refused the approval action");
    }
    return r;
}

/* Starts a consent approval for `subject` and remembers what it is for. */
static int ask_consent(struct gw_dingtalk *dt, json_t *inst, const char *gate, const char *subject,
                       const struct gw_verdict *v)
{
    const char *originator = json_string_value(json_object_get(inst, "originatorUserId"));
    const char *title = json_string_value(json_object_get(inst, "title"));
    const char *purpose = v->consent_purpose ? v->consent_purpose : dt->c->consent_purpose;
    json_t *body = json_pack(
        "{s:s, s:s, s:i, s:[{s:s, s:[s]}], s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}",
        "originatorUserId", originator ? originator : dt->c->approver, "processCode",
        dt->c->consent_process, "deptId", -1, "approvers", "actionType", "NONE", "userIds", subject,
        "formComponentValues", "name", "Purpose", "value", purpose, "name", "Request", "value",
        title ? title : gate, "name", "Reason", "value", v->tip ? v->tip : "");
    json_t *ans = NULL;
    int r =
        body ? dt_call(dt, "POST", "/v1.0/workflow/processInstances", body, &ans) : -BARRA_ENOMEM;
    json_decref(body);
    const char *id = json_string_value(json_object_get(ans, "instanceId"));
    if (r == 0 && id == NULL) {
        r = -BARRA_EIO;
    }
    char ref[65];
    if (r == 0 && barra_key_subject_ref(dt->gw->key, subject, ref) < 0) {
        r = -BARRA_ENOMEM;
    }
    if (r == 0) {
        json_t *rec =
            json_pack("{s:s, s:s, s:s}", "gate", gate, "subject_ref", ref, "purpose", purpose);
        char *s = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
        json_decref(rec);
        struct barra_error err;
        r = s ? dt->gw->store->ops->kv_put(dt->gw->store, CONSENT_NS, id, s, true, &err)
              : -BARRA_ENOMEM;
        free(s);
    }
    if (r != DT_RETRY) {
        (void)gw_verdict_action(dt->gw, v, "dingtalk", "request_consent", r == 0,
                                r == 0 ? NULL : "the consent approval could not be started");
    }
    json_decref(ans);
    return r;
}

/* Decides about a gated instance and acts. `may_ask`: a consent approval may be started (not
 * when one for it has just been answered). */
static int gate(struct gw_dingtalk *dt, const char *instance, bool may_ask)
{
    char path[512];
    (void)snprintf(path, sizeof(path), "/v1.0/workflow/processInstances?processInstanceId=%s",
                   instance);
    json_t *ans = NULL;
    int r = dt_call(dt, "GET", path, NULL, &ans);
    if (r != 0) {
        return r;
    }
    json_t *inst = json_object_get(ans, "result");
    json_t *task = own_task(dt, inst);
    if (task == NULL) { /* nothing for Barra to do: decided already, or not its turn */
        json_decref(ans);
        return DT_DONE;
    }
    json_t *values = json_object_get(inst, "formComponentValues");
    const char *originator = json_string_value(json_object_get(inst, "originatorUserId"));
    const char *subject = dt->c->subject_field ? form_value(values, dt->c->subject_field) : NULL;
    subject = subject && subject[0] ? subject : originator;
    barra_event_t *e = NULL;
    struct buf text;
    buf_init(&text, (4 << 20) + dt->gw->config->max_file);
    form_text(values, &text);
    int att = attachments(dt, instance, values, &text);
    if (att == DT_RETRY) {
        if (text.data) {
            explicit_bzero(text.data, text.len);
        }
        buf_done(&text);
        json_decref(ans);
        return DT_RETRY;
    }
    r = barra_event_new("message", &e);
    r = r < 0 ? r : barra_event_set(e, "id", instance, NULL);
    r = r < 0 ? r : barra_event_set(e, "source", "dingtalk", NULL);
    r = r < 0 || originator == NULL ? r : barra_event_set(e, "sender.id", originator, NULL);
    r = r < 0 ? r : barra_event_set(e, "destination.platform", "dingtalk", NULL);
    r = r < 0 ? r : barra_event_set(e, "destination.region", "cn-mainland", NULL);
    r = r < 0 ? r : barra_event_set(e, "direction", "outbound", NULL);
    r = r < 0 || subject == NULL ? r : barra_event_add_subject(e, subject);
    struct gw_verdict v;
    struct barra_error err;
    const char *lang = gw_guess_lang(text.data, text.len);
    if (r == 0 && !text.err) {
        r = gw_verdict_decide(dt->gw, e,
                              att < 0     ? NULL
                              : text.data ? text.data
                                          : "",
                              text.len, lang, "dingtalk-approval", &v, &err);
        if (r < 0) {
            dt_log("approval %s: the decision was not recorded: %s", instance, err.message);
            r = DT_RETRY;
        }
    } else {
        r = -BARRA_ENOMEM;
    }
    /* A redaction that hides nothing leaves the form as it is: it may go. */
    bool agree =
        r == 0 && (v.action == BARRA_ACTION_ALLOW || v.action == BARRA_ACTION_TAG ||
                   (v.action == BARRA_ACTION_REDACT && v.text && strlen(v.text) == text.len &&
                    memcmp(v.text, text.data, text.len) == 0));
    if (text.data) {
        explicit_bzero(text.data, text.len);
    }
    buf_done(&text);
    barra_event_free(e);
    if (r != 0) {
        json_decref(ans);
        return r;
    }
    if (v.action == BARRA_ACTION_REQUIRE_CONSENT && may_ask && dt->c->consent_process && subject) {
        r = ask_consent(dt, inst, instance, subject, &v);
    } else {
        /* Redaction and routing cannot change a submitted form: the tip says to submit it again
         * without the data, or to share it through the local store. */
        r = execute(dt, instance, task, agree, v.tip, &v);
        if (!agree) {
            gw_dingtalk_notify(dt, "Barra: an approval was refused",
                               "Approval instance %s was refused (decision %s, %s).", instance,
                               v.decision_id, barra_action_name(v.action));
        }
    }
    gw_verdict_done(&v);
    json_decref(ans);
    return r;
}

/* Records the data subject's answer in the consent registry, then decides the gate again. */
static int consent_answered(struct gw_dingtalk *dt, const char *instance, const char *result)
{
    struct gw *gw = dt->gw;
    struct buf value;
    buf_init(&value, 1 << 16);
    struct barra_error err;
    int r = gw->store->ops->kv_get(gw->store, CONSENT_NS, instance, &value, &err);
    if (r == -BARRA_ENOENT) {
        buf_done(&value);
        return DT_DONE; /* not one Barra started */
    }
    json_t *j = r == 0 ? json_loadb(value.data ? value.data : "", value.len, 0, NULL) : NULL;
    buf_done(&value);
    const char *gate_id = json_string_value(json_object_get(j, "gate"));
    const char *ref = json_string_value(json_object_get(j, "subject_ref"));
    const char *purpose = json_string_value(json_object_get(j, "purpose"));
    if (gate_id == NULL || ref == NULL || purpose == NULL || strlen(ref) != 64 ||
        strlen(purpose) > 64) {
        json_decref(j);
        return r < 0 ? DT_RETRY : -BARRA_EFORMAT;
    }
    struct consent_record c = {
        .state = strcmp(result, "agree") == 0 ? BARRA_CONSENT_GRANTED : BARRA_CONSENT_REFUSED,
        .recorded_at = (int64_t)time(NULL),
    };
    char scope[160], evidence[200];
    (void)snprintf(scope, sizeof(scope), "DingTalk approval process %s", dt->c->consent_process);
    (void)snprintf(evidence, sizeof(evidence), "dingtalk:approval:%s", instance);
    c.scope = scope;
    c.evidence = evidence;
    if (vault_id_random(c.id) < 0) { /* the same random hex ids as the API's consents */
        json_decref(j);
        return DT_RETRY;
    }
    memcpy(c.subject_ref, ref, 65);
    (void)snprintf(c.purpose, sizeof(c.purpose), "%s", purpose);
    struct buf rec;
    buf_init(&rec, 0);
    (void)buf_append_str(&rec,
                         "{\"schema\":\"barra.consent/1\",\"token\":null,\"via\":\"dingtalk\","
                         "\"consent\":");
    rec_consent(&rec, &c);
    (void)buf_append_char(&rec, '}');
    uint64_t index;
    r = rec.err
            ? -BARRA_ENOMEM
            : barra_audit_append(gw->audit, "consent", rec.data, rec.len, NULL, 0, &index, &err);
    buf_done(&rec);
    r = r < 0 ? r : gw->store->ops->consent_add(gw->store, &c, &err);
    r = r < 0 ? r : gw_consents_apply(gw->consents, &c);
    char gate_copy[129];
    (void)snprintf(gate_copy, sizeof(gate_copy), "%s", gate_id);
    json_decref(j);
    if (r < 0) {
        dt_log("consent approval %s: the answer was not recorded: %s", instance, err.message);
        return DT_RETRY;
    }
    (void)gw->store->ops->kv_delete(gw->store, CONSENT_NS, instance, NULL);
    return gate(dt, gate_copy, false);
}

int dt_approval_event(struct gw_dingtalk *dt, const char *json, size_t len)
{
    const struct gw_dingtalk_config *c = dt->c;
    if (c->gate_process == NULL || dt->api == NULL) {
        return DT_DONE;
    }
    json_t *j = json_loadb(json, len, 0, NULL);
    const char *code = json_string_value(json_object_get(j, "processCode"));
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *id = json_string_value(json_object_get(j, "processInstanceId"));
    const char *result = json_string_value(json_object_get(j, "result"));
    int r = DT_DONE;
    if (code == NULL || type == NULL || id == NULL || strlen(id) > 128 ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(id)) {
        r = -BARRA_EPARSE;
    } else if (strcmp(code, c->gate_process) == 0 && strcmp(type, "start") == 0) {
        r = gate(dt, id, true);
    } else if (c->consent_process && strcmp(code, c->consent_process) == 0 &&
               strcmp(type, "finish") == 0 && result) {
        r = consent_answered(dt, id, result);
    } else if (c->consent_process && strcmp(code, c->consent_process) == 0 &&
               strcmp(type, "terminate") == 0) {
        r = consent_answered(dt, id, "refuse"); /* withdrawn by its originator: no consent */
    }
    json_decref(j);
    return r;
}
