/* SPDX-License-Identifier: Apache-2.0 */
/* The articles a policy may cite (rules/law/articles.yaml): a citation that is not on the list is
 * an error, so every decision rests on provisions the project has checked. */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/yamltree.h"
#include "policy/policy-int.h"

#include "core/banned.h"

extern const char pol_builtin_articles[];
extern const size_t pol_builtin_articles_len;

struct pol_articles {
    struct pol_article *items;
    size_t n;
};

struct pol_articles *pol_articles_free(struct pol_articles *a)
{
    if (a) {
        for (size_t i = 0; i < a->n; i++) {
            barra_free(a->items[i].id);
            barra_free(a->items[i].law);
            barra_free(a->items[i].article);
            barra_free(a->items[i].confidence);
            barra_free(a->items[i].title);
        }
        barra_free(a->items);
        barra_free(a);
    }
    return NULL;
}

static int get_field(const struct ynode *item, const char *key, const char *file, char **ret,
                     struct barra_error *reterr)
{
    const struct ynode *v = ytree_get(item, key);
    if (v == NULL || v->kind != YNODE_SCALAR || v->value[0] == '\0') {
        return barra_error_set_at(reterr, -BARRA_EPARSE, file, item->line, item->column,
                                  "an article needs \"%s\"", key);
    }
    *ret = barra_strdup(v->value);
    return *ret ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
}

static int read_articles(const struct ynode *doc, const char *file, struct pol_articles *a,
                         struct barra_error *reterr)
{
    const struct ynode *list = doc->kind == YNODE_MAP ? ytree_get(doc, "articles") : NULL;
    if (list == NULL || list->kind != YNODE_SEQ) {
        return barra_error_set_at(reterr, -BARRA_EPARSE, file, doc->line, doc->column,
                                  "expected \"articles:\" with a list of articles");
    }
    a->items = barra_calloc(list->n + 1, sizeof(*a->items));
    if (a->items == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < list->n; i++) {
        const struct ynode *it = list->items[i];
        struct pol_article *art = &a->items[i];
        if (it->kind != YNODE_MAP) {
            return barra_error_set_at(reterr, -BARRA_EPARSE, file, it->line, it->column,
                                      "an article is a mapping");
        }
        a->n++;
        int r;
        if ((r = get_field(it, "id", file, &art->id, reterr)) < 0 ||
            (r = get_field(it, "law", file, &art->law, reterr)) < 0 ||
            (r = get_field(it, "article", file, &art->article, reterr)) < 0 ||
            (r = get_field(it, "confidence", file, &art->confidence, reterr)) < 0 ||
            (r = get_field(it, "title", file, &art->title, reterr)) < 0) {
            return r;
        }
        if (strcmp(art->confidence, "V") && strcmp(art->confidence, "S") &&
            strcmp(art->confidence, "U")) {
            return barra_error_set_at(reterr, -BARRA_EPARSE, file, it->line, it->column,
                                      "confidence is V (verified), S (secondary) or U "
                                      "(unverified)");
        }
    }
    return 0;
}

int pol_articles_load(const char *path, struct pol_articles **ret, struct barra_error *reterr)
{
    struct ynode *doc = NULL;
    const char *file = path ? path : "rules/law/articles.yaml";
    int r = path ? ytree_load_file(path, &doc, reterr)
                 : ytree_load_string(pol_builtin_articles, pol_builtin_articles_len, file, &doc,
                                     reterr);
    if (r < 0) {
        return r;
    }
    struct pol_articles *a = barra_calloc(1, sizeof(*a));
    if (a == NULL) {
        ytree_free(doc);
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    r = read_articles(doc, file, a, reterr);
    ytree_free(doc);
    if (r < 0) {
        pol_articles_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

const struct pol_article *pol_articles_get(const struct pol_articles *a, const char *id)
{
    for (size_t i = 0; a && i < a->n; i++) {
        if (strcmp(a->items[i].id, id) == 0) {
            return &a->items[i];
        }
    }
    return NULL;
}

bool pol_articles_has(const struct pol_articles *a, const char *id)
{
    return pol_articles_get(a, id) != NULL;
}
