/* cli.h - what the `aipm` command's files share: the global options, the
 * workspace, output helpers, exit codes. Only public library headers. */
#ifndef AIPM_CLI_H
#define AIPM_CLI_H

#include "aipm/aipm.h"

#include <jansson.h>
#include <stdio.h>

/* Exit codes (DESIGN.md section 5). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,    /* usage or input error */
    EXIT_INTERNAL = 2, /* internal error */
    EXIT_BLOCKED = 3,  /* a gate or policy said no */
    EXIT_ALERT = 4     /* monitoring alert */
};

typedef struct cli {
    const char *dir;        /* -C DIR, default "." */
    const char *store_url;  /* --store URL */
    const char *events_url; /* --events-store URL (ClickHouse) */
    int json;               /* --json */
    int help;               /* -h / --help anywhere */
    int tty;                /* stderr is a terminal: progress bars */
    int stdout_tty;         /* stdout is a terminal: colour, widths */
    double wait_seconds;    /* --wait: lock wait, < 0 as long as it takes */
    int no_policy_detect;   /* `policy set` records the version itself */
} cli;

extern cli g_cli;

typedef struct workspace {
    char dir[4096];
    char yaml[4200];
    char store_url[4200];
    char checkpoint[4200];
    char graph_snapshot[4200]; /* beside the checkpoint */
    char policy_sha256[65];    /* the policies in force (config) */
    aipm_config *config;
    aipm_store *store;
} workspace;

/* Open the workspace of g_cli (config and store). Prints a one-line error
 * and returns non-zero (an exit code) on failure. ws_open is for commands
 * that write: it also repairs an audit checkpoint that lags the log.
 * ws_open_ro is for commands that write nothing: the store is opened
 * read-only, so they work on a read-only workspace or a full disk. */
int ws_open(workspace *ws);
int ws_open_ro(workspace *ws);
void ws_close(workspace *ws);

/* Create a workspace in dir (made if missing) with aipm.yaml = yaml_text
 * and a new store; the first audit entry records it. abs receives the
 * absolute path. Prints a one-line error and returns an exit code. */
int cli_workspace_create(const char *dir, const char *yaml_text, char *abs,
                         size_t abs_cap);

/* Print "aipm: <msg>" for err and return the exit code it maps to. */
int cli_fail(const aipm_error *err);
/* Print "aipm: <fmt>" (a usage or input problem) and return EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON value to stdout, pretty, with a newline. */
void cli_print_json(json_t *v);

/* The message for an argument a command does not take: "OPT needs a
 * value" when arg is one of the NULL-terminated value options and nothing
 * follows it, else "unknown argument". Returns EXIT_USAGE. */
int cli_bad_arg(const char *cmd, const char *arg, int is_last,
                const char *const *value_opts);

/* The same with the command's options without a value (flag_opts,
 * NULL-terminated, may be NULL): an unknown option gets "did you mean"
 * the closest of all its options, "--opt=V" for a value option says to
 * write it as two arguments, a word that is no option "unexpected
 * argument". Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, const char *arg, int is_last,
                   const char *const *value_opts, const char *const *flag_opts);

/* "unknown subcommand 'aipm CMD SUB'" with the closest of subs (NULL-
 * terminated), or the list of them. Returns EXIT_USAGE. */
int cli_bad_subcommand(const char *cmd, const char *sub,
                       const char *const *subs);

/* The candidate (NULL-terminated list) closest to word by edit distance
 * (adjacent transpositions count one), if it is close enough to be a
 * typo of it: one edit for names up to 4 letters, two from 5; else NULL. */
const char *cli_suggest(const char *word, const char *const *candidates);

/* Text from data (titles, feedback, ids, names) made safe for a terminal:
 * C0 controls (\n, \t too), DEL and bytes of no valid UTF-8 character as
 * \xNN (\n \t \r as such), C1 controls (U+0080..U+009F, CSI among them)
 * as \uNNNN; valid UTF-8 text is kept. Returns one of 8 rotating static
 * buffers (so one printf can take several), cut with "..." past ~4 KB.
 * Human output only: JSON output is escaped by jansson. */
const char *cli_text(const char *s);

/* 1 when one of argv[1..argc) is exactly arg. */
int cli_has_arg(int argc, char **argv, const char *arg);

/* Parse a positive integer argument; returns 0 on success. */
int cli_parse_i64(const char *s, int64_t *out);

/* The Monte Carlo options of simulate and plan. When argv[*i] is --seed,
 * --threads or --model-version with a value, it is stored (seed >= 0,
 * threads 1 .. AIPM_SIM_MAX_THREADS, version >= 1), *i moves past it and
 * 1 is returned; 0 for any other argument; EXIT_USAGE's negative, -1,
 * after the usage error, for a bad value. */
int cli_sim_option(int argc, char **argv, int *i, uint64_t *seed, int *threads,
                   int64_t *version);
/* The threads a Monte Carlo runs on by default: the online CPUs. */
int cli_sim_threads(void);

/* The progress bar (stderr, only on a terminal); ctx is its label.
 * cli_progress counts bytes (MB and MB/s), cli_progress_count items or
 * rows ("N of M"). */
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_count(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(void);

/* Human output of an ingest quality report (JSON text). */
void cli_print_report(FILE *out, const char *report_json);

/* Write raw bytes safely for a terminal: control and non-UTF-8 bytes are
 * shown as \xNN, at most max bytes. */
void cli_print_raw(FILE *out, const char *raw, size_t len, size_t max);
/* The same as a JSON-safe string (invalid bytes as \xNN text). */
json_t *cli_raw_json(const char *raw, size_t len);

/* The commands, one file each. */
int cmd_init(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_quality(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_lineage(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* `audit checkpoint` and `audit prove` (cmd_audit_proof.c). */
int cmd_audit_checkpoint(int argc, char **argv);
int cmd_audit_prove(int argc, char **argv);
/* The workspace key (named as the log's origin) from the key folder into
 * k, its path into path; *found 0 when there is none yet. Prints nothing. */
int cli_workspace_key(aipm_key *k, char *path, size_t cap, aipm_store *st,
                      int *found, aipm_error *err);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_kpi(int argc, char **argv);
int cmd_feedback(int argc, char **argv);
int cmd_decisions(int argc, char **argv);
int cmd_prioritize(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_users(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
/* `forecast bass`'s fit and document (cmd_forecast.c), for its replay. */
int cli_bass_doc(const aipm_series *s, int form, int64_t holdout,
                 int64_t horizon, json_t **out, aipm_error *err);

#endif
