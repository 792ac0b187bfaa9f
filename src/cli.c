/* Common options, messages on stderr and exit codes for the mains. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "cancel.h"
#include "token.h"
#include "url.h"
#include "version.h"

#define HF_DEFAULT_ENDPOINT "https://huggingface.co"

void hf_cli_init(hf_cli *cli, const char *prog) {
    memset(cli, 0, sizeof *cli);
    hf_cancel_install();
    hf_http_global_init();
    cli->prog = prog;
    cli->repo.type = HF_MODEL;
    cli->revision = "main";
    cli->verbosity = 1;
}

/* Takes a common option: 1 when it was one, 0 when it is not, -1 on a bad value. */
static int common_option(hf_cli *cli, int opt, const char *arg, bool *show_version, hf_error *err) {
    switch (opt) {
    case 't':
        if (!hf_repo_type_parse(arg, &cli->repo.type)) {
            hf_fail(err, HF_EUSAGE, "unknown repository type '%s' (model, dataset or space)", arg);
            return -1;
        }
        return 1;
    case 'r':
        cli->revision = arg;
        return 1;
    case 'i':
    case 'x':
        if (!*arg) {
            hf_fail(err, HF_EUSAGE, "empty pattern for --%s", opt == 'i' ? "include" : "exclude");
            return -1;
        }
        if (!hf_filter_add(&cli->filter, opt == 'i', arg)) {
            hf_fail(err, HF_EOTHER, "out of memory");
            return -1;
        }
        return 1;
    case 1001:
        cli->endpoint_arg = arg;
        return 1;
    case 1002:
        cli->token_file = arg;
        return 1;
    case 'q':
        cli->verbosity = 0;
        return 1;
    case 'v':
        cli->verbosity = 2;
        return 1;
    case 'V':
        *show_version = true;
        return 1;
    default:
        return 0;
    }
}

hf_cli_parsed hf_cli_parse(hf_cli *cli, int argc, char **argv, const char *shortopts,
                           const struct option *longopts, hf_cli_own_fn own, void *ctx,
                           const char *usage, hf_error *err) {
    bool show_version = false;
    int opt;
    while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(usage, stdout);
            return HF_CLI_DONE;
        }
        int taken = opt == '?' || opt == ':' ? 0 : own(ctx, opt, optarg, err);
        if (!taken && opt != '?' && opt != ':')
            taken = common_option(cli, opt, optarg, &show_version, err);
        if (taken < 0)
            return HF_CLI_BAD;
        if (!taken) { /* getopt has named the option */
            hf_fail(err, HF_EUSAGE, "unknown option (try '%s --help')", cli->prog);
            return HF_CLI_BAD;
        }
    }
    if (show_version) {
        hf_version_print(stdout, cli->prog, cli->verbosity >= 2);
        return HF_CLI_DONE;
    }
    return HF_CLI_GO;
}

hf_code hf_cli_finish(hf_cli *cli, const char *repo_id, hf_error *err) {
    cli->repo.id = repo_id;
    hf_code rc = hf_repo_id_check(repo_id, err);
    if (rc == HF_OK)
        rc = hf_revision_check(cli->revision, err);
    if (rc != HF_OK)
        return rc;
    return hf_cli_settle(cli, err);
}

hf_code hf_cli_settle(hf_cli *cli, hf_error *err) {
    hf_code rc;
    const char *ep = cli->endpoint_arg;
    if (!ep)
        ep = getenv("HF_ENDPOINT");
    if (!ep || !*ep)
        ep = HF_DEFAULT_ENDPOINT;
    if ((rc = hf_endpoint_normalize(ep, &cli->endpoint, err)) != HF_OK)
        return rc;
    return hf_token_load(cli->token_file, &cli->token, err);
}

void hf_cli_free(hf_cli *cli) {
    hf_filter_free(&cli->filter);
    free(cli->endpoint);
    if (cli->token) {
        explicit_bzero(cli->token, strlen(cli->token));
        free(cli->token);
    }
    cli->endpoint = cli->token = NULL;
}

/* Prints "PROG: PREFIXMSG" with every occurrence of the token replaced by "***": a server
 * (a mirror, a proxy) may quote the Authorization header in its messages or URLs. */
static void print_redacted(const hf_cli *cli, const char *prefix, const char *msg) {
    fprintf(stderr, "%s: %s", cli->prog, prefix);
    size_t n = cli->token ? strlen(cli->token) : 0;
    const char *hit;
    while (n && (hit = strstr(msg, cli->token)) != NULL) {
        fprintf(stderr, "%.*s***", (int)(hit - msg), msg);
        msg = hit + n;
    }
    fprintf(stderr, "%s\n", msg);
}

static void stderr_sink(void *ctx, hf_log_level level, const char *msg) {
    const hf_cli *cli = ctx;
    if ((int)level > cli->verbosity)
        return;
    print_redacted(cli, level == HF_LOG_WARN ? "warning: " : "", msg);
}

hf_logger hf_cli_logger(hf_cli *cli) {
    return (hf_logger){stderr_sink, cli};
}

hf_code hf_cli_client(hf_cli *cli, hf_client **out, hf_error *err) {
    char ua[64];
    snprintf(ua, sizeof ua, "%s/%s", cli->prog, HF_VERSION);
    hf_client_opts opts = {cli->endpoint, cli->token, ua, hf_cli_logger(cli)};
    return hf_client_new(&opts, out, err);
}

int hf_cli_fail(const hf_cli *cli, const hf_error *err) {
    int code = err->code == HF_OK ? HF_EOTHER : (int)err->code;
    print_redacted(cli, "error: ", err->msg[0] ? err->msg : hf_code_name(code));
    return code;
}

void hf_cli_say(const hf_cli *cli, const char *fmt, ...) {
    if (cli->verbosity < 1)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    hf_vformat_masked(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_redacted(cli, "", msg);
}

hf_code hf_cli_format(const char *arg, bool *json, hf_error *err) {
    if (strcmp(arg, "json") != 0 && strcmp(arg, "tsv") != 0)
        return hf_fail(err, HF_EUSAGE, "unknown format '%s' (tsv or json)", arg);
    *json = strcmp(arg, "json") == 0;
    return HF_OK;
}

int hf_cli_end(hf_cli *cli, hf_code rc, const hf_error *err) {
    int code = rc == HF_OK ? 0 : hf_cli_fail(cli, err);
    hf_cli_free(cli);
    return code;
}

hf_code hf_cli_jobs(const char *arg, int *jobs, hf_error *err) {
    char *end;
    long n = strtol(arg, &end, 10);
    if (*end || n < 1 || n > 64)
        return hf_fail(err, HF_EUSAGE, "--jobs takes a number from 1 to 64, not '%s'", arg);
    *jobs = (int)n;
    return HF_OK;
}

hf_code hf_cli_progress(const char *arg, int *mode, hf_error *err) {
    hf_progress_mode m;
    if (!hf_progress_parse(arg, &m))
        return hf_fail(err, HF_EUSAGE, "--progress takes auto, bar, log or none, not '%s'", arg);
    *mode = (int)m;
    return HF_OK;
}
