/* What the three mains share: the common options, the stderr logger and the exit code.
 * The only module that writes to stderr; the rest of the library returns errors. */
#ifndef HF_CLI_H
#define HF_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "error.h"
#include "filter.h"
#include "http.h"
#include "log.h"
#include "repo.h"

typedef struct {
    const char *prog;
    hf_repo repo;
    const char *revision; /* default "main" */
    hf_filter filter;
    const char *endpoint_arg;
    const char *token_file;
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    /* filled by hf_cli_finish */
    char *endpoint;
    char *token;
} hf_cli;

/* getopt_long entries of the common options (end the caller's array with them). */
#define HF_CLI_LONGOPTS                                                                            \
    {"repo-type", required_argument, 0, 't'}, {"revision", required_argument, 0, 'r'},             \
        {"include", required_argument, 0, 'i'}, {"exclude", required_argument, 0, 'x'},            \
        {"endpoint", required_argument, 0, 1001}, {"token-file", required_argument, 0, 1002},      \
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'},                          \
        {"help", no_argument, 0, 'h'}, {                                                           \
        "version", no_argument, 0, 'V'                                                             \
    }
#define HF_CLI_SHORTOPTS "t:r:i:x:qvhV"

void hf_cli_init(hf_cli *cli, const char *prog);

/* A main's own options, as getopt_long returns them: 1 when opt was taken, 0 when it is not
 * the main's (a common option: it is then taken as such), -1 on a bad value (err set). */
typedef int (*hf_cli_own_fn)(void *ctx, int opt, const char *arg, hf_error *err);

/* What an own option's parse came to, for hf_cli_own_fn: 1 for HF_OK, else -1. */
static inline int hf_cli_taken(hf_code rc) {
    return rc == HF_OK ? 1 : -1;
}

/* What a main's options come to. */
typedef enum {
    HF_CLI_GO,   /* every option taken: the operands start at argv[optind] */
    HF_CLI_DONE, /* --help or --version was printed: exit 0 */
    HF_CLI_BAD   /* a bad value (err set) or an unknown option (getopt said which; err set) */
} hf_cli_parsed;

/* The one option loop of every main: each option goes to `own` first, then to the common
 * ones (longopts and shortopts must hold HF_CLI_LONGOPTS and HF_CLI_SHORTOPTS); -h prints
 * usage, -V the version (once every option is read, so -V -v gives the verbose one). */
hf_cli_parsed hf_cli_parse(hf_cli *cli, int argc, char **argv, const char *shortopts,
                           const struct option *longopts, hf_cli_own_fn own, void *ctx,
                           const char *usage, hf_error *err);
/* Checks the repo id and revision, settles the endpoint ($HF_ENDPOINT, else the Hub) and
 * loads the token. */
hf_code hf_cli_finish(hf_cli *cli, const char *repo_id, hf_error *err);
/* The endpoint and the token alone, for what names no repository (hf-list --search). */
hf_code hf_cli_settle(hf_cli *cli, hf_error *err);
void hf_cli_free(hf_cli *cli);

/* A client for cli's endpoint and token, logging to stderr at cli's verbosity. */
hf_code hf_cli_client(hf_cli *cli, hf_client **out, hf_error *err);
/* A logger to stderr at cli's verbosity. */
hf_logger hf_cli_logger(hf_cli *cli);

/* "tsv" or "json" (-f): *json set, or HF_EUSAGE. */
hf_code hf_cli_format(const char *arg, bool *json, hf_error *err);

/* The end of a main: 0 when rc is HF_OK, else the error printed and its exit code; cli
 * freed. */
int hf_cli_end(hf_cli *cli, hf_code rc, const hf_error *err);
/* --jobs N: a number from 1 to 64 (HF_EUSAGE otherwise). */
hf_code hf_cli_jobs(const char *arg, int *jobs, hf_error *err);
/* --progress MODE: auto, bar, log or none (HF_EUSAGE otherwise); mode is an hf_progress_mode. */
hf_code hf_cli_progress(const char *arg, int *mode, hf_error *err);

/* Prints "PROG: error: MSG" and returns the exit code. */
int hf_cli_fail(const hf_cli *cli, const hf_error *err);
/* Prints a message to stderr unless quiet. */
void hf_cli_say(const hf_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
