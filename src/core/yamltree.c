/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "core/yamltree.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

#include "core/banned.h"

#define YTREE_MAX_FILE (64u << 20)

struct ybuilder {
    yaml_parser_t parser;
    const char *name;
    size_t nodes;
    struct barra_error *reterr;
};

struct ynode *ytree_free(struct ynode *n)
{
    if (n == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        ytree_free(n->items[i]);
    }
    barra_free(n->items);
    barra_free(n->value);
    barra_free(n);
    return NULL;
}

const char *ytree_kind_name(enum ynode_kind kind)
{
    switch (kind) {
    case YNODE_SCALAR:
        return "a scalar";
    case YNODE_SEQ:
        return "a list";
    case YNODE_MAP:
        return "a mapping";
    }
    return "?";
}

const struct ynode *ytree_get(const struct ynode *map, const char *key)
{
    if (map == NULL || map->kind != YNODE_MAP) {
        return NULL;
    }
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        if (strcmp(map->items[i]->value, key) == 0) {
            return map->items[i + 1];
        }
    }
    return NULL;
}

static int fail_at(struct ybuilder *b, const yaml_mark_t *m, int code, const char *what)
{
    return barra_error_set_at(b->reterr, code, b->name, (uint32_t)m->line + 1,
                              (uint32_t)m->column + 1, "%s", what);
}

static int next_event(struct ybuilder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        const char *problem = b->parser.problem ? b->parser.problem : "invalid YAML";
        return fail_at(b, &b->parser.problem_mark, -BARRA_EPARSE, problem);
    }
    return 0;
}

static struct ynode *node_new(struct ybuilder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
    if (++b->nodes > YTREE_MAX_NODES) {
        (void)fail_at(b, m, -BARRA_ELIMIT, "document has too many nodes");
        return NULL;
    }
    struct ynode *n = barra_calloc(1, sizeof(*n));
    if (n == NULL) {
        (void)barra_error_set(b->reterr, -BARRA_ENOMEM, "out of memory reading %s", b->name);
        return NULL;
    }
    n->kind = kind;
    n->line = (uint32_t)m->line + 1;
    n->column = (uint32_t)m->column + 1;
    return n;
}

static int node_push(struct ynode *parent, struct ynode *child)
{
    void *q = barra_reallocarray(parent->items, parent->n + 1, sizeof(*parent->items));
    if (q == NULL) {
        return -BARRA_ENOMEM;
    }
    parent->items = q;
    parent->items[parent->n++] = child;
    return 0;
}

static int build_node(struct ybuilder *b, yaml_event_t *ev, int depth, struct ynode **ret);

/* Reads the children of a sequence or mapping until its end event. */
static int build_children(struct ybuilder *b, struct ynode *n, yaml_event_type_t end, int depth)
{
    for (;;) {
        yaml_event_t ev;
        int r = next_event(b, &ev);
        if (r < 0) {
            return r;
        }
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        struct ynode *child;
        r = build_node(b, &ev, depth + 1, &child);
        yaml_event_delete(&ev);
        if (r < 0) {
            return r;
        }
        if (n->kind == YNODE_MAP && n->n % 2 == 0 && child->kind != YNODE_SCALAR) {
            int e = barra_error_set_at(b->reterr, -BARRA_EPARSE, b->name, child->line,
                                       child->column, "mapping keys must be scalars");
            ytree_free(child);
            return e;
        }
        if (node_push(n, child) < 0) {
            ytree_free(child);
            return barra_error_set(b->reterr, -BARRA_ENOMEM, "out of memory reading %s", b->name);
        }
    }
    if (n->kind == YNODE_MAP) {
        for (size_t i = 0; i + 1 < n->n; i += 2) {
            for (size_t j = i + 2; j + 1 < n->n; j += 2) {
                if (strcmp(n->items[i]->value, n->items[j]->value) == 0) {
                    return barra_error_set_at(b->reterr, -BARRA_EPARSE, b->name, n->items[j]->line,
                                              n->items[j]->column, "duplicate key \"%s\"",
                                              n->items[j]->value);
                }
            }
        }
    }
    return 0;
}

static int build_node(struct ybuilder *b, yaml_event_t *ev, int depth, struct ynode **ret)
{
    if (depth > YTREE_MAX_DEPTH) {
        return fail_at(b, &ev->start_mark, -BARRA_ELIMIT, "nested too deeply");
    }
    struct ynode *n = NULL;
    int r = 0;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return fail_at(b, &ev->start_mark, -BARRA_EPARSE, "aliases (*name) are not supported");
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor) {
            return fail_at(b, &ev->start_mark, -BARRA_EPARSE, "anchors (&name) are not supported");
        }
        n = node_new(b, YNODE_SCALAR, &ev->start_mark);
        if (n == NULL) {
            return b->reterr ? b->reterr->code : -BARRA_ENOMEM;
        }
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->value = barra_memdup(ev->data.scalar.value, ev->data.scalar.length);
        if (n->value == NULL) {
            ytree_free(n);
            return barra_error_set(b->reterr, -BARRA_ENOMEM, "out of memory reading %s", b->name);
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        if (seq ? ev->data.sequence_start.anchor != NULL : ev->data.mapping_start.anchor != NULL) {
            return fail_at(b, &ev->start_mark, -BARRA_EPARSE, "anchors (&name) are not supported");
        }
        n = node_new(b, seq ? YNODE_SEQ : YNODE_MAP, &ev->start_mark);
        if (n == NULL) {
            return b->reterr ? b->reterr->code : -BARRA_ENOMEM;
        }
        r = build_children(b, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth);
        break;
    }
    default:
        return fail_at(b, &ev->start_mark, -BARRA_EPARSE, "unexpected YAML event");
    }
    if (r < 0) {
        ytree_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

int ytree_load_string(const char *text, size_t len, const char *name, struct ynode **ret,
                      struct barra_error *reterr)
{
    struct ybuilder b = {.name = name, .reterr = reterr};
    if (!yaml_parser_initialize(&b.parser)) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory reading %s", name);
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    struct ynode *root = NULL;
    int r = 0;
    bool done = false;
    while (!done && r == 0) {
        yaml_event_t ev;
        r = next_event(&b, &ev);
        if (r < 0) {
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (root) {
                r = fail_at(&b, &ev.start_mark, -BARRA_EPARSE, "more than one document");
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            if (root) {
                r = fail_at(&b, &ev.start_mark, -BARRA_EPARSE, "more than one document");
            } else {
                r = build_node(&b, &ev, 0, &root);
            }
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&b.parser);
    if (r < 0) {
        ytree_free(root);
        return r;
    }
    if (root == NULL) {
        yaml_mark_t m = {0, 0, 0};
        root = node_new(&b, YNODE_MAP, &m);
        if (root == NULL) {
            return -BARRA_ENOMEM;
        }
    }
    *ret = root;
    return 0;
}

int ytree_load_file(const char *path, struct ynode **ret, struct barra_error *reterr)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL) {
        int e = errno;
        return barra_error_set(reterr, -e, "cannot open %s: %s", path, strerror(e));
    }
    struct buf text;
    buf_init(&text, YTREE_MAX_FILE);
    char chunk[65536];
    size_t n;
    int r = 0;
    while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        r = buf_append(&text, chunk, n);
    }
    if (r == 0 && ferror(f)) {
        r = barra_error_set(reterr, -BARRA_EIO, "cannot read %s", path);
    } else if (r < 0) {
        r = barra_error_set(reterr, r, "cannot read %s: %s", path,
                            r == -BARRA_ELIMIT ? "file larger than 64 MiB" : barra_strerror(r));
    }
    (void)fclose(f);
    if (r == 0) {
        r = ytree_load_string(text.data ? text.data : "", text.len, path, ret, reterr);
    }
    buf_done(&text);
    return r;
}
