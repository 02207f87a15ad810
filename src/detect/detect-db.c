/* SPDX-License-Identifier: Apache-2.0 */
/* The catalogue's binary form: little-endian fields in a fixed order, every count and length
 * checked on load. The Vectorscan database travels serialised beside the literals it was built
 * from, so a catalogue built on one CPU still loads on another (the database is then rebuilt). */
#include "config.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "detect/detect-rules.h"
#include "detect/detect-shape.h"

#include "core/banned.h"

#define CATALOG_MAGIC   "BARRACAT"
#define CATALOG_FORMAT  2u
#define CATALOG_MAX_LEN (256u << 20)

/* ---- writing ---- */

static int put(struct buf *o, const void *p, size_t n)
{
    return buf_append(o, p, n);
}

static int put_u32(struct buf *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return put(o, b, 4);
}

static int put_f32(struct buf *o, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    return put_u32(o, v);
}

static int put_str(struct buf *o, const char *s)
{
    /* NULL and "" differ: length 0xFFFFFFFF marks NULL. */
    if (s == NULL) {
        return put_u32(o, UINT32_MAX);
    }
    size_t n = strlen(s);
    int r = put_u32(o, (uint32_t)n);
    return r ? r : put(o, s, n);
}

static int put_u16s(struct buf *o, const uint16_t *v, size_t n)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        uint8_t b[2] = {(uint8_t)v[i], (uint8_t)(v[i] >> 8)};
        r = put(o, b, 2);
    }
    return r;
}

static int put_u32s(struct buf *o, const uint32_t *v, size_t n)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = put_u32(o, v[i]);
    }
    return r;
}

static int put_dfa(struct buf *o, const struct det_dfa *d)
{
    int r = put_u32(o, d->nstates);
    r = r ? r : put_u32(o, d->nclasses);
    r = r ? r : put_u32(o, d->naccept);
    r = r ? r : put_u32(o, d->nranges);
    r = r ? r : put_u16s(o, d->trans, (size_t)d->nstates * d->nclasses);
    r = r ? r : put_u32s(o, d->accept_index, (size_t)d->nstates + 1);
    r = r ? r : put_u16s(o, d->accept_list, d->naccept);
    r = r ? r : put_u16s(o, d->ascii_class, 128);
    r = r ? r : put_u32s(o, d->range_lo, d->nranges);
    r = r ? r : put_u16s(o, d->range_class, d->nranges);
    return r;
}

int det_catalog_serialize(const struct det_catalog *c, struct buf *o)
{
    int r = put(o, CATALOG_MAGIC, 8);
    r = r ? r : put_u32(o, CATALOG_FORMAT);
    r = r ? r : put_str(o, c->version);
    r = r ? r : put_u32(o, c->ntypes);
    for (uint32_t i = 0; r == 0 && i < c->ntypes; i++) {
        const struct det_type *t = &c->types[i];
        r = put_str(o, t->name);
        r = r ? r : put_str(o, t->category);
        r = r ? r : put_str(o, t->jurisdiction);
        r = r ? r : put(o, &t->kind, 1);
        r = r ? r : put(o, &t->order, 1);
    }
    r = r ? r : put_u32(o, c->npatterns);
    for (uint32_t i = 0; r == 0 && i < c->npatterns; i++) {
        const struct det_pattern *p = &c->patterns[i];
        r = put_str(o, p->name);
        r = r ? r : put_str(o, p->subtype);
        r = r ? r : put_str(o, p->jurisdiction);
        r = r ? r : put_f32(o, p->base);
        r = r ? r : put_f32(o, p->cap);
        r = r ? r : put_u16s(o, &p->type, 1);
        r = r ? r : put_u16s(o, &p->verify, 1);
        r = r ? r : put(o, &p->validator, 1);
        r = r ? r : put(o, &p->flags, 1);
    }
    r = r ? r : put_u32(o, (uint32_t)c->email_pattern);
    r = r ? r : put_u32(o, c->nhints);
    for (uint32_t i = 0; r == 0 && i < c->nhints; i++) {
        r = put_str(o, c->hints[i].suffix);
        r = r ? r : put_str(o, c->hints[i].jurisdiction);
    }
    r = r ? r : put_u32(o, c->nkeywords);
    for (uint32_t i = 0; r == 0 && i < c->nkeywords; i++) {
        const struct det_keyword *k = &c->keywords[i];
        r = put_str(o, k->text);
        r = r ? r : put_u32(o, k->first_ref);
        r = r ? r : put_u16s(o, &k->nrefs, 1);
        r = r ? r : put(o, &k->flags, 1);
    }
    r = r ? r : put_u32(o, c->nrefs);
    for (uint32_t i = 0; r == 0 && i < c->nrefs; i++) {
        const struct det_keyword_ref *f = &c->refs_list[i];
        r = put_f32(o, f->weight);
        r = r ? r : put_u16s(o, &f->type, 1);
        r = r ? r : put(o, &f->role, 1);
        r = r ? r : put(o, &f->side, 1);
    }
    r = r ? r : put_dfa(o, &c->digit_dfa);
    r = r ? r : put_dfa(o, &c->keyword_dfa);
    r = r ? r : put_dfa(o, &c->verify_dfa);
    r = r ? r : put(o, c->prefectures, sizeof(c->prefectures));
    const struct det_scoring *s = &c->scoring;
    r = r ? r : put_f32(o, s->threshold);
    r = r ? r : put_u32(o, s->before);
    r = r ? r : put_u32(o, s->after);
    r = r ? r : put_u32(o, s->near);
    r = r ? r : put_f32(o, s->far_factor);
    r = r ? r : put_f32(o, s->blocked_factor);
    r = r ? r : put_u32(o, s->cooccur);
    r = r ? r : put_f32(o, s->cooccur_boost);
    for (int i = 0; r == 0 && i < 2; i++) {
        char *hs_bytes = NULL;
        size_t hs_len = 0;
        if (hs_serialize_database(c->hs[i], &hs_bytes, &hs_len) != HS_SUCCESS) {
            return -BARRA_EENGINE;
        }
        r = put_u32(o, (uint32_t)hs_len);
        r = r ? r : put(o, hs_bytes, hs_len);
        free(hs_bytes); /* NOLINT: allocated by Vectorscan with malloc */
    }
    return r;
}

/* ---- reading ---- */

struct reader {
    const uint8_t *p, *end;
    bool bad;
};

static bool take(struct reader *rd, void *out, size_t n)
{
    if (rd->bad || (size_t)(rd->end - rd->p) < n) {
        rd->bad = true;
        return false;
    }
    memcpy(out, rd->p, n);
    rd->p += n;
    return true;
}

static uint32_t get_u32(struct reader *rd)
{
    uint8_t b[4] = {0};
    (void)take(rd, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t get_u16(struct reader *rd)
{
    uint8_t b[2] = {0};
    (void)take(rd, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint8_t get_u8(struct reader *rd)
{
    uint8_t b = 0;
    (void)take(rd, &b, 1);
    return b;
}

static float get_f32(struct reader *rd)
{
    uint32_t v = get_u32(rd);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* A count of elements of `elem` bytes each that must fit in what is left. */
static uint32_t get_count(struct reader *rd, size_t elem)
{
    uint32_t n = get_u32(rd);
    if ((size_t)(rd->end - rd->p) / (elem ? elem : 1) < n) {
        rd->bad = true;
        return 0;
    }
    return n;
}

static char *get_str(struct reader *rd, bool *ret_oom)
{
    uint32_t n = get_u32(rd);
    if (rd->bad || n == UINT32_MAX) {
        return NULL;
    }
    if ((size_t)(rd->end - rd->p) < n || n > 4096) {
        rd->bad = true;
        return NULL;
    }
    char *s = barra_memdup(rd->p, n);
    if (s == NULL) {
        *ret_oom = true;
        rd->bad = true;
        return NULL;
    }
    rd->p += n;
    return s;
}

static void *get_array(struct reader *rd, size_t n, size_t elem, bool *ret_oom)
{
    void *a = barra_calloc(n ? n : 1, elem);
    if (a == NULL) {
        *ret_oom = true;
        rd->bad = true;
    }
    return a;
}

static void get_dfa(struct reader *rd, struct det_dfa *d, bool *oom)
{
    d->nstates = get_u32(rd);
    d->nclasses = get_u32(rd);
    d->naccept = get_u32(rd);
    d->nranges = get_u32(rd);
    size_t ntrans = (size_t)d->nstates * d->nclasses;
    size_t left = (size_t)(rd->end - rd->p);
    /* Every array must fit in what is left of the input before anything is allocated. */
    if (rd->bad || d->nstates < 2 || d->nclasses == 0 || d->nstates > 65535 ||
        d->nclasses > 65535 || ntrans > left / 2 || d->naccept > left / 2 ||
        d->nranges > left / 6 ||
        ntrans * 2 + ((size_t)d->nstates + 1) * 4 + (size_t)d->naccept * 2 + 256 +
                (size_t)d->nranges * 6 >
            left) {
        rd->bad = true;
        return;
    }
    d->trans = get_array(rd, ntrans, 2, oom);
    d->accept_index = get_array(rd, (size_t)d->nstates + 1, 4, oom);
    d->accept_list = get_array(rd, d->naccept, 2, oom);
    d->range_lo = get_array(rd, d->nranges, 4, oom);
    d->range_class = get_array(rd, d->nranges, 2, oom);
    if (rd->bad) {
        return;
    }
    for (size_t i = 0; i < ntrans; i++) {
        d->trans[i] = get_u16(rd);
        rd->bad |= d->trans[i] >= d->nstates;
    }
    for (size_t i = 0; i <= d->nstates; i++) {
        d->accept_index[i] = get_u32(rd);
        rd->bad |=
            d->accept_index[i] > d->naccept || (i && d->accept_index[i] < d->accept_index[i - 1]);
    }
    for (size_t i = 0; i < d->naccept; i++) {
        d->accept_list[i] = get_u16(rd);
    }
    for (size_t i = 0; i < 128; i++) {
        d->ascii_class[i] = get_u16(rd);
        rd->bad |= d->ascii_class[i] >= d->nclasses;
    }
    for (size_t i = 0; i < d->nranges; i++) {
        d->range_lo[i] = get_u32(rd);
        rd->bad |= i && d->range_lo[i] <= d->range_lo[i - 1];
    }
    for (size_t i = 0; i < d->nranges; i++) {
        d->range_class[i] = get_u16(rd);
        rd->bad |= d->range_class[i] >= d->nclasses;
    }
}

static void get_types_and_patterns(struct reader *rd, struct det_catalog *c, bool *oom)
{
    c->ntypes = get_count(rd, 10);
    c->types = get_array(rd, c->ntypes, sizeof(*c->types), oom);
    c->ntypes = c->types ? c->ntypes : 0;
    for (uint32_t i = 0; !rd->bad && i < c->ntypes; i++) {
        struct det_type *t = &c->types[i];
        t->name = get_str(rd, oom);
        t->category = get_str(rd, oom);
        t->jurisdiction = get_str(rd, oom);
        t->kind = get_u8(rd);
        t->order = get_u8(rd);
        rd->bad |= !t->name || !t->category || !t->jurisdiction || t->kind > DET_KIND_TERM;
    }
    c->npatterns = get_count(rd, 22);
    c->patterns = get_array(rd, c->npatterns, sizeof(*c->patterns), oom);
    c->npatterns = c->patterns ? c->npatterns : 0;
    for (uint32_t i = 0; !rd->bad && i < c->npatterns; i++) {
        struct det_pattern *p = &c->patterns[i];
        p->name = get_str(rd, oom);
        p->subtype = get_str(rd, oom);
        p->jurisdiction = get_str(rd, oom);
        p->base = get_f32(rd);
        p->cap = get_f32(rd);
        p->type = get_u16(rd);
        p->verify = get_u16(rd);
        p->validator = get_u8(rd);
        p->flags = get_u8(rd);
        rd->bad |= !p->name || p->type >= c->ntypes || p->validator >= DET_V_COUNT ||
                   !(p->base >= 0 && p->base <= 1) || !(p->cap >= 0 && p->cap <= 1);
    }
    c->email_pattern = (int32_t)get_u32(rd);
    rd->bad |= c->email_pattern >= (int32_t)c->npatterns;
    c->nhints = get_count(rd, 8);
    c->hints = get_array(rd, c->nhints, sizeof(*c->hints), oom);
    c->nhints = c->hints ? c->nhints : 0;
    for (uint32_t i = 0; !rd->bad && i < c->nhints; i++) {
        c->hints[i].suffix = get_str(rd, oom);
        c->hints[i].jurisdiction = get_str(rd, oom);
        rd->bad |= !c->hints[i].suffix || !c->hints[i].jurisdiction;
    }
}

static void get_keywords(struct reader *rd, struct det_catalog *c, bool *oom)
{
    c->nkeywords = get_count(rd, 11);
    c->keywords = get_array(rd, c->nkeywords, sizeof(*c->keywords), oom);
    c->nkeywords = c->keywords ? c->nkeywords : 0;
    for (uint32_t i = 0; !rd->bad && i < c->nkeywords; i++) {
        struct det_keyword *k = &c->keywords[i];
        k->text = get_str(rd, oom);
        k->len = k->text ? (uint32_t)strlen(k->text) : 0;
        k->first_ref = get_u32(rd);
        k->nrefs = get_u16(rd);
        k->flags = get_u8(rd);
        rd->bad |= k->len == 0;
    }
    c->nrefs = get_count(rd, 8);
    c->refs_list = get_array(rd, c->nrefs, sizeof(*c->refs_list), oom);
    c->nrefs = c->refs_list ? c->nrefs : 0;
    for (uint32_t i = 0; !rd->bad && i < c->nrefs; i++) {
        struct det_keyword_ref *f = &c->refs_list[i];
        f->weight = get_f32(rd);
        f->type = get_u16(rd);
        f->role = get_u8(rd);
        f->side = get_u8(rd);
        rd->bad |= f->type >= c->ntypes || f->role > DET_ROLE_TRIGGER ||
                   !(f->weight >= 0 && f->weight <= 1);
    }
    for (uint32_t i = 0; !rd->bad && i < c->nkeywords; i++) {
        rd->bad |= (uint64_t)c->keywords[i].first_ref + c->keywords[i].nrefs > c->nrefs;
    }
}

/* Patterns' and automata's cross references must point inside the catalogue. */
static bool references_ok(const struct det_catalog *c)
{
    const struct det_dfa *dfas[2] = {&c->digit_dfa, &c->keyword_dfa};
    for (int k = 0; k < 2; k++) {
        for (uint32_t i = 0; i < dfas[k]->naccept; i++) {
            if (dfas[k]->accept_list[i] >= c->npatterns) {
                return false;
            }
        }
    }
    return true;
}

static int load_hs(struct reader *rd, struct det_catalog *c, struct barra_error *reterr)
{
    bool rebuild = false;
    for (int i = 0; i < 2; i++) {
        uint32_t n = get_count(rd, 1);
        if (rd->bad) {
            return -BARRA_EFORMAT;
        }
        const char *bytes = (const char *)rd->p;
        rd->p += n;
        if (!rebuild && hs_deserialize_database(bytes, n, &c->hs[i]) != HS_SUCCESS) {
            c->hs[i] = NULL;
            rebuild = true;
        }
    }
    /* Built for another CPU family or Vectorscan version: rebuild from the literals. */
    if (rebuild) {
        return det_catalog_build_hs(c, reterr);
    }
    det_catalog_derive(c);
    return 0;
}

int det_catalog_load(const void *data, size_t len, struct det_catalog **ret,
                     struct barra_error *reterr)
{
    struct reader rd = {data, (const uint8_t *)data + len, false};
    char magic[8];
    if (len > CATALOG_MAX_LEN || !take(&rd, magic, 8) || memcmp(magic, CATALOG_MAGIC, 8) != 0 ||
        get_u32(&rd) != CATALOG_FORMAT) {
        return barra_error_set(reterr, -BARRA_EFORMAT,
                               "not a Barra rules catalogue (or an older format)");
    }
    struct det_catalog *c = barra_calloc(1, sizeof(*c));
    if (c == NULL) {
        return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory loading rules");
    }
    atomic_init(&c->refs, 1);
    bool oom = false;
    char *version = get_str(&rd, &oom);
    if (version && strlen(version) == 64) {
        memcpy(c->version, version, 65);
    } else {
        rd.bad = true;
    }
    barra_free(version);
    get_types_and_patterns(&rd, c, &oom);
    get_keywords(&rd, c, &oom);
    get_dfa(&rd, &c->digit_dfa, &oom);
    get_dfa(&rd, &c->keyword_dfa, &oom);
    get_dfa(&rd, &c->verify_dfa, &oom);
    (void)take(&rd, c->prefectures, sizeof(c->prefectures));
    struct det_scoring *s = &c->scoring;
    s->threshold = get_f32(&rd);
    s->before = get_u32(&rd);
    s->after = get_u32(&rd);
    s->near = get_u32(&rd);
    s->far_factor = get_f32(&rd);
    s->blocked_factor = get_f32(&rd);
    s->cooccur = get_u32(&rd);
    s->cooccur_boost = get_f32(&rd);
    rd.bad |= s->before > 400 || s->after > 400 || s->cooccur > 400;
    rd.bad = rd.bad || !references_ok(c);
    if (!rd.bad && (det_dfa_derive(&c->digit_dfa) < 0 || det_dfa_derive(&c->keyword_dfa) < 0 ||
                    det_dfa_derive(&c->verify_dfa) < 0)) {
        oom = rd.bad = true;
    }
    int r = rd.bad ? -BARRA_EFORMAT : load_hs(&rd, c, reterr);
    if (r == 0 && rd.p != rd.end) {
        r = -BARRA_EFORMAT;
    }
    if (r < 0) {
        det_catalog_free(c);
        if (oom) {
            return barra_error_set(reterr, -BARRA_ENOMEM, "out of memory loading rules");
        }
        return r == -BARRA_EFORMAT ? barra_error_set(reterr, r, "rules catalogue is corrupt") : r;
    }
    *ret = c;
    return 0;
}
