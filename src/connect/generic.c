/* SPDX-License-Identifier: Apache-2.0 */
/* The generic JSON webhook connector: a system that can send JSON and receive JSON (a helpdesk, a
 * form service, an in-house chat) plugs in without code. Requests are content events; replies
 * are posted as {"schema":"barra.reply/1", ...} to the configured URL. */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "connect/connect.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/jsonw.h"

#include "core/banned.h"

struct generic {
    struct connector base;
    char *reply_url;
};

static int generic_to_event(struct connector *c, const char *body, size_t len, barra_event_t **ret,
                            struct barra_error *reterr)
{
    (void)c;
    return barra_event_parse(body, len, ret, reterr);
}

static const char *action_name(enum connect_action a)
{
    return a == CONNECT_REPLY ? "reply" : a == CONNECT_RECALL ? "recall" : "notify";
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static int generic_act(struct connector *c, const struct connect_outcome *o,
                       struct barra_error *reterr)
{
    struct generic *g = (struct generic *)c;
    if (g->reply_url == NULL) {
        return 0;
    }
    struct buf b;
    buf_init(&b, 0);
    (void)buf_append_str(&b, "{\"schema\":\"barra.reply/1\",");
    (void)jsonw_key(&b, "connector");
    (void)jsonw_string(&b, c->name);
    (void)buf_append_char(&b, ',');
    (void)jsonw_key(&b, "action");
    (void)jsonw_string(&b, action_name(o->action));
    (void)buf_append_char(&b, ',');
    (void)jsonw_key(&b, "event_id");
    (void)jsonw_string(&b, barra_event_get(o->event, "id"));
    (void)buf_append_char(&b, ',');
    (void)jsonw_key(&b, "conversation_id");
    (void)jsonw_string(&b, barra_event_get(o->event, "conversation.id"));
    (void)buf_append_char(&b, ',');
    (void)jsonw_key(&b, "decision_id");
    (void)jsonw_string(&b, o->decision_id);
    (void)buf_printf(&b, ",\"deliver\":%s,", o->deliver ? "true" : "false");
    (void)jsonw_key(&b, "text");
    (void)jsonw_string(&b, o->text);
    (void)buf_append_char(&b, ',');
    (void)jsonw_key(&b, "tip");
    (void)jsonw_string(&b, o->tip);
    (void)buf_append_str(&b, ",\"decision\":");
    (void)buf_append_str(&b, o->decision_json ? o->decision_json : "null");
    (void)buf_append_char(&b, '}');
    if (b.err) {
        buf_done(&b);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    CURL *curl = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    long status = 0;
    CURLcode cc = CURLE_FAILED_INIT;
    if (curl && h) {
        (void)curl_easy_setopt(curl, CURLOPT_URL, g->reply_url);
        (void)curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
        (void)curl_easy_setopt(curl, CURLOPT_POSTFIELDS, b.data);
        (void)curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b.len);
        (void)curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
        (void)curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        (void)curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        (void)curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
        cc = curl_easy_perform(curl);
        (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    buf_done(&b);
    if (cc != CURLE_OK) {
        return barra_error_set(reterr, -BARRA_EIO, "connector %s: posting the reply failed: %s",
                               c->name, curl_easy_strerror(cc));
    }
    if (status < 200 || status > 299) {
        return barra_error_set(reterr, -BARRA_EIO, "connector %s: the reply URL answered HTTP %ld",
                               c->name, status);
    }
    return 0;
}

static void generic_free(struct connector *c)
{
    struct generic *g = (struct generic *)c;
    if (g) {
        barra_free(g->base.name);
        barra_free(g->reply_url);
        barra_free(g);
    }
}

static const struct connector_ops generic_ops = {
    .kind = "generic",
    .to_event = generic_to_event,
    .act = generic_act,
    .free = generic_free,
};

int connect_generic_new(const char *name, const char *reply_url, struct connector **ret,
                        struct barra_error *reterr)
{
    struct generic *g = barra_calloc(1, sizeof(*g));
    if (g == NULL || (g->base.name = barra_strdup(name)) == NULL ||
        (reply_url && (g->reply_url = barra_strdup(reply_url)) == NULL)) {
        generic_free(g ? &g->base : NULL);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    g->base.ops = &generic_ops;
    *ret = &g->base;
    return 0;
}
