/* SPDX-License-Identifier: Apache-2.0 */
/* YAML documents (rules, policies, configuration) loaded into a plain tree with line and column for
 * every node, so that each error can say where it is. Anchors and aliases are refused (no "billion
 * laughs"), and depth and size are bounded. */
#ifndef BARRA_CORE_YAMLTREE_H
#define BARRA_CORE_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <barra/error.h>

enum ynode_kind {
    YNODE_SCALAR,
    YNODE_SEQ,
    YNODE_MAP,
};

struct ynode {
    enum ynode_kind kind;
    uint32_t line, column; /* 1-based */
    char *value;           /* scalars: the text, NUL-terminated */
    bool plain;            /* scalars: written without quotes, so 12 may be a number */
    size_t n;              /* number of items; for maps twice the number of keys */
    struct ynode **items;  /* maps: items[2i] is a key (scalar), items[2i+1] its value */
};

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 1000000

/* Parses one YAML document. `name` is used in error messages. Returns owned; free with
 * ytree_free(). An empty document yields an empty map. */
int ytree_load_string(const char *text, size_t len, const char *name, struct ynode **ret,
                      struct barra_error *reterr);
int ytree_load_file(const char *path, struct ynode **ret, struct barra_error *reterr);
struct ynode *ytree_free(struct ynode *n);

/* A node read as a list: a sequence's items, or any other node alone, so that `x` and `[x]` read
 * alike. `node` points to the caller's pointer to the node (the one-item list). */
static inline size_t ytree_as_list(const struct ynode *const *node,
                                   const struct ynode *const **ret_items)
{
    if ((*node)->kind == YNODE_SEQ) {
        *ret_items = (const struct ynode *const *)(*node)->items;
        return (*node)->n;
    }
    *ret_items = node;
    return 1;
}

/* The value of `key` in a map, or NULL. */
const struct ynode *ytree_get(const struct ynode *map, const char *key);
/* The kind as a word, for messages: "a scalar", "a list", "a mapping". */
const char *ytree_kind_name(enum ynode_kind kind);

#endif
