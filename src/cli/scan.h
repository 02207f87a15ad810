/* SPDX-License-Identifier: Apache-2.0 */
/* `barra scan`: shared declarations of its parts (options, inputs, per-file scanning, output). */
#ifndef BARRA_CLI_SCAN_H
#define BARRA_CLI_SCAN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <barra/barra.h>

#include "cli/glob.h"
#include "cli/sbuf.h"

enum out_format { OUT_HUMAN, OUT_JSON, OUT_JSONL };
enum in_format { IN_AUTO, IN_TEXT, IN_JSONL, IN_CSV, IN_TSV };

struct scan_options {
    enum out_format format;
    enum in_format input_format;
    char **jsonl_fields;
    size_t njsonl_fields;
    const char *id_field;
    bool show_values;
    double min_score;
    char **types; /* report only these types (NULL: all) */
    size_t ntypes;
    struct glob_list *excludes;
    unsigned jobs;
    const char *rules_dir;
    int32_t reference_date;
    size_t max_record;
    bool csv_header;
    bool color;
    bool progress;
    bool all_occurrences; /* human format: list every finding, not the first few per type */
    /* Policy decisions and redacted copies (scan-policy.c) */
    const char *policy_path;
    const char *key_path;
    const char *consents_path;
    const char *event_path; /* fields every record's event starts from */
    const char *redact_dir;
};

/* One thing to scan: a file, or standard input. */
struct scan_input {
    char *path; /* as shown in the report */
    bool is_stdin;
    uint64_t size;
};

struct input_list {
    struct scan_input *v;
    size_t n, cap;
    uint64_t total_bytes;
};

/* scan-walk.c: expands the command-line paths (folders recursively, minus excludes). Problems go to
 * stderr and make the return value non-zero; the list holds what could be listed. */
int inputs_collect(struct input_list *list, char **paths, size_t npaths,
                   const struct glob_list *ex);
void inputs_free(struct input_list *list);

/* A finding with where it was found, as the output layer records it. */
struct finding_where {
    const struct scan_input *input;
    const char *record_id; /* JSONL id, or NULL */
    size_t record_id_len;
    const char *field; /* JSONL field path or CSV column name, or NULL */
    size_t field_len;
    uint64_t line;        /* text: the finding's line; JSONL and CSV: the record's line */
    uint64_t column;      /* text: the finding's byte column; 0 otherwise */
    uint64_t row;         /* CSV: data row number; 0 otherwise */
    const char *path;     /* an archive member ("export.zip/hr/staff.xlsx"), or NULL: the input */
    const char *location; /* within an extracted document ("Staff!B2", "slide 3"), or NULL */
};

struct output;
struct file_result;

/* scan-output.c */
struct output *output_new(const struct scan_options *opts, const struct input_list *inputs,
                          barra_detector_t *det);
void output_free(struct output *o);
struct file_result *output_file(struct output *o, size_t index);
void output_finding(struct output *o, struct file_result *fr, const struct barra_finding *f,
                    const struct finding_where *w);
/* An error that kept part of the input from being scanned (makes the exit status 2). */
void output_error(struct output *o, struct file_result *fr, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A policy decision about a whole file (line 0) or one record; `json` is the decision object. */
void output_decision(struct output *o, struct file_result *fr, const barra_decision_t *d,
                     const char *json, const char *record_id, size_t record_id_len, uint64_t line);
/* A note that is not an error (a binary file skipped). */
void output_note(struct output *o, struct file_result *fr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void output_bytes(struct output *o, struct file_result *fr, uint64_t n);
/* The file is finished: its output is written as soon as every earlier file's is. */
void output_file_done(struct output *o, struct file_result *fr);
/* Writes the summary (human and json formats). Returns the exit status: 0 clean, 1 findings, 2
 * errors. */
int output_finish(struct output *o, double seconds);
/* Progress for the bar: bytes and files done so far. */
void output_progress(struct output *o, uint64_t *ret_bytes, size_t *ret_files);
/* Serialises writes to stderr with the progress bar. */
void output_lock_stderr(struct output *o);
void output_unlock_stderr(struct output *o);

/* JSON Lines records waiting to be scanned together: their texts joined by blank lines (which no
 * context crosses), and where each one is. */
struct batch_record {
    size_t off, len; /* in text */
    uint64_t line;
    size_t id_off, id_len; /* in ids */
    bool has_id;
};

struct jsonl_batch {
    struct sbuf text;
    struct sbuf ids;
    struct batch_record *recs;
    size_t n, cap;
};

struct scan_policy;

/* scan-file.c: scans one input with a thread's own scanner. */
struct scan_worker {
    const struct scan_options *opts;
    barra_scanner_t *scanner;
    barra_jsonl_t *jsonl;
    struct output *out;
    struct jsonl_batch batch;
    const struct scan_policy *policy; /* NULL without --policy or --redact */
    barra_findings_t *findings;       /* this record's findings, with a policy */
};
void scan_one(struct scan_worker *w, const struct scan_input *in, struct file_result *fr);
void scan_batch_free(struct scan_worker *w);

/* scan-policy.c: loads what --policy, --key, --consents, --event and --redact name. Prints what
 * is wrong and returns 2 on failure. */
int scan_policy_open(const struct scan_options *o, barra_detector_t *det, struct scan_policy **ret);
void scan_policy_free(struct scan_policy *sp);
/* Decides about the findings collected since the last call (a file, or a JSON Lines record when
 * `line` is not 0), reports the decision, and empties the collector. */
void scan_policy_decide(struct scan_worker *w, const struct scan_input *in, struct file_result *fr,
                        bool whole_file, const char *text, size_t text_len, const char *id,
                        size_t id_len, uint64_t line);
/* Writes a redacted copy of a text file under --redact DIR. */
void scan_policy_redact(struct scan_worker *w, const struct scan_input *in, struct file_result *fr,
                        const char *data, size_t len);

int cmd_scan(int argc, char **argv);

#endif
