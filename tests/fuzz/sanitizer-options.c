/* SPDX-License-Identifier: Apache-2.0 */
/* Sanitizer settings for the extractors' fuzz targets: leaks inside Debian's libraries that Barra
 * cannot fix are suppressed by name, each with why, and leak stacks are unwound in full so that
 * those names appear in them. Everything else still fails the run. */

const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);

const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions(void)
{
    /* libgsf 1.14.50: gsf_infile_msole_new() leaks the directory entries it has built when it
     * gives up on a malformed OLE2 compound file. Untrusted files are extracted in a worker
     * process per file, so these bytes end with it. */
    return "leak:gsf_infile_msole_new\n";
}
