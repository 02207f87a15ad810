/* SPDX-License-Identifier: Apache-2.0 */
/* The content event parser: every field, and every way an event can be wrong. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "policy/policy-int.h"

static barra_event_t *parse_ok(const char *json)
{
    barra_event_t *e = NULL;
    struct barra_error err;
    if (barra_event_parse(json, strlen(json), &e, &err) < 0) {
        fail_msg("rejected: %s\n%s", err.message, json);
    }
    return e;
}

static void test_full_event(void **state)
{
    (void)state;
    barra_event_t *e = parse_ok(
        "{\"schema\":\"barra.event/1\",\"id\":\"evt-1\",\"kind\":\"file\",\"text\":\"extracted\","
        "\"file\":{\"name\":\"Salaries Nov.XLSX\",\"size\":123456,\"path\":\"/srv/x\","
        "\"sha256\":\""
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "\"},"
        "\"source\":\"dingtalk\",\"conversation\":{\"id\":\"cid1\",\"type\":\"group\"},"
        "\"sender\":{\"id\":\"u1\",\"department\":\"HR\",\"role\":\"manager\"},"
        "\"recipients\":[{\"id\":\"u2\"},{\"department\":\"Finance\"}],"
        "\"destination\":{\"platform\":\"dingtalk\",\"region\":\"cn-mainland\"},"
        "\"direction\":\"outbound\",\"time\":\"2026-11-23T09:30:15.250+08:00\","
        "\"subjects\":[\"emp-1\",\"emp-2\"]}");
    assert_int_equal(e->kind, POL_KIND_FILE);
    assert_string_equal(e->id, "evt-1");
    assert_string_equal(e->file_type, "xlsx"); /* from the name */
    assert_true(e->has_file_size);
    assert_int_equal(e->file_size, 123456);
    assert_int_equal(e->conversation_type, POL_CONV_GROUP);
    assert_string_equal(e->sender.department, "HR");
    assert_int_equal(e->nrecipients, 2);
    assert_string_equal(e->recipients[1].department, "Finance");
    assert_string_equal(e->destination_region, "cn-mainland");
    assert_int_equal(e->direction, POL_DIR_OUTBOUND);
    /* 2026-11-23T01:30:15Z, computed with `date -u -d 2026-11-23T01:30:15Z +%s` */
    assert_int_equal(e->time, 1795397415);
    assert_int_equal(e->utc_offset, 480);
    assert_int_equal(e->nsubjects, 2);
    size_t n;
    assert_string_equal(barra_event_text(e, &n), "extracted");
    barra_event_free(e);
}

static void test_times(void **state)
{
    (void)state;
    struct {
        const char *text;
        int64_t want; /* from `date -u -d TEXT +%s` */
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2000-02-29T12:00:00+00:00", 951825600},
        {"2026-11-23T10:00:00+08:00", 1795399200},
        {"2026-11-23T02:00:00z", 1795399200},
        {"1969-12-31T23:59:59Z", -1},
        {"2024-12-31T23:59:60Z", 1735689599}, /* a leap second counts as :59 */
        {"2026-11-22T20:30:00-05:30", 1795399200},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int64_t t;
        int32_t off;
        assert_int_equal(pol_parse_time(ok[i].text, &t, &off), 0);
        if (t != ok[i].want) {
            fail_msg("%s: %lld, expected %lld", ok[i].text, (long long)t, (long long)ok[i].want);
        }
    }
    static const char *const bad[] = {
        "2026-11-23",
        "2026-11-23T10:00:00",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T10:00:00+8:00",
        "2026-11-23T10:00:00.Z",
        "2026-11-23T10:00:00+08:00x",
        "tomorrow",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        int32_t off;
        if (pol_parse_time(bad[i], &t, &off) == 0) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
}

static void test_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *message;
    } bad[] = {
        {"", "not valid JSON"},
        {"[1]", "JSON object"},
        {"{\"kind\":\"email\"}", "\"kind\" must be"},
        {"{\"kind\":\"message\",\"text\":\"x\",\"time\":\"2026-11-23T10:00:00Z\"}",
         "no \"source\""},
        {"{\"kind\":\"message\",\"text\":\"x\",\"source\":\"s\"}", "no \"time\""},
        {"{\"kind\":\"message\",\"source\":\"s\",\"time\":\"2026-11-23T10:00:00Z\"}",
         "needs \"text\""},
        {"{\"kind\":\"file\",\"source\":\"s\",\"time\":\"2026-11-23T10:00:00Z\"}",
         "needs \"file\""},
        {"{\"kind\":\"message\",\"text\":\"x\",\"source\":\"s\",\"time\":\"soon\"}", "RFC 3339"},
        {"{\"kind\":\"message\",\"text\":1,\"source\":\"s\"}", "\"text\" must be a string"},
        {"{\"kind\":\"message\",\"text\":\"a\\u0000b\"}", "must not hold a NUL"},
        {"{\"kind\":\"message\",\"sender\":{\"id\":\"u\\u0000\"}}", "must be text of at most"},
        {"{\"kind\":\"message\",\"txt\":\"x\"}", "unknown event field \"txt\""},
        {"{\"kind\":\"message\",\"sender\":{\"dept\":\"x\"}}",
         "unknown event field \"sender.dept\""},
        {"{\"kind\":\"message\",\"sender\":\"u1\"}", "\"sender\" must be an object"},
        {"{\"kind\":\"message\",\"destination\":{\"region\":\"Mainland China\"}}", "region code"},
        {"{\"kind\":\"message\",\"conversation\":{\"type\":\"channel\"}}", "direct, group or "
                                                                           "external_group"},
        {"{\"kind\":\"message\",\"direction\":\"up\"}", "inbound, outbound or internal"},
        {"{\"kind\":\"file\",\"file\":{\"name\":\"a\",\"size\":-1}}", "whole number of bytes"},
        {"{\"kind\":\"file\",\"file\":{\"name\":\"a\",\"size\":\"1\"}}", "whole number of bytes"},
        {"{\"kind\":\"file\",\"file\":{\"sha256\":\"abc\"}}", "64 hex digits"},
        {"{\"kind\":\"message\",\"recipients\":{}}", "\"recipients\" must be an array"},
        {"{\"kind\":\"message\",\"subjects\":[1]}", "array of strings"},
        {"{\"kind\":\"message\",\"subjects\":[\"\"]}", "empty or too long"},
        {"{\"kind\":\"message\",\"schema\":\"barra.event/2\"}", "barra.event/1"},
        {"{\"kind\":\"message\",\"kind\":\"file\"}", "not valid JSON"}, /* duplicate key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        barra_event_t *e = NULL;
        struct barra_error err;
        memset(&err, 0, sizeof(err));
        if (barra_event_parse(bad[i].json, strlen(bad[i].json), &e, &err) == 0) {
            barra_event_free(e);
            fail_msg("accepted %s", bad[i].json);
        }
        assert_null(e);
        if (strstr(err.message, bad[i].message) == NULL) {
            fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].json, err.message, bad[i].message);
        }
    }
}

static void test_setters(void **state)
{
    (void)state;
    barra_event_t *e;
    struct barra_error err;
    assert_int_equal(barra_event_new("message", &e), 0);
    assert_int_equal(barra_event_set(e, "destination.region", "mo", &err), 0);
    assert_int_equal(barra_event_set(e, "conversation.type", "direct", &err), 0);
    assert_int_equal(barra_event_set(e, "time", "2026-11-23T10:00:00+08:00", &err), 0);
    assert_true(barra_event_set(e, "destination.region", "Macau SAR", &err) < 0);
    assert_true(barra_event_set(e, "colour", "red", &err) < 0);
    assert_string_equal(e->destination_region, "mo"); /* a rejected value changes nothing */
    assert_int_equal(barra_event_add_subject(e, "s1"), 0);
    assert_int_equal(barra_event_add_subject(e, ""), -BARRA_EINVAL);
    assert_int_equal(barra_event_new("sms", NULL), -BARRA_EINVAL);
    barra_event_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_event),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_setters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
