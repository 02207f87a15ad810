/* SPDX-License-Identifier: Apache-2.0 */
/* The `barra` command: a plain client of libbarra. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <barra/barra.h>

#include "cli/log.h"
#include "cli/monitor.h"
#include "cli/policy.h"
#include "cli/scan.h"
#include "core/helper.h"

static const char usage[] =
    "Usage: barra COMMAND [OPTIONS]\n"
    "\n"
    "Barra keeps personal data from crossing borders it should not cross, and proves what happened\n"
    "to it.\n"
    "\n"
    "Commands\n"
    "  scan PATH...     classify files, folders or standard input for personal data\n"
    "  policy SUB ...   check a policy, run its test cases, or explain a decision\n"
    "  log SUB ...      the tamper-evident audit log: append, verify, proof, checkpoint, key\n"
    "  monitor SUB ...  activity rules: run them over events, or run their test cases\n"
    "  serve            the gateway: HTTP API, upload page, consent registry, local routing\n"
    "  version          print the versions of barra and of its built-in entity rules\n"
    "\n"
    "Run 'barra COMMAND --help' for a command's options. Manual pages: barra(1), barra-scan(1),\n"
    "barra-policy(1),\n"
    "barra-log(1), barra-monitor(1), barra-serve(1).\n";

static int cmd_version(void)
{
    barra_detector_t *d;
    struct barra_error err;
    if (barra_detector_new(NULL, &d, &err) < 0) {
        fprintf(stderr, "barra: %s\n", err.message);
        return 2;
    }
    printf("barra %s\nentity rules %s\n", barra_version(), barra_detector_rules_version(d));
    barra_detector_unref(d);
    return 0;
}

/* Runs helper program `name` (core/helper.h) in place of this process, with the command's
 * arguments (argv[0] is the command's name). */
static int run_helper(const char *name, char **argv)
{
    char path[PATH_MAX];
    if (!helper_path(name, path, sizeof(path))) {
        fprintf(stderr, "barra: %s is missing: not beside barra, nor at %s\n", name, path);
        return 2;
    }
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "barra: cannot run %s: %s\n", path, strerror(errno));
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "scan") == 0) {
        return cmd_scan(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "log") == 0) {
        return cmd_log(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "monitor") == 0) {
        return cmd_monitor(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "policy") == 0) {
        return cmd_policy(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "serve") == 0) {
        return run_helper("barra-serve", argv + 1);
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        return cmd_version();
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "barra: unknown command \"%s\"\n\n%s", cmd, usage);
    return 2;
}
