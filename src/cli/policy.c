/* SPDX-License-Identifier: Apache-2.0 */
/* `barra policy check|test|explain`: validate a policy, run its test cases, explain a decision. */
#include "config.h"

#include "cli/policy.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <barra/barra.h>

static const char policy_usage[] =
    "Usage: barra policy check FILE...\n"
    "       barra policy test [OPTIONS] FILE CASES...\n"
    "       barra policy explain [OPTIONS] FILE EVENT.json\n"
    "\n"
    "check    compiles each policy and reports every error with its line and column\n"
    "test     runs data-driven cases (event -> expected action, tier and rules) through the\n"
    "         classifier and the policy; prints each failure and a summary\n"
    "explain  classifies one event (docs/events.md; - reads standard input), decides, and shows\n"
    "         the tier, the rules that fired and why, the action, the tip and the versions\n"
    "\n"
    "Options\n"
    "  -f, --format FMT      explain: human (default) or json (the decision object)\n"
    "  --lang LANG           explain: the tip's language: en (default), zh-Hant, zh-Hans or pt\n"
    "  --consents FILE       explain: a consent file (docs/policy.md, \"Consent files\")\n"
    "  --key FILE            explain: the on-prem key for references and pseudonyms\n"
    "  --create-key          explain: create the key file if it does not exist (mode 0600)\n"
    "  --classification-failed  explain: decide as if the classifier had failed\n"
    "  --rules DIR           entity rules to compile instead of the built-in ones\n"
    "  -v, --verbose         test: list passing cases too\n"
    "\n"
    "Exit status: 0 success (valid, all cases pass, decision made), 1 the policy is invalid or a\n"
    "case failed, 2 a usage or input error. See barra-policy(1) and docs/policy.md.\n";

enum {
    OPT_LANG = 256,
    OPT_CONSENTS,
    OPT_KEY,
    OPT_CREATE_KEY,
    OPT_CLASSIFICATION_FAILED,
    OPT_RULES,
};

static const struct option policy_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"lang", required_argument, NULL, OPT_LANG},
    {"consents", required_argument, NULL, OPT_CONSENTS},
    {"key", required_argument, NULL, OPT_KEY},
    {"create-key", no_argument, NULL, OPT_CREATE_KEY},
    {"classification-failed", no_argument, NULL, OPT_CLASSIFICATION_FAILED},
    {"rules", required_argument, NULL, OPT_RULES},
    {NULL, 0, NULL, 0},
};

struct policy_args {
    bool json;
    bool verbose;
    const char *lang;
    const char *consents;
    const char *key;
    bool create_key;
    bool classification_failed;
    const char *rules;
};

static void print_error(const struct barra_error *err)
{
    if (err->file[0] && err->line) {
        fprintf(stderr, "%s:%u:%u: error: %s\n", err->file, err->line, err->column, err->message);
    } else if (err->file[0] && strstr(err->message, err->file) == NULL) {
        fprintf(stderr, "%s: error: %s\n", err->file, err->message);
    } else {
        fprintf(stderr, "barra: %s\n", err->message);
    }
}

static int make_detector(const struct policy_args *a, barra_detector_t **ret)
{
    struct barra_detector_options o;
    struct barra_error err;
    barra_detector_options_init(&o);
    o.rules_dir = a->rules;
    if (barra_detector_new(&o, ret, &err) < 0) {
        print_error(&err);
        return -1;
    }
    return 0;
}

static int load_policy(const char *path, barra_detector_t *d, barra_policy_t **ret)
{
    struct barra_policy_options o;
    struct barra_error err;
    barra_policy_options_init(&o);
    o.detector = d;
    int r = barra_policy_load(path, &o, ret, &err);
    if (r < 0) {
        print_error(&err);
    }
    return r;
}

static int cmd_check(int argc, char **argv, const struct policy_args *a)
{
    barra_detector_t *d;
    if (make_detector(a, &d) < 0) {
        return 2;
    }
    int status = 0;
    for (int i = 0; i < argc; i++) {
        barra_policy_t *p;
        int r = load_policy(argv[i], d, &p);
        if (r < 0) {
            status = r == -BARRA_ENOENT || r == -BARRA_EIO ? 2 : (status ? status : 1);
            continue;
        }
        printf("%s: ok: policy \"%s\", %zu rules, version %.12s\n", argv[i], barra_policy_name(p),
               barra_policy_rule_count(p), barra_policy_version(p));
        barra_policy_unref(p);
    }
    barra_detector_unref(d);
    return status;
}

struct test_state {
    const char *cases;
    bool verbose;
    int passed, failed;
};

static void on_case(const struct barra_policy_case_result *r, void *userdata)
{
    struct test_state *t = userdata;
    if (r->passed) {
        t->passed++;
        if (t->verbose) {
            printf("PASS %s:%u: %s\n", t->cases, r->line, r->name);
        }
        return;
    }
    t->failed++;
    printf("FAIL %s:%u: %s\n     %s\n", t->cases, r->line, r->name, r->failure);
}

static int cmd_test(int argc, char **argv, const struct policy_args *a)
{
    if (argc < 2) {
        fprintf(stderr, "barra policy test: give a policy and at least one cases file\n");
        return 2;
    }
    barra_detector_t *d;
    barra_policy_t *p;
    if (make_detector(a, &d) < 0) {
        return 2;
    }
    if (load_policy(argv[0], d, &p) < 0) {
        barra_detector_unref(d);
        return 1;
    }
    struct test_state t = {.verbose = a->verbose};
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct barra_error err;
        t.cases = argv[i];
        if (barra_policy_test(p, argv[i], d, on_case, &t, &err) < 0) {
            print_error(&err);
            status = 2;
        }
    }
    printf("%d passed, %d failed\n", t.passed, t.failed);
    barra_policy_unref(p);
    barra_detector_unref(d);
    return status ? status : t.failed ? 1 : 0;
}

static char *read_all(const char *path, size_t *ret_len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rbe");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap) {
            break;
        }
        char *b = cap < ((size_t)256 << 20) ? realloc(buf, cap * 2) : NULL;
        if (b == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    bool bad = ferror(f);
    if (f != stdin) {
        (void)fclose(f);
    }
    if (bad) {
        free(buf);
        return NULL;
    }
    *ret_len = len;
    return buf;
}

/* The human form is the JSON decision, laid out for reading. */
static int print_human(const barra_decision_t *dec, const struct policy_args *a)
{
    char *json;
    struct barra_error err;
    if (barra_decision_format_json(dec, BARRA_DECISION_REASONS, &json, &err) < 0) {
        print_error(&err);
        return 2;
    }
    const char *deciding = barra_decision_deciding_rule(dec);
    printf("action    %s%s%s%s\n", barra_action_name(barra_decision_action(dec)),
           deciding ? " (rule " : "", deciding ? deciding : "", deciding ? ")" : "");
    printf("tier      %s\n", barra_decision_tier(dec));
    barra_explain_print(json, stdout);
    const char *tip = barra_decision_tip(dec, a->lang);
    if (tip) {
        printf("tip       [%s] %s\n", a->lang, tip);
    }
    size_t rlen;
    const char *red = barra_decision_redacted_text(dec, &rlen);
    if (red) {
        printf("redacted  %.*s\n", (int)rlen, red);
    }
    barra_string_free(json);
    return 0;
}

static int cmd_explain(int argc, char **argv, const struct policy_args *a)
{
    if (argc != 2) {
        fprintf(stderr, "barra policy explain: give a policy and one event file\n");
        return 2;
    }
    int status = 2;
    barra_detector_t *d = NULL;
    barra_policy_t *p = NULL;
    barra_event_t *e = NULL;
    barra_key_t *key = NULL;
    barra_consent_memory_t *mem = NULL;
    barra_findings_t *fs = NULL;
    barra_scanner_t *sc = NULL;
    barra_decision_t *dec = NULL;
    struct barra_error err;
    size_t len = 0;
    char *text = read_all(argv[1], &len);
    if (text == NULL) {
        fprintf(stderr, "barra: cannot read event \"%s\"\n", argv[1]);
        return 2;
    }
    if (make_detector(a, &d) < 0) {
        goto out;
    }
    if (load_policy(argv[0], d, &p) < 0) {
        status = 1;
        goto out;
    }
    if (barra_event_parse(text, len, &e, &err) < 0) {
        snprintf(err.file, sizeof(err.file), "%s", argv[1]);
        print_error(&err);
        goto out;
    }
    if (a->key && barra_key_load(a->key, a->create_key, &key, &err) < 0) {
        print_error(&err);
        goto out;
    }
    if (barra_consent_memory_new(&mem) < 0 ||
        (a->consents && barra_consent_memory_load_file(mem, a->consents, &err) < 0)) {
        print_error(&err);
        goto out;
    }
    struct barra_consent_provider prov = barra_consent_memory_provider(mem);
    struct barra_decide_options o = {
        .consent = &prov,
        .key = key,
        .detector = d,
        .classification_failed = a->classification_failed,
        .explain = true,
    };
    const char *etext = barra_event_text(e, &len);
    if (barra_findings_new(&fs) < 0 || barra_scanner_new(d, 0, &sc, &err) < 0) {
        fprintf(stderr, "barra: out of memory\n");
        goto out;
    }
    if (etext && !o.classification_failed &&
        barra_scanner_scan(sc, etext, len, NULL, 0, barra_findings_collect, fs) < 0) {
        o.classification_failed = true; /* fail closed: the exception action applies */
    }
    if (barra_decide(p, e, fs, &o, &dec, &err) < 0) {
        print_error(&err);
        goto out;
    }
    if (a->json) {
        char *json;
        if (barra_decision_format_json(dec, BARRA_DECISION_PRETTY | BARRA_DECISION_REASONS, &json,
                                       &err) < 0) {
            print_error(&err);
            goto out;
        }
        printf("%s\n", json);
        barra_string_free(json);
        status = 0;
    } else {
        status = print_human(dec, a);
        if (key == NULL && barra_findings_count(fs) > 0) {
            printf("note      findings carry no reference: give --key FILE\n");
        }
    }
out:
    barra_decision_free(dec);
    barra_scanner_free(sc);
    barra_findings_free(fs);
    barra_consent_memory_free(mem);
    barra_key_free(key);
    barra_event_free(e);
    barra_policy_unref(p);
    barra_detector_unref(d);
    free(text);
    return status;
}

int cmd_policy(int argc, char **argv)
{
    struct policy_args a = {.lang = "en"};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(policy_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    argc--;
    argv++;
    int c;
    while ((c = getopt_long(argc, argv, "f:vh", policy_options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "human") != 0) {
                fprintf(stderr, "barra policy: --format is human or json\n");
                return 2;
            }
            a.json = strcmp(optarg, "json") == 0;
            break;
        case 'v':
            a.verbose = true;
            break;
        case 'h':
            fputs(policy_usage, stdout);
            return 0;
        case OPT_LANG:
            if (strcmp(optarg, "en") && strcmp(optarg, "zh-Hant") && strcmp(optarg, "zh-Hans") &&
                strcmp(optarg, "pt")) {
                fprintf(stderr, "barra policy: --lang is en, zh-Hant, zh-Hans or pt\n");
                return 2;
            }
            a.lang = optarg;
            break;
        case OPT_CONSENTS:
            a.consents = optarg;
            break;
        case OPT_KEY:
            a.key = optarg;
            break;
        case OPT_CREATE_KEY:
            a.create_key = true;
            break;
        case OPT_CLASSIFICATION_FAILED:
            a.classification_failed = true;
            break;
        case OPT_RULES:
            a.rules = optarg;
            break;
        default:
            fputs("Run 'barra policy --help' for the options.\n", stderr);
            return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (strcmp(sub, "check") == 0 && argc > 0) {
        return cmd_check(argc, argv, &a);
    }
    if (strcmp(sub, "test") == 0) {
        return cmd_test(argc, argv, &a);
    }
    if (strcmp(sub, "explain") == 0) {
        return cmd_explain(argc, argv, &a);
    }
    fprintf(stderr, "barra policy: %s\n\n%s",
            strcmp(sub, "check") == 0 ? "give at least one policy file" : "unknown subcommand",
            policy_usage);
    return 2;
}
