/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk Stream mode frames (stream-frame.h). */
#include "config.h"

#include "connect/dingtalk/stream-frame.h"

#include <string.h>

#include "core/error.h"

#include "core/banned.h"

/* A header value: a string without NUL bytes, or NULL. */
static const char *header(const struct jr_value *h, const char *key)
{
    const struct jr_value *v = jr_get(h, key);
    return jr_is_string(v) && strlen(v->u.s) == v->n ? v->u.s : NULL;
}

int dt_frame_parse(const char *text, size_t len, struct dt_frame *f, struct barra_error *reterr)
{
    memset(f, 0, sizeof(*f));
    struct jr_error jerr;
    int r = jr_parse(text, len, &f->doc, &jerr);
    if (r == -BARRA_ENOMEM) {
        return barra_error_set(reterr, r, "out of memory");
    }
    if (r < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "a Stream frame is not JSON: %s", jerr.text);
    }
    const struct jr_value *root = &f->doc.root;
    const struct jr_value *h = jr_get(root, "headers");
    h = h ? h : jr_get(root, "header");
    const char *type = header(root, "type");
    if (root->type != JR_OBJECT || h == NULL || h->type != JR_OBJECT || type == NULL) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "a Stream frame is an object with type and headers");
    }
    if (strcmp(type, "SYSTEM") == 0) {
        f->type = DT_FRAME_SYSTEM;
    } else if (strcmp(type, "EVENT") == 0) {
        f->type = DT_FRAME_EVENT;
    } else if (strcmp(type, "CALLBACK") == 0) {
        f->type = DT_FRAME_CALLBACK;
    } else {
        return barra_error_set(reterr, -BARRA_EFORMAT, "unknown Stream frame type");
    }
    f->topic = header(h, "topic");
    f->message_id = header(h, "messageId");
    if (f->type == DT_FRAME_EVENT) {
        f->event_id = header(h, "eventId");
        f->event_type = header(h, "eventType");
    }
    const struct jr_value *data = jr_get(root, "data");
    if (data && data->type != JR_NULL) {
        if (!jr_is_string(data) || strlen(data->u.s) != data->n) {
            return barra_error_set(reterr, -BARRA_EFORMAT, "a Stream frame's data is a string");
        }
        /* It holds JSON in its turn: an object, checked here so that nobody acts on less. */
        struct jr_doc inner;
        r = jr_parse(data->u.s, data->n, &inner, &jerr);
        bool object = r == 0 && inner.root.type == JR_OBJECT;
        jr_free(&inner);
        if (r == -BARRA_ENOMEM) {
            return barra_error_set(reterr, r, "out of memory");
        }
        if (!object) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "a Stream frame's data is not a JSON object");
        }
        f->data = data->u.s;
        f->data_len = data->n;
    }
    if (f->topic == NULL) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "a Stream frame has no topic");
    }
    if (f->type != DT_FRAME_SYSTEM && (f->message_id == NULL || f->data == NULL)) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "an EVENT or CALLBACK frame has a messageId and data");
    }
    return 0;
}

void dt_frame_done(struct dt_frame *f)
{
    jr_free(&f->doc);
    memset(f, 0, sizeof(*f));
}
