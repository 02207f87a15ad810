/* SPDX-License-Identifier: Apache-2.0 */
/* Content events (docs/events.md): parsed strictly from JSON, or built with setters. A field the
 * format does not know is an error rather than something ignored, so a misspelt "destinaton" cannot
 * make a rule silently miss. */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/date.h"
#include "core/error.h"
#include "core/jsonr.h"
#include "policy/policy-int.h"

#include "core/banned.h"

#define EVENT_MAX_JSON  ((size_t)64 << 20)
#define EVENT_MAX_FIELD 1024
#define EVENT_MAX_LIST  10000

const char *pol_kind_name(enum pol_kind k)
{
    return k == POL_KIND_FILE ? "file" : "message";
}

const char *pol_conv_type_name(enum pol_conv_type t)
{
    static const char *const names[] = {"unknown", "direct", "group", "external_group"};
    return (unsigned)t < 4 ? names[t] : "unknown";
}

const char *pol_direction_name(enum pol_direction d)
{
    static const char *const names[] = {"unknown", "inbound", "outbound", "internal"};
    return (unsigned)d < 4 ? names[d] : "unknown";
}

BARRA_EXPORT const char *barra_consent_state_name(enum barra_consent_state s)
{
    static const char *const names[] = {"missing", "granted", "refused", "withdrawn", "expired"};
    return (unsigned)s < 5 ? names[s] : NULL;
}

int pol_parse_time(const char *s, int64_t *ret_time, int32_t *ret_offset)
{
    int64_t ms;
    int r = date_parse_rfc3339(s, &ms, ret_offset);
    if (r == 0) {
        *ret_time = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    }
    return r;
}

static void party_done(struct pol_party *p)
{
    barra_free(p->id);
    barra_free(p->department);
    barra_free(p->role);
}

BARRA_EXPORT barra_event_t *barra_event_free(barra_event_t *e)
{
    if (e == NULL) {
        return NULL;
    }
    barra_free(e->id);
    if (e->text) {
        explicit_bzero(e->text, e->text_len);
        barra_free(e->text);
    }
    barra_free(e->source);
    barra_free(e->conversation_id);
    party_done(&e->sender);
    for (uint32_t i = 0; i < e->nrecipients; i++) {
        party_done(&e->recipients[i]);
    }
    barra_free(e->recipients);
    barra_free(e->destination_platform);
    barra_free(e->destination_region);
    barra_free(e->file_name);
    barra_free(e->file_type);
    barra_free(e->file_path);
    barra_free(e->file_sha256);
    for (uint32_t i = 0; i < e->nsubjects; i++) {
        barra_free(e->subjects[i]);
    }
    barra_free(e->subjects);
    barra_free(e);
    return NULL;
}

static int set_kind(barra_event_t *e, const char *v)
{
    if (strcmp(v, "message") == 0) {
        e->kind = POL_KIND_MESSAGE;
    } else if (strcmp(v, "file") == 0) {
        e->kind = POL_KIND_FILE;
    } else {
        return -BARRA_EINVAL;
    }
    return 0;
}

BARRA_EXPORT int barra_event_new(const char *kind, barra_event_t **ret)
{
    if (kind == NULL || ret == NULL) {
        return -BARRA_EINVAL;
    }
    barra_event_t *e = barra_calloc(1, sizeof(*e));
    if (e == NULL) {
        return -BARRA_ENOMEM;
    }
    if (set_kind(e, kind) < 0) {
        barra_free(e);
        return -BARRA_EINVAL;
    }
    *ret = e;
    return 0;
}

/* The file type when the event does not give one: the name's extension, lowercase. */
static int derive_file_type(barra_event_t *e)
{
    const char *name = e->file_name ? e->file_name : e->file_path;
    if (e->file_type || name == NULL) {
        return 0;
    }
    const char *slash = strrchr(name, '/'), *dot = strrchr(name, '.');
    if (dot == NULL || (slash && dot < slash) || dot[1] == '\0' || strlen(dot + 1) > 16) {
        return 0;
    }
    e->file_type = barra_strdup(dot + 1);
    if (e->file_type == NULL) {
        return -BARRA_ENOMEM;
    }
    for (char *c = e->file_type; *c; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    return 0;
}

static bool is_region(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1])) {
        return false;
    }
    for (size_t i = 2; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
            return false;
        }
    }
    return n == 2 || s[2] == '-';
}

static bool is_sha256(const char *s)
{
    if (strlen(s) != 64) {
        return false;
    }
    for (; *s; s++) {
        if (!isxdigit((unsigned char)*s)) {
            return false;
        }
    }
    return true;
}

struct string_field {
    const char *path;
    size_t offset; /* of the char * in struct barra_event */
};

#define F(path, member)                                                                            \
    {                                                                                              \
        path, offsetof(struct barra_event, member)                                                 \
    }
static const struct string_field string_fields[] = {
    F("id", id),
    F("source", source),
    F("conversation.id", conversation_id),
    F("sender.id", sender.id),
    F("sender.department", sender.department),
    F("sender.role", sender.role),
    F("destination.platform", destination_platform),
    F("destination.region", destination_region),
    F("file.name", file_name),
    F("file.type", file_type),
    F("file.path", file_path),
    F("file.sha256", file_sha256),
};
#undef F

/* Validates and stores one field given as text. */
static int set_field(barra_event_t *e, const char *field, const char *value, size_t len,
                     struct barra_error *reterr)
{
    if (strcmp(field, "text") == 0) {
        if (memchr(value, '\0', len)) {
            return barra_error_set(reterr, -BARRA_EFORMAT, "event text must not hold a NUL");
        }
        char *t = barra_malloc(len + 1);
        if (t == NULL) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
        memcpy(t, value, len);
        t[len] = '\0';
        if (e->text) {
            explicit_bzero(e->text, e->text_len);
            barra_free(e->text);
        }
        e->text = t;
        e->text_len = len;
        return 0;
    }
    if (strlen(value) != len || len > EVENT_MAX_FIELD) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "event field \"%s\" must be text of at most %d bytes without NUL",
                               field, EVENT_MAX_FIELD);
    }
    if (strcmp(field, "kind") == 0) {
        return set_kind(e, value) < 0 ? barra_error_set(reterr, -BARRA_EFORMAT,
                                                        "event kind must be \"message\" or "
                                                        "\"file\"")
                                      : 0;
    }
    if (strcmp(field, "time") == 0) {
        if (pol_parse_time(value, &e->time, &e->utc_offset) < 0) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "event time must be RFC 3339, e.g. 2026-11-23T09:30:00+08:00");
        }
        e->has_time = true;
        return 0;
    }
    if (strcmp(field, "conversation.type") == 0 || strcmp(field, "direction") == 0) {
        bool conv = field[0] == 'c';
        for (unsigned i = 1; i < 4; i++) {
            const char *name = conv ? pol_conv_type_name((enum pol_conv_type)i)
                                    : pol_direction_name((enum pol_direction)i);
            if (strcmp(name, value) == 0) {
                if (conv) {
                    e->conversation_type = (enum pol_conv_type)i;
                } else {
                    e->direction = (enum pol_direction)i;
                }
                return 0;
            }
        }
        return barra_error_set(reterr, -BARRA_EFORMAT, "event %s must be %s", field,
                               conv ? "direct, group or external_group"
                                    : "inbound, outbound or internal");
    }
    if (strcmp(field, "destination.region") == 0 && !is_region(value)) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "event destination.region must be a region code such as mo, hk or "
                               "cn-mainland");
    }
    if (strcmp(field, "file.sha256") == 0 && !is_sha256(value)) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "event file.sha256 must be 64 hex digits");
    }
    for (size_t i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++) {
        if (strcmp(string_fields[i].path, field) == 0) {
            char **slot = (char **)((char *)e + string_fields[i].offset);
            char *copy = barra_strdup(value);
            if (copy == NULL) {
                return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
            }
            barra_free(*slot);
            *slot = copy;
            return 0;
        }
    }
    return barra_error_set(reterr, -BARRA_EINVAL, "unknown event field \"%s\"", field);
}

BARRA_EXPORT int barra_event_set(barra_event_t *e, const char *field, const char *value,
                                 struct barra_error *reterr)
{
    if (e == NULL || field == NULL || value == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no event, field or value");
    }
    int r = set_field(e, field, value, strlen(value), reterr);
    if (r == 0 && (strcmp(field, "file.name") == 0 || strcmp(field, "file.path") == 0)) {
        r = derive_file_type(e);
    }
    return r;
}

BARRA_EXPORT int barra_event_set_file_size(barra_event_t *e, uint64_t size)
{
    if (e == NULL) {
        return -BARRA_EINVAL;
    }
    e->file_size = size;
    e->has_file_size = true;
    return 0;
}

static int add_string(char ***list, uint32_t *n, const char *s)
{
    if (*n >= EVENT_MAX_LIST) {
        return -BARRA_ELIMIT;
    }
    char **l = barra_reallocarray(*list, *n + 1, sizeof(char *));
    if (l == NULL) {
        return -BARRA_ENOMEM;
    }
    *list = l;
    if ((l[*n] = barra_strdup(s)) == NULL) {
        return -BARRA_ENOMEM;
    }
    (*n)++;
    return 0;
}

BARRA_EXPORT int barra_event_add_subject(barra_event_t *e, const char *subject)
{
    if (e == NULL || subject == NULL || subject[0] == '\0' || strlen(subject) > EVENT_MAX_FIELD) {
        return -BARRA_EINVAL;
    }
    return add_string(&e->subjects, &e->nsubjects, subject);
}

BARRA_EXPORT const char *barra_event_text(const barra_event_t *e, size_t *ret_len)
{
    if (e == NULL || e->text == NULL) {
        return NULL;
    }
    if (ret_len) {
        *ret_len = e->text_len;
    }
    return e->text;
}

/* ---- JSON ---- */

static int json_string_field(barra_event_t *e, const char *path, const struct jr_value *v,
                             struct barra_error *reterr)
{
    if (!jr_is_string(v)) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "event field \"%s\" must be a string", path);
    }
    return set_field(e, path, v->u.s, v->n, reterr);
}

/* A member of a nested event object and the event field it sets ("file.name" for "name"). */
struct nested_field {
    const char *key, *path;
};

/* An object whose members are all strings named in `keys`; each sets the field `keys` pairs it
 * with. `prefix` names the object in errors. */
static int json_object_fields(barra_event_t *e, const char *prefix, const struct jr_value *obj,
                              const struct nested_field *keys, struct barra_error *reterr)
{
    if (obj->type != JR_OBJECT) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "event field \"%s\" must be an object",
                               prefix);
    }
    for (uint32_t m = 0; m < obj->n; m++) {
        const char *key = obj->u.members[m].key;
        size_t i = 0;
        while (keys[i].key && strcmp(keys[i].key, key) != 0) {
            i++;
        }
        if (keys[i].key == NULL) {
            return barra_error_set(reterr, -BARRA_EFORMAT, "unknown event field \"%s.%.100s\"",
                                   prefix, key);
        }
        int r = json_string_field(e, keys[i].path, &obj->u.members[m].value, reterr);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int json_party(const struct jr_value *obj, const char *what, struct pol_party *ret,
                      struct barra_error *reterr)
{
    if (obj->type != JR_OBJECT) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "event field \"%s\" must be an object",
                               what);
    }
    for (uint32_t m = 0; m < obj->n; m++) {
        const char *key = obj->u.members[m].key;
        const struct jr_value *v = &obj->u.members[m].value;
        char **slot = strcmp(key, "id") == 0           ? &ret->id
                      : strcmp(key, "department") == 0 ? &ret->department
                      : strcmp(key, "role") == 0       ? &ret->role
                                                       : NULL;
        if (slot == NULL) {
            return barra_error_set(reterr, -BARRA_EFORMAT, "unknown event field \"%s.%.100s\"",
                                   what, key);
        }
        if (!jr_is_string(v) || v->n > EVENT_MAX_FIELD || strlen(v->u.s) != v->n) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "event field \"%s.%s\" must be text of at most %d bytes", what,
                                   key, EVENT_MAX_FIELD);
        }
        barra_free(*slot);
        if ((*slot = barra_strdup(v->u.s)) == NULL) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
    return 0;
}

static int json_recipients(barra_event_t *e, const struct jr_value *arr, struct barra_error *reterr)
{
    if (arr->type != JR_ARRAY || arr->n > EVENT_MAX_LIST) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "event field \"recipients\" must be an array of at most %d objects",
                               EVENT_MAX_LIST);
    }
    size_t n = arr->n;
    e->recipients = barra_calloc(n + 1, sizeof(*e->recipients));
    if (e->recipients == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        e->nrecipients++;
        int r = json_party(&arr->u.items[i], "recipients[]", &e->recipients[i], reterr);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int json_subjects(barra_event_t *e, const struct jr_value *arr, struct barra_error *reterr)
{
    if (arr->type != JR_ARRAY) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "event field \"subjects\" must be an array of strings");
    }
    for (uint32_t i = 0; i < arr->n; i++) {
        const struct jr_value *v = &arr->u.items[i];
        if (!jr_is_string(v) || strlen(v->u.s) != v->n) {
            return barra_error_set(reterr, -BARRA_EFORMAT,
                                   "event field \"subjects\" must be an array of strings");
        }
        int r = barra_event_add_subject(e, v->u.s);
        if (r < 0) {
            return barra_error_set(reterr, r,
                                   r == -BARRA_EINVAL ? "a data subject id is empty or too long"
                                                      : "too many data subjects");
        }
    }
    return 0;
}

static int json_file(barra_event_t *e, const struct jr_value *obj, struct barra_error *reterr)
{
    static const struct nested_field keys[] = {{"name", "file.name"},
                                               {"type", "file.type"},
                                               {"path", "file.path"},
                                               {"sha256", "file.sha256"},
                                               {NULL, NULL}};
    if (obj->type != JR_OBJECT) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "event field \"file\" must be an object");
    }
    for (uint32_t m = 0; m < obj->n; m++) {
        const char *key = obj->u.members[m].key;
        const struct jr_value *v = &obj->u.members[m].value;
        if (strcmp(key, "size") == 0) {
            if (v->type != JR_INTEGER || v->u.i < 0) {
                return barra_error_set(reterr, -BARRA_EFORMAT,
                                       "event field \"file.size\" must be a whole number of bytes");
            }
            (void)barra_event_set_file_size(e, (uint64_t)v->u.i);
            continue;
        }
        struct jr_member one = obj->u.members[m];
        struct jr_value single = {.type = JR_OBJECT, .n = 1, .u.members = &one};
        int r = json_object_fields(e, "file", &single, keys, reterr);
        if (r < 0) {
            return r;
        }
    }
    return 0;
}

static int json_event(barra_event_t *e, const struct jr_value *root, struct barra_error *reterr)
{
    static const struct nested_field conv_keys[] = {
        {"id", "conversation.id"}, {"type", "conversation.type"}, {NULL, NULL}};
    static const struct nested_field dest_keys[] = {
        {"platform", "destination.platform"}, {"region", "destination.region"}, {NULL, NULL}};
    if (root->type != JR_OBJECT) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "an event is a JSON object");
    }
    const struct jr_value *kind = jr_get(root, "kind");
    if (!jr_is_string(kind) || set_kind(e, kind->u.s) < 0) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "event \"kind\" must be \"message\" or \"file\"");
    }
    int r = 0;
    for (uint32_t m = 0; m < root->n; m++) {
        const char *key = root->u.members[m].key;
        const struct jr_value *v = &root->u.members[m].value;
        if (strcmp(key, "kind") == 0) {
            continue;
        } else if (strcmp(key, "schema") == 0) {
            if (!jr_is_string(v) || strcmp(v->u.s, "barra.event/1") != 0) {
                r = barra_error_set(reterr, -BARRA_EFORMAT,
                                    "event schema must be \"barra.event/1\"");
            }
        } else if (strcmp(key, "id") == 0 || strcmp(key, "text") == 0 ||
                   strcmp(key, "source") == 0 || strcmp(key, "direction") == 0 ||
                   strcmp(key, "time") == 0) {
            r = json_string_field(e, key, v, reterr);
        } else if (strcmp(key, "conversation") == 0) {
            r = json_object_fields(e, "conversation", v, conv_keys, reterr);
        } else if (strcmp(key, "destination") == 0) {
            r = json_object_fields(e, "destination", v, dest_keys, reterr);
        } else if (strcmp(key, "sender") == 0) {
            r = json_party(v, "sender", &e->sender, reterr);
        } else if (strcmp(key, "recipients") == 0) {
            r = json_recipients(e, v, reterr);
        } else if (strcmp(key, "file") == 0) {
            r = json_file(e, v, reterr);
        } else if (strcmp(key, "subjects") == 0) {
            r = json_subjects(e, v, reterr);
        } else {
            r = barra_error_set(reterr, -BARRA_EFORMAT,
                                "unknown event field \"%.100s\" (docs/events.md lists them)", key);
        }
        if (r < 0) {
            return r;
        }
    }
    if (e->source == NULL) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "the event has no \"source\"");
    }
    if (!e->has_time) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "the event has no \"time\"");
    }
    if (e->kind == POL_KIND_MESSAGE && e->text == NULL) {
        return barra_error_set(reterr, -BARRA_EFORMAT, "a message event needs \"text\"");
    }
    if (e->kind == POL_KIND_FILE && e->file_name == NULL && e->file_path == NULL) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "a file event needs \"file\" with a name or a path");
    }
    r = derive_file_type(e);
    return r < 0 ? barra_error_set(reterr, r, "out of memory") : 0;
}

BARRA_EXPORT int barra_event_parse(const char *json, size_t len, barra_event_t **ret,
                                   struct barra_error *reterr)
{
    if (json == NULL || ret == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL, "no event text");
    }
    if (len > EVENT_MAX_JSON) {
        return barra_error_set(reterr, -BARRA_ELIMIT, "an event is at most %zu bytes",
                               EVENT_MAX_JSON);
    }
    struct jr_doc doc;
    struct jr_error jerr;
    int r = jr_parse(json, len, &doc, &jerr);
    if (r < 0) {
        jr_free(&doc);
        if (r == -BARRA_ENOMEM) {
            return barra_error_set(reterr, r, "out of memory");
        }
        return barra_error_set_at(reterr, -BARRA_EFORMAT, "<event>", jerr.line, jerr.column,
                                  "event is not valid JSON: %s (line %u, column %u)", jerr.text,
                                  jerr.line, jerr.column);
    }
    barra_event_t *e = barra_calloc(1, sizeof(*e));
    if (e == NULL) {
        jr_free(&doc);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    r = json_event(e, &doc.root, reterr);
    jr_free(&doc);
    if (r < 0) {
        barra_event_free(e);
        return r;
    }
    *ret = e;
    return 0;
}

BARRA_EXPORT const char *barra_event_get(const barra_event_t *e, const char *field)
{
    if (e == NULL || field == NULL) {
        return NULL;
    }
    const struct {
        const char *name;
        const char *value;
    } fields[] = {
        {"kind", pol_kind_name(e->kind)},
        {"id", e->id},
        {"source", e->source},
        {"conversation.id", e->conversation_id},
        {"conversation.type", e->conversation_type == POL_CONV_UNKNOWN
                                  ? NULL
                                  : pol_conv_type_name(e->conversation_type)},
        {"sender.id", e->sender.id},
        {"sender.department", e->sender.department},
        {"sender.role", e->sender.role},
        {"destination.platform", e->destination_platform},
        {"destination.region", e->destination_region},
        {"direction", e->direction == POL_DIR_UNKNOWN ? NULL : pol_direction_name(e->direction)},
        {"file.name", e->file_name},
        {"file.type", e->file_type},
        {"file.path", e->file_path},
        {"file.sha256", e->file_sha256},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcmp(fields[i].name, field) == 0) {
            return fields[i].value;
        }
    }
    return NULL;
}

BARRA_EXPORT size_t barra_event_subject_count(const barra_event_t *e)
{
    return e ? e->nsubjects : 0;
}

BARRA_EXPORT const char *barra_event_subject(const barra_event_t *e, size_t i)
{
    return e && i < e->nsubjects ? e->subjects[i] : NULL;
}

BARRA_EXPORT int barra_event_set_text(barra_event_t *e, const char *text, size_t len)
{
    if (e == NULL || (text == NULL && len > 0)) {
        return -BARRA_EINVAL;
    }
    int r = set_field(e, "text", text ? text : "", len, NULL);
    return r == -BARRA_EFORMAT ? -BARRA_EINVAL : r;
}

BARRA_EXPORT int barra_time_parse(const char *s, int64_t *ret)
{
    int32_t offset;
    return s && ret && pol_parse_time(s, ret, &offset) == 0 ? 0 : -BARRA_EINVAL;
}
