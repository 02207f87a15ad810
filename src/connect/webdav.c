/* SPDX-License-Identifier: Apache-2.0 */
/* Uploading to WebDAV with libcurl. TLS certificates are always verified (a private CA goes in the
 * route's ca_file). Nextcloud share links come from its OCS sharing API (shareType 3, a public
 * link), asked for the path below /remote.php/dav/files/USER/. */
#include "config.h"

#include "connect/webdav.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"

#include "core/banned.h"

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *dst, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t want = size * n, left = u->len - u->off;
    size_t k = want < left ? want : left;
    memcpy(dst, u->data + u->off, k);
    u->off += k;
    return k;
}

static size_t keep_cb(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == 0 ? size * n : 0;
}

static CURL *dav_handle(const struct gw_route_config *r, struct buf *answer)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return NULL;
    }
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    (void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->ca_file) {
        (void)curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
    }
    if (r->username) {
        (void)curl_easy_setopt(c, CURLOPT_USERNAME, r->username);
        (void)curl_easy_setopt(c, CURLOPT_PASSWORD, r->password ? r->password : "");
        (void)curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC | CURLAUTH_DIGEST);
    }
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_cb);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    return c;
}

static int nextcloud_share(const struct gw_route_config *r, const char *file_url, char **ret_link,
                           struct barra_error *reterr)
{
    const char *dav = strstr(file_url, "/remote.php/dav/files/");
    const char *path = dav ? strchr(dav + strlen("/remote.php/dav/files/"), '/') : NULL;
    if (path == NULL) {
        return barra_error_set(reterr, -BARRA_EINVAL,
                               "route %s: a Nextcloud url looks like "
                               "https://HOST/remote.php/dav/files/USER/FOLDER/",
                               r->name);
    }
    struct buf api, answer, form;
    buf_init(&api, 8192);
    buf_init(&answer, 1 << 20);
    buf_init(&form, 8192);
    (void)buf_append(&api, file_url, (size_t)(dav - file_url));
    (void)buf_append_str(&api, "/ocs/v2.php/apps/files_sharing/api/v1/shares");
    CURL *c = dav_handle(r, &answer);
    char *escaped = c ? curl_easy_unescape(c, path, 0, NULL) : NULL;
    char *form_path = c && escaped ? curl_easy_escape(c, escaped, 0) : NULL;
    (void)buf_printf(&form, "shareType=3&path=%s", form_path ? form_path : "");
    struct curl_slist *h = curl_slist_append(NULL, "OCS-APIRequest: true");
    h = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    int r2 = -BARRA_ENOMEM;
    if (c && h && form_path && !api.err && !form.err) {
        (void)curl_easy_setopt(c, CURLOPT_URL, api.data);
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.data);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        json_t *j = cc == CURLE_OK && answer.data ? json_loads(answer.data, 0, NULL) : NULL;
        const char *url = json_string_value(
            json_object_get(json_object_get(json_object_get(j, "ocs"), "data"), "url"));
        if (cc != CURLE_OK) {
            r2 = barra_error_set(reterr, -BARRA_EIO, "route %s: asking for a share link: %s",
                                 r->name, curl_easy_strerror(cc));
        } else if (status != 200 || url == NULL) {
            r2 = barra_error_set(reterr, -BARRA_EIO,
                                 "route %s: Nextcloud gave no share link (HTTP %ld)", r->name,
                                 status);
        } else {
            *ret_link = barra_strdup(url);
            r2 = *ret_link ? 0 : barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
        json_decref(j);
    } else {
        r2 = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    }
    curl_free(form_path);
    curl_free(escaped);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_done(&api);
    buf_done(&answer);
    buf_done(&form);
    return r2;
}

int webdav_put(const struct gw_route_config *r, const char *name, const void *data, size_t len,
               char **ret_link, struct barra_error *reterr)
{
    *ret_link = NULL;
    struct buf url, answer;
    buf_init(&url, 8192);
    buf_init(&answer, 1 << 16);
    CURL *c = dav_handle(r, &answer);
    char *esc = c ? curl_easy_escape(c, name, 0) : NULL;
    (void)buf_append_str(&url, r->url);
    (void)buf_append_str(&url, esc ? esc : "");
    /* If-None-Match: * — never overwrite a file someone else put there. */
    struct curl_slist *h = curl_slist_append(NULL, "If-None-Match: *");
    struct upload u = {.data = data, .len = len};
    int ret = 0;
    if (c == NULL || esc == NULL || h == NULL || url.err) {
        ret = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
    } else {
        (void)curl_easy_setopt(c, CURLOPT_URL, url.data);
        (void)curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        (void)curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        (void)curl_easy_setopt(c, CURLOPT_READDATA, &u);
        (void)curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc != CURLE_OK) {
            ret = barra_error_set(reterr, -BARRA_EIO, "route %s: uploading to %s: %s", r->name,
                                  r->url, curl_easy_strerror(cc));
        } else if (status != 201 && status != 204) {
            ret = barra_error_set(
                reterr, -BARRA_EIO, "route %s: the WebDAV server answered HTTP %ld to the upload%s",
                r->name, status, status == 401 || status == 403 ? " (check the credentials)" : "");
        }
    }
    if (ret == 0) {
        if (r->nextcloud_share) {
            ret = nextcloud_share(r, url.data, ret_link, reterr);
        } else if ((*ret_link = barra_strdup(url.data)) == NULL) {
            ret = barra_error_set(reterr, -BARRA_ENOMEM, "out of memory");
        }
    }
    curl_free(esc);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    buf_done(&url);
    buf_done(&answer);
    return ret;
}
