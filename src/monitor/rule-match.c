/* SPDX-License-Identifier: Apache-2.0 */
/* Whether a detection rule matches an event: its selections' field tests, its condition, and for
 * off-hours rules the working calendar. Strings compare without regard to ASCII case (Sigma's
 * default) unless |cased; a plain value with * or ? is a wildcard pattern. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "monitor/rule-int.h"

#include "core/banned.h"

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Sigma wildcards: * any run, ? one character, \ escapes the next. */
static bool wild(const char *p, const char *s, bool cased)
{
    for (; *p; p++, s++) {
        if (*p == '*') {
            while (p[1] == '*') {
                p++;
            }
            for (;; s++) {
                if (wild(p + 1, s, cased)) {
                    return true;
                }
                if (*s == '\0') {
                    return false;
                }
            }
        }
        if (*s == '\0') {
            return false;
        }
        if (*p == '?') {
            continue;
        }
        if (*p == '\\' && p[1]) {
            p++;
        }
        if ((cased ? *s : lower(*s)) != *p) {
            return false;
        }
    }
    return *s == '\0';
}

static bool has_wild(const char *v)
{
    return strpbrk(v, "*?") != NULL;
}

static bool equal_n(const char *a, const char *b, size_t n, bool cased)
{
    return cased ? memcmp(a, b, n) == 0 : strncasecmp(a, b, n) == 0;
}

static bool in_cidr(const struct mon_cidr *c, const char *ip)
{
    uint8_t a[16];
    int fam = strchr(ip, ':') ? 6 : 4;
    if (fam != c->family || inet_pton(fam == 6 ? AF_INET6 : AF_INET, ip, a) != 1) {
        return false;
    }
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(a, c->addr, full) != 0) {
        return false;
    }
    return rest == 0 || ((a[full] ^ c->addr[full]) & (uint8_t)(0xFF << (8 - rest))) == 0;
}

static bool one_value(const struct mon_test *t, size_t i, const struct mon_event *ev, const char *s)
{
    const char *v = t->values[i];
    size_t n = strlen(s), k = t->lens[i];
    switch (t->op) {
    case OP_EQ:
        return has_wild(v) ? wild(v, s, t->cased) : n == k && equal_n(s, v, n, t->cased);
    case OP_STARTS:
        return n >= k && equal_n(s, v, k, t->cased);
    case OP_ENDS:
        return n >= k && equal_n(s + n - k, v, k, t->cased);
    case OP_CONTAINS:
        for (size_t at = 0; at + k <= n; at++) {
            if (equal_n(s + at, v, k, t->cased)) {
                return true;
            }
        }
        return false;
    case OP_RE:
        return regexec(&t->re[i], s, 0, NULL, 0) == 0;
    case OP_CIDR:
        return in_cidr(&t->cidr[i], s);
    case OP_NUM: {
        double x = t->field == MF_COUNT   ? (double)ev->count
                   : t->field == MF_BYTES ? (double)ev->bytes
                                          : strtod(s, NULL);
        switch (t->cmp) {
        case CMP_GT:
            return x > t->nums[i];
        case CMP_GTE:
            return x >= t->nums[i];
        case CMP_LT:
            return x < t->nums[i];
        case CMP_LTE:
            return x <= t->nums[i];
        case CMP_EQ:
            return x == t->nums[i];
        }
        return false;
    }
    case OP_EXISTS:
        break;
    }
    return false;
}

static bool test_matches(const struct mon_test *t, const struct mon_event *ev)
{
    const char *s = ev->f[t->field];
    if (t->op == OP_EXISTS) {
        return (s != NULL) == t->want;
    }
    if (t->null) {
        return s == NULL;
    }
    if (s == NULL) {
        return false;
    }
    for (size_t i = 0; i < t->n; i++) {
        bool m = one_value(t, i, ev, s);
        if (m != t->all) { /* any: the first match decides; all: the first miss */
            return m;
        }
    }
    return t->all;
}

static bool sel_matches(const struct mon_sel *sel, const struct mon_event *ev)
{
    for (size_t a = 0; a < sel->nalt; a++) {
        bool all = true;
        for (size_t k = 0; all && k < sel->alt[a].n; k++) {
            all = test_matches(&sel->alt[a].t[k], ev);
        }
        if (all) {
            return true;
        }
    }
    return false;
}

static bool eval(const struct mon_rule *r, const struct mon_node *n, const struct mon_event *ev)
{
    switch (n->kind) {
    case NODE_SEL:
        return sel_matches(&r->sel[n->sel], ev);
    case NODE_NOT:
        return !eval(r, n->kid[0], ev);
    case NODE_AND:
        for (size_t i = 0; i < n->n; i++) {
            if (!eval(r, n->kid[i], ev)) {
                return false;
            }
        }
        return true;
    case NODE_OR:
        for (size_t i = 0; i < n->n; i++) {
            if (eval(r, n->kid[i], ev)) {
                return true;
            }
        }
        return false;
    }
    return false;
}

bool mon_rule_matches(const struct mon_rules *rs, const struct mon_rule *r,
                      const struct mon_event *ev)
{
    if (r->category && strcmp(r->category, ev->f[MF_ACTION]) != 0) {
        return false;
    }
    if (!eval(r, r->cond, ev)) {
        return false;
    }
    return !r->off_hours || mon_calendar_off_hours(rs->cal, ev->time_ms, ev->f[MF_DEPARTMENT]);
}
