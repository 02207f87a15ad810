/* SPDX-License-Identifier: Apache-2.0 */
/* `barra policy`. */
#ifndef BARRA_CLI_POLICY_H
#define BARRA_CLI_POLICY_H

#include <stdio.h>

int cmd_policy(int argc, char **argv);

/* Prints the parts of a decision (its JSON form) that explain it: the findings, each fired rule
 * with its reasons and citations, and the versions. */
void barra_explain_print(const char *decision_json, FILE *out);

#endif
