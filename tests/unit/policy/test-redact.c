/* SPDX-License-Identifier: Apache-2.0 */
/* Masks, partial masks, pseudonyms, removal, references and the key file. Keyed values are checked
 * against HMAC computed here with OpenSSL's one-shot HMAC(), not through the code under test. */
#include "config.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <barra/policy.h>

#include "core/buf.h"
#include "redact/redact.h"

static const char key_bytes[] = "an-on-prem-key-of-at-least-32-bytes!";

static int to_buf(void *ud, const char *p, size_t n)
{
    return buf_append(ud, p, n);
}

static char *apply(const char *text, struct redact_span *spans, size_t n, const barra_key_t *k)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(redact_apply(text, strlen(text), spans, n, k, to_buf, &b), 0);
    return b.data ? b.data : strdup("");
}

static struct redact_span span(const char *text, const char *value, enum redact_kind kind,
                               uint32_t keep)
{
    const char *at = strstr(text, value);
    assert_non_null(at);
    return (struct redact_span){.start = (uint64_t)(at - text),
                                .end = (uint64_t)(at - text + strlen(value)),
                                .method = {kind, keep},
                                .type = "t",
                                .normalized = value,
                                .normalized_len = strlen(value)};
}

static void check(const char *text, const char *value, enum redact_kind kind, uint32_t keep,
                  const char *want)
{
    struct redact_span s = span(text, value, kind, keep);
    char *got = apply(text, &s, 1, NULL);
    assert_string_equal(got, want);
    free(got);
}

static void test_masks(void **state)
{
    (void)state;
    check("ID 11010519491231002X.", "11010519491231002X", REDACT_MASK, 0, "ID ******************.");
    check("ID 11010519491231002X.", "11010519491231002X", REDACT_PARTIAL, 4,
          "ID **************002X.");
    /* Separators stay, so the shape is kept; only letters and digits count. */
    check("HKID A123456(3) ok", "A123456(3)", REDACT_PARTIAL, 4, "HKID ****456(3) ok");
    check("tel +853 6612 3456", "+853 6612 3456", REDACT_PARTIAL, 4, "tel +*** **** 3456");
    check("card 6222 0202", "6222 0202", REDACT_MASK, 0, "card **** ****");
    /* Full-width characters count as one each, and full-width brackets are separators. */
    check("證 Ａ１２３４５６（３）", "Ａ１２３４５６（３）", REDACT_PARTIAL, 2,
          "證 ******６（３）");
    /* Chinese terms are masked character by character. */
    check("诊断：糖尿病。", "糖尿病", REDACT_MASK, 0, "诊断：***。");
    /* Keeping more than there is keeps everything. */
    check("x 12 y", "12", REDACT_PARTIAL, 4, "x 12 y");
    check("remove me now", "me ", REDACT_REMOVE, 0, "remove now");
}

static void test_spans(void **state)
{
    (void)state;
    const char *text = "a 111 b 222 c";
    struct redact_span s[3] = {span(text, "111", REDACT_MASK, 0), span(text, "222", REDACT_MASK, 0),
                               span(text, "11", REDACT_REMOVE, 0)};
    /* The third overlaps the first (sorted after it): skipped. */
    s[2].start = s[0].start + 1;
    s[2].end = s[0].end;
    struct redact_span sorted[3] = {s[0], s[2], s[1]};
    char *got = apply(text, sorted, 3, NULL);
    assert_string_equal(got, "a *** b *** c");
    free(got);
    /* A span past the end is ignored rather than read. */
    struct redact_span past = {.start = 10, .end = 99, .method = {REDACT_MASK, 0}};
    got = apply(text, &past, 1, NULL);
    assert_string_equal(got, text);
    free(got);
    /* No spans, empty text. */
    got = apply("", NULL, 0, NULL);
    assert_string_equal(got, "");
    free(got);
}

static void hmac_hex(const void *msg, size_t n, char *out, size_t hexdigits)
{
    unsigned char md[32];
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), key_bytes, 32, msg, n, md, &len));
    for (size_t i = 0; i < hexdigits / 2; i++) {
        (void)sprintf(out + 2 * i, "%02x", md[i]);
    }
}

static void test_pseudonyms_and_references(void **state)
{
    (void)state;
    barra_key_t *k;
    assert_int_equal(barra_key_from_bytes(key_bytes, 32, &k, NULL), 0);
    const char *text = "mail chan@example.com now";
    struct redact_span s = span(text, "chan@example.com", REDACT_PSEUDONYM, 0);
    s.type = "email";
    char *got = apply(text, &s, 1, k);
    char msg[128], want[128], hex[65];
    size_t n =
        (size_t)snprintf(msg, sizeof(msg), "barra/pseudonym/v1%cemail%cchan@example.com", 0, 0);
    hmac_hex(msg, n, hex, 16);
    (void)snprintf(want, sizeof(want), "mail <email:%s> now", hex);
    assert_string_equal(got, want);
    free(got);
    /* Without a key a pseudonym cannot be made: an error, never the value in the clear. */
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(redact_apply(text, strlen(text), &s, 1, NULL, to_buf, &b), -BARRA_EINVAL);
    buf_done(&b);

    char ref[77];
    assert_int_equal(redact_reference(k, "phone_mo", "66123456", 8, ref), 0);
    n = (size_t)snprintf(msg, sizeof(msg), "barra/ref/v1%cphone_mo%c66123456", 0, 0);
    hmac_hex(msg, n, hex, 64);
    (void)snprintf(want, sizeof(want), "hmac-sha256:%s", hex);
    assert_string_equal(ref, want);
    /* The key id is HMAC over its own label, 16 hex digits. */
    hmac_hex("barra/key-id/v1", sizeof("barra/key-id/v1"), hex, 16);
    assert_string_equal(barra_key_id(k), hex);
    barra_key_free(k);
    assert_int_equal(barra_key_from_bytes("short", 5, &k, NULL), -BARRA_EINVAL);
}

static void test_key_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/barra-key-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], deep[256];
    (void)snprintf(path, sizeof(path), "%s/hmac.key", dir);
    (void)snprintf(deep, sizeof(deep), "%s/a/b/hmac.key", dir);
    barra_key_t *k1, *k2;
    struct barra_error err;
    assert_int_equal(barra_key_load(path, false, &k1, &err), -BARRA_ENOENT);
    assert_int_equal(barra_key_load(deep, true, &k1, &err), 0);
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(barra_key_load(deep, true, &k2, &err), 0); /* existing: loaded, not replaced */
    assert_string_equal(barra_key_id(k1), barra_key_id(k2));
    barra_key_free(k1);
    barra_key_free(k2);

    /* A key others can read is refused. */
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    const char *hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    assert_int_equal(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(barra_key_load(path, false, &k1, &err), -BARRA_EACCES);
    assert_non_null(strstr(err.message, "chmod 600"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(barra_key_load(path, false, &k1, &err), 0);
    barra_key_free(k1);
    /* Too short, and not hex. */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "abcd\n", 5), 5);
    close(fd);
    assert_int_equal(barra_key_load(path, false, &k1, &err), -BARRA_EINVAL);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *nothex = "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    assert_int_equal(write(fd, nothex, strlen(nothex)), (ssize_t)strlen(nothex));
    close(fd);
    assert_int_equal(barra_key_load(path, false, &k1, &err), -BARRA_EINVAL);
    char cmd[300];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_spans),
        cmocka_unit_test(test_pseudonyms_and_references),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
