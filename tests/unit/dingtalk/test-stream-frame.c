/* SPDX-License-Identifier: Apache-2.0 */
/* DingTalk Stream frames as the reference documents them (§2.2-2.4: the EVENT example, ping with
 * its opaque, disconnect with its reason), with the variations it warns of (no messageId on ping,
 * "header" instead of "headers", no specVersion), and hard negatives. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "connect/dingtalk/stream-frame.h"

static int parse(const char *text, struct dt_frame *f)
{
    struct barra_error err;
    return dt_frame_parse(text, strlen(text), f, &err);
}

static void test_documented(void **state)
{
    (void)state;
    struct dt_frame f;
    assert_int_equal(
        parse(
            "{\"specVersion\":\"1.0\",\"type\":\"EVENT\",\"headers\":{\"appId\":\"a\","
            "\"connectionId\":\"c\",\"contentType\":\"application/json\",\"eventBornTime\":"
            "\"1685501863357\",\"eventCorpId\":\"dingxxx\",\"eventId\":\"e1\",\"eventType\":"
            "\"user_add_org\",\"eventUnifiedAppId\":\"u\",\"messageId\":\"m1\",\"time\":"
            "\"1685501863363\",\"topic\":\"*\"},\"data\":\"{\\\"timeStamp\\\":\\\"1685501863357\\\","
            "\\\"userId\\\":[\\\"015xxxx227\\\"]}\"}",
            &f),
        0);
    assert_int_equal(f.type, DT_FRAME_EVENT);
    assert_string_equal(f.topic, "*");
    assert_string_equal(f.message_id, "m1");
    assert_string_equal(f.event_id, "e1");
    assert_string_equal(f.event_type, "user_add_org");
    assert_string_equal(f.data, "{\"timeStamp\":\"1685501863357\",\"userId\":[\"015xxxx227\"]}");
    assert_int_equal(f.data_len, strlen(f.data));
    dt_frame_done(&f);

    /* ping and disconnect as documented: no messageId, no specVersion */
    assert_int_equal(parse("{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"ping\"},\"data\":"
                           "\"{\\\"opaque\\\":\\\"x-1\\\"}\"}",
                           &f),
                     0);
    assert_int_equal(f.type, DT_FRAME_SYSTEM);
    assert_string_equal(f.topic, "ping");
    assert_null(f.message_id);
    assert_string_equal(f.data, "{\"opaque\":\"x-1\"}");
    dt_frame_done(&f);
    assert_int_equal(parse("{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"disconnect\"},\"data\":"
                           "\"{\\\"reason\\\":\\\"persistent connection is timeout\\\"}\"}",
                           &f),
                     0);
    assert_string_equal(f.topic, "disconnect");
    dt_frame_done(&f);

    /* "header" as one example spells it; a robot message as a CALLBACK */
    assert_int_equal(parse("{\"type\":\"CALLBACK\",\"header\":{\"topic\":"
                           "\"/v1.0/im/bot/messages/get\",\"messageId\":\"m2\"},\"data\":"
                           "\"{\\\"msgtype\\\":\\\"text\\\"}\"}",
                           &f),
                     0);
    assert_int_equal(f.type, DT_FRAME_CALLBACK);
    assert_string_equal(f.topic, "/v1.0/im/bot/messages/get");
    assert_null(f.event_id);
    dt_frame_done(&f);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"type\":\"EVENT\"}",                              /* no headers */
        "{\"type\":\"PUSH\",\"headers\":{\"topic\":\"x\"}}", /* unknown type */
        "{\"type\":1,\"headers\":{\"topic\":\"x\"}}",        /* type not a string */
        "{\"type\":\"SYSTEM\",\"headers\":{}}",              /* no topic */
        "{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"ping\"},\"data\":{\"opaque\":1}}",
        "{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"ping\"},\"data\":\"[1]\"}",
        "{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"ping\"},\"data\":\"{\\\"a\\\":\"}",
        "{\"type\":\"EVENT\",\"headers\":{\"topic\":\"*\"},\"data\":\"{}\"}", /* no messageId */
        "{\"type\":\"CALLBACK\",\"headers\":{\"topic\":\"t\",\"messageId\":\"m\"}}", /* no data */
        "{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"p\\u0000ing\"}}", /* NUL in a header */
        "{\"type\":\"SYSTEM\",\"headers\":{\"topic\":\"ping\"},\"type\":\"EVENT\"}", /* twice */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dt_frame f;
        struct barra_error err;
        int r = dt_frame_parse(bad[i], strlen(bad[i]), &f, &err);
        dt_frame_done(&f);
        if (r != -BARRA_EFORMAT) {
            fail_msg("accepted or wrongly refused (%d): %s", r, bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
