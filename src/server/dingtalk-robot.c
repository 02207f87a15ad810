/* SPDX-License-Identifier: Apache-2.0 */
/* Robot messages (docs/dingtalk.md, "Robot messages"): a message that @-mentions Barra's robot in
 * a group, or any message, file or voice note sent to it one-to-one, is classified, decided and
 * recorded on arrival (DingTalk never delivers a robot message twice), and the sender is answered
 * through the message's session webhook with the policy tip in the language they wrote in. */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/utf8.h"
#include "server/dingtalk.h"
#include "server/lang-guess.h"
#include "server/verdict.h"

#include "core/banned.h"

/* The text of a robot message: text, the text parts of rich text, a voice note's transcript, a
 * file's name (its contents are added by add_file). False when the message holds more than that
 * text (a picture, a video, a voice note without transcript): it cannot be classified whole. */
static bool message_text(json_t *m, struct buf *out)
{
    const char *type = json_string_value(json_object_get(m, "msgtype"));
    json_t *content = json_object_get(m, "content");
    const char *t = NULL;
    if (type == NULL) {
        return false;
    }
    if (strcmp(type, "text") == 0) {
        t = json_string_value(json_object_get(json_object_get(m, "text"), "content"));
    } else if (strcmp(type, "audio") == 0) {
        t = json_string_value(json_object_get(content, "recognition"));
    } else if (strcmp(type, "file") == 0) {
        t = json_string_value(json_object_get(content, "fileName"));
    } else if (strcmp(type, "richText") == 0) {
        size_t i;
        json_t *part;
        json_array_foreach(json_object_get(content, "richText"), i, part)
        {
            const char *pt = json_string_value(json_object_get(part, "text"));
            if (pt == NULL) {
                return false; /* a picture inside */
            }
            (void)buf_append_str(out, pt);
            (void)buf_append_char(out, '\n');
        }
        return true;
    }
    if (t == NULL) {
        return false;
    }
    (void)buf_append_str(out, t);
    return true;
}

/* Appends a file's contents (fetched through /v1.0/robot/messageFiles/download) to text; false
 * when they cannot be had or read, which makes the classification fail (closed). */
static bool add_file(struct gw_dingtalk *dt, json_t *m, struct buf *text)
{
    const char *code =
        json_string_value(json_object_get(json_object_get(m, "content"), "downloadCode"));
    const char *robot = json_string_value(json_object_get(m, "robotCode"));
    if (dt->api == NULL || code == NULL) {
        return false;
    }
    json_t *body = json_pack("{s:s, s:s}", "downloadCode", code, "robotCode",
                             robot ? robot : dt->c->client_id);
    json_t *ans = NULL;
    int r =
        body ? dt_call(dt, "POST", "/v1.0/robot/messageFiles/download", body, &ans) : -BARRA_ENOMEM;
    json_decref(body);
    const char *url = json_string_value(json_object_get(ans, "downloadUrl"));
    bool ok = r == 0 && url && dt_fetch_text(dt, url, text) == 0;
    json_decref(ans);
    return ok;
}

static int set(barra_event_t *e, const char *field, const char *value)
{
    return value && value[0] ? barra_event_set(e, field, value, NULL) : 0;
}

static barra_event_t *robot_event(json_t *m)
{
    barra_event_t *e = NULL;
    const char *type = json_string_value(json_object_get(m, "msgtype"));
    if (barra_event_new(type && strcmp(type, "file") == 0 ? "file" : "message", &e) < 0) {
        return NULL;
    }
    const char *conv = json_string_value(json_object_get(m, "conversationType"));
    const char *staff = json_string_value(json_object_get(m, "senderStaffId"));
    const char *corp = json_string_value(json_object_get(m, "senderCorpId"));
    const char *bot_corp = json_string_value(json_object_get(m, "chatbotCorpId"));
    int r = set(e, "id", json_string_value(json_object_get(m, "msgId")));
    r = r < 0 ? r : set(e, "source", "dingtalk");
    r = r < 0 ? r
              : set(e, "conversation.id", json_string_value(json_object_get(m, "conversationId")));
    /* "1" one-to-one, "2" a group; someone from another organisation makes it an external one. */
    r = r < 0 ? r
              : set(e, "conversation.type",
                    conv && strcmp(conv, "1") == 0                    ? "direct"
                    : corp && bot_corp && strcmp(corp, bot_corp) != 0 ? "external_group"
                                                                      : "group");
    r = r < 0 ? r
              : set(e, "sender.id",
                    staff ? staff : json_string_value(json_object_get(m, "senderId")));
    r = r < 0 ? r : set(e, "destination.platform", "dingtalk");
    /* Where DingTalk keeps a tenant's messages is not published; mainland China is assumed
     * (docs/dingtalk.md, "Data residency"). */
    r = r < 0 ? r : set(e, "destination.region", "cn-mainland");
    r = r < 0 ? r : set(e, "direction", "outbound");
    if (r == 0 && type && strcmp(type, "file") == 0) {
        r = set(e, "file.name",
                json_string_value(json_object_get(json_object_get(m, "content"), "fileName")));
    }
    if (r == 0 && staff) {
        r = barra_event_add_subject(e, staff);
    }
    if (r < 0) {
        barra_event_free(e);
        return NULL;
    }
    return e;
}

/* The answer in the conversation: the tip, and the redacted text when redacting. */
static int reply(struct gw_dingtalk *dt, json_t *m, const struct gw_verdict *v, const char *lang,
                 struct barra_error *reterr)
{
    const char *url = json_string_value(json_object_get(m, "sessionWebhook"));
    const char *staff = json_string_value(json_object_get(m, "senderStaffId"));
    const char *conv = json_string_value(json_object_get(m, "conversationType"));
    size_t base = strlen(dt->c->oapi_base);
    if (url == NULL || strncmp(url, dt->c->oapi_base, base) != 0 || url[base] != '/') {
        /* Only DingTalk's own host is ever posted to, whatever a message says. */
        return barra_error_set(reterr, -BARRA_EINVAL, "the message's session webhook is not on %s",
                               dt->c->oapi_base);
    }
    struct buf text;
    buf_init(&text, 1 << 20);
    (void)buf_append_str(&text, v->tip);
    if (v->text) {
        static const struct {
            const char *lang, *label;
        } labels[] = {{"zh-Hant", "\n\n遮蔽後："},
                      {"zh-Hans", "\n\n遮蔽后："},
                      {"pt", "\n\nTexto com os dados ocultados:\n"},
                      {"en", "\n\nWith the personal data masked:\n"}};
        for (size_t i = 0; i < 4; i++) {
            if (strcmp(labels[i].lang, lang) == 0) {
                (void)buf_append_str(&text, labels[i].label);
            }
        }
        (void)buf_append_str(&text, v->text);
    }
    json_t *body = text.err ? NULL
                            : json_pack("{s:s, s:{s:s#}}", "msgtype", "text", "text", "content",
                                        text.data, text.len);
    if (body && staff && conv && strcmp(conv, "2") == 0) { /* in a group: @ the sender */
        (void)json_object_set_new(body, "at", json_pack("{s:[s]}", "atUserIds", staff));
    }
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text.data) {
        explicit_bzero(text.data, text.len);
    }
    buf_done(&text);
    if (s == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    struct buf answer;
    buf_init(&answer, 1 << 16);
    long status = 0;
    int r = dt_http_post(url, dt->c->ca_file, s, &answer, &status, reterr);
    explicit_bzero(s, strlen(s));
    free(s);
    json_t *j = r == 0 ? json_loadb(answer.data ? answer.data : "", answer.len, 0, NULL) : NULL;
    json_t *code = json_object_get(j, "errcode");
    if (r == 0 && (status != 200 || !json_is_integer(code) || json_integer_value(code) != 0)) {
        r = barra_error_set(reterr, -BARRA_EIO,
                            "the session webhook refused the reply (HTTP %ld, "
                            "errcode %lld)",
                            status,
                            json_is_integer(code) ? (long long)json_integer_value(code) : -1);
    }
    json_decref(j);
    buf_done(&answer);
    return r;
}

int gw_dingtalk_robot_message(struct gw_dingtalk *dt, const char *json, size_t len,
                              struct barra_error *reterr)
{
    json_t *m = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    barra_event_t *e = m ? robot_event(m) : NULL;
    if (e == NULL) {
        json_decref(m);
        return barra_error_set(reterr, -BARRA_EPARSE, "a robot message that cannot be read");
    }
    struct buf text;
    buf_init(&text, dt->gw->config->max_file + (1 << 20));
    bool whole = message_text(m, &text);
    const char *type = json_string_value(json_object_get(m, "msgtype"));
    bool readable = whole && !text.err && utf8_is_valid(text.data ? text.data : "", text.len) &&
                    memchr(text.data ? text.data : "", '\0', text.len) == NULL;
    if (readable && type && strcmp(type, "file") == 0) {
        readable = add_file(dt, m, &text);
    }
    const char *lang = gw_guess_lang(readable ? text.data : NULL, readable ? text.len : 0);
    struct gw_verdict v;
    int r = gw_verdict_decide(dt->gw, e, readable ? (text.data ? text.data : "") : NULL,
                              readable ? text.len : 0, lang, "dingtalk-robot", &v, reterr);
    if (text.data) {
        explicit_bzero(text.data, text.len);
    }
    buf_done(&text);
    barra_event_free(e);
    if (r < 0) {
        json_decref(m);
        return r;
    }
    atomic_fetch_add(&dt->robot_messages, 1);
    if (v.action == BARRA_ACTION_BLOCK || v.action == BARRA_ACTION_REQUIRE_CONSENT) {
        gw_dingtalk_notify(dt, "Barra: personal data in a DingTalk chat",
                           "A robot message was decided **%s** (decision %s).",
                           barra_action_name(v.action), v.decision_id);
    }
    /* Nothing to say about content that may go as it is. */
    if (dt->c->robot_replies && v.tip && !(v.action == BARRA_ACTION_ALLOW && v.text == NULL)) {
        struct barra_error err;
        int rr = reply(dt, m, &v, lang, &err);
        if (rr < 0) {
            dt_log("robot reply for decision %s: %s", v.decision_id, err.message);
        }
        (void)gw_verdict_action(dt->gw, &v, "dingtalk", "reply", rr == 0,
                                rr < 0 ? err.message : NULL);
    }
    gw_verdict_done(&v);
    json_decref(m);
    return 0;
}
