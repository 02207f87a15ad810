/* SPDX-License-Identifier: Apache-2.0 */
/* Writes an Outlook message (.msg) for the extraction tests with libgsf's OLE2 writer: sender,
 * recipient and subject as UTF-16 MAPI string properties, a body, and one attachment (a file's
 * bytes under its name). The same bytes every run (OLE2 has no times here).
 *
 *     make-msg OUT.msg SUBJECT BODY ATTACHMENT-NAME ATTACHMENT-FILE */
#include <gsf/gsf-outfile-msole.h>
#include <gsf/gsf-outfile.h>
#include <gsf/gsf-output-stdio.h>
#include <gsf/gsf-utils.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A UTF-8 string as UTF-16LE (the characters the tests use are all in the BMP). */
static void put_string(GsfOutfile *dir, const char *id, const char *utf8)
{
    char name[40];
    (void)snprintf(name, sizeof(name), "__substg1.0_%s001F", id);
    glong n = 0;
    gunichar2 *u16 = g_utf8_to_utf16(utf8, -1, NULL, &n, NULL);
    GsfOutput *out = gsf_outfile_new_child(dir, name, FALSE);
    for (glong i = 0; i < n; i++) {
        guint8 le[2] = {(guint8)(u16[i] & 0xff), (guint8)(u16[i] >> 8)};
        (void)gsf_output_write(out, 2, le);
    }
    (void)gsf_output_close(out);
    g_object_unref(out);
    g_free(u16);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        (void)fprintf(stderr, "usage: make-msg OUT.msg SUBJECT BODY ATTACHMENT-NAME FILE\n");
        return 2;
    }
    gsf_init();
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(argv[5], &data, &len, NULL)) {
        return 1;
    }
    GsfOutput *file = gsf_output_stdio_new(argv[1], NULL);
    GsfOutfile *msg = file ? gsf_outfile_msole_new(file) : NULL;
    if (msg == NULL) {
        return 1;
    }
    put_string(msg, "0C1A", "陳大文");
    put_string(msg, "0C1F", "tai.man@example.com");
    put_string(msg, "0E04", "HR");
    put_string(msg, "0037", argv[2]);
    put_string(msg, "1000", argv[3]);
    GsfOutfile *att =
        GSF_OUTFILE(gsf_outfile_new_child(msg, "__attach_version1.0_#00000000", TRUE));
    put_string(att, "3707", argv[4]);
    GsfOutput *bin = gsf_outfile_new_child(att, "__substg1.0_37010102", FALSE);
    (void)gsf_output_write(bin, len, (const guint8 *)data);
    (void)gsf_output_close(bin);
    g_object_unref(bin);
    (void)gsf_output_close(GSF_OUTPUT(att));
    g_object_unref(att);
    (void)gsf_output_close(GSF_OUTPUT(msg));
    g_object_unref(msg);
    g_object_unref(file);
    g_free(data);
    return 0;
}
