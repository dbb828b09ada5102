/*
 * cli.h - shared pieces of the `frost` command-line program: option
 * parsing, progress display and error exits. Only the CLI prints or exits.
 */
#ifndef FROST_CLI_H
#define FROST_CLI_H

#include "frost/frost.h"
#include "core/core_impl.h" /* frost__now, frost__peak_rss */

#include <stdio.h>

#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

/* Print "frost: MESSAGE" for the last library error; returns 1. */
int cli_fail(void);
/* Print "frost VERB: message" and a hint; returns 2. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Option matching: if argv[*i] is `name` (taking a value as the next
 * argument or after '='), store the value and advance *i. */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **value);
bool cli_flag(char **argv, int i, const char *name);
bool cli_is_help(const char *a);

/* Parse numbers; false with a usage message on bad input. */
bool cli_i64(const char *verb, const char *opt, const char *s, int64_t *out);
bool cli_f64(const char *verb, const char *opt, const char *s, double *out);

/* Progress on stderr when it is a terminal (quiet otherwise). */
typedef struct cli_progress {
    bool enabled;
    double t0, last;
    char stage[64];
} cli_progress;

void cli_progress_init(cli_progress *p, bool quiet);
void cli_progress_cb(const char *stage, double fraction, void *user);
void cli_progress_done(cli_progress *p);

/* May this verb write OUT (io/io_impl.h, frost__output_check)? 0, or the
 * one-line error printed and 1. `kind` is the format OUT will have (NULL:
 * not a frost file); --force allows replacing a frost file of another kind. */
int cli_check_output(const char *out, const char *const *inputs, int n_inputs, const char *kind, bool force,
                     bool make_parents);

/* Is there an executable file PROG in a folder of $PATH? */
bool cli_on_path(const char *prog);

/* Human-readable byte counts ("12.3 MiB"). */
const char *cli_bytes(double b, char *buf, size_t cap);

int cli_import(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_synth(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_partition(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_merge(int argc, char **argv);

/* Print the table of a results file (one row per configuration, with its
 * best run); returns an exit status. */
int cli_print_table(const char *path);
/* The same table as one JSON document on stdout (frost report --json). */
int cli_print_json_table(const char *path);
/* Write a text to stdout and release it: 0, or one line and 1 (out of memory, stdout closed). */
struct frost__text;
int cli_put_text(struct frost__text *t);

#endif
