/* hf-list: the files of a Hub repository at a revision, and the commit it resolved to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "listing.h"
#include "pathsafe.h"

static const char usage[] =
    "Usage: hf-list [options] REPO_ID\n"
    "List the files of a Hugging Face Hub repository at a revision, with sizes and hashes,\n"
    "and the commit that revision resolved to.\n"
    "\n"
    "  -t, --repo-type TYPE   model (default), dataset or space\n"
    "  -r, --revision REV     branch, tag, commit or refs/pr/N (default: main)\n"
    "  -p, --path DIR         only what is below DIR\n"
    "  -i, --include PATTERN  only paths matching PATTERN (repeatable)\n"
    "  -x, --exclude PATTERN  leave out paths matching PATTERN (repeatable)\n"
    "                         (fnmatch, case-sensitive, '*' crosses '/', 'dir/' = all below)\n"
    "      --no-recursive     only the direct children of --path (or the root), folders too\n"
    "  -f, --format FORMAT    tsv (default) or json\n"
    "      --endpoint URL     default $HF_ENDPOINT, else https://huggingface.co\n"
    "      --token-file FILE  else $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, $HF_TOKEN_PATH,\n"
    "                         $HF_HOME/token\n"
    "  -q, --quiet            no messages but errors\n"
    "  -v, --verbose          say every request\n"
    "  -h, --help             this help\n"
    "  -V, --version          the version\n"
    "\n"
    "Exit codes: 0 ok, 1 other error, 2 bad usage or input, 3 not found, 4 authentication,\n"
    "5 integrity or unsafe data from the server, 6 network or server failure, 7 local I/O;\n"
    "128+N cancelled by signal N (143 SIGTERM, 130 SIGINT), temporary files removed.\n";

typedef struct {
    const hf_filter *filter;
    bool recursive;
} shown_by;

/* What is listed: the files that pass the filters, and folders too when not recursive. */
static bool shown(void *ctx, const hf_entry *e) {
    const shown_by *s = ctx;
    return !(e->is_dir && s->recursive) && hf_filter_match(s->filter, e->path);
}

int main(int argc, char **argv) {
    hf_cli cli;
    hf_cli_init(&cli, "hf-list");
    hf_error err = {0};
    const char *path = NULL;
    bool recursive = true;
    bool json = false;
    static const struct option longopts[] = {{"path", required_argument, 0, 'p'},
                                             {"no-recursive", no_argument, 0, 1101},
                                             {"format", required_argument, 0, 'f'},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "p:f:" HF_CLI_SHORTOPTS, longopts, NULL)) != -1) {
        int taken = hf_cli_option(&cli, opt, optarg, &err);
        if (taken < 0)
            goto fail;
        if (taken)
            continue;
        switch (opt) {
        case 'p':
            path = optarg;
            break;
        case 1101:
            recursive = false;
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "tsv") != 0) {
                hf_fail(&err, HF_EUSAGE, "unknown format '%s' (tsv or json)", optarg);
                goto fail;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            hf_cli_free(&cli);
            return 0;
        case 'V':
            printf("hf-list %s\n", HF_VERSION);
            hf_cli_free(&cli);
            return 0;
        default:
            fputs("Try 'hf-list --help'.\n", stderr);
            hf_cli_free(&cli);
            return HF_EUSAGE;
        }
    }
    if (optind != argc - 1) {
        hf_fail(&err, HF_EUSAGE, "expected one REPO_ID (try 'hf-list --help')");
        goto fail;
    }
    if (hf_cli_finish(&cli, argv[optind], &err) != HF_OK)
        goto fail;

    /* --path: a repository-relative folder; trailing '/' allowed */
    char *dir = NULL;
    if (path) {
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] == '/')
            n--;
        dir = strndup(path, n);
        const char *why;
        if (!dir || !hf_path_is_safe(dir, &why)) {
            hf_fail(&err, HF_EUSAGE, "invalid --path '%s': %s", path, dir ? why : "out of memory");
            free(dir);
            goto fail;
        }
    }

    hf_client *client = NULL;
    hf_repo_info info = {0};
    hf_compact all = {0}; /* the whole listing, packed: 100,000 entries in a few MiB */
    hf_code rc = hf_cli_client(&cli, &client, &err);
    if (rc == HF_OK)
        rc = hf_api_repo_info(client, &cli.repo, cli.revision, &info, &err);
    if (rc == HF_OK) {
        hf_cli_say(&cli, "%s@%s resolved to commit %s", cli.repo.id, cli.revision, info.commit);
        rc = hf_api_tree_each(client, &cli.repo, info.commit, cli.revision, dir, recursive,
                              hf_compact_add, &all, &err);
    }
    if (rc == HF_OK)
        rc = hf_compact_sort(&all, &err); /* checked whole, before the filters */
    if (rc == HF_OK) {
        shown_by s = {&cli.filter, recursive};
        hf_compact_keep(&all, shown, &s);
        hf_listing l = {cli.repo, cli.revision, info.commit, cli.endpoint, NULL, &all};
        int w = json ? hf_listing_write_json(stdout, &l) : hf_listing_write_tsv(stdout, &l);
        if (w != 0 || fflush(stdout) != 0)
            rc = hf_fail(&err, HF_EIO, "cannot write the listing to standard output");
    }
    hf_compact_free(&all);
    hf_repo_info_free(&info);
    hf_client_free(client);
    free(dir);
    if (rc != HF_OK)
        goto fail;
    hf_cli_free(&cli);
    return 0;

fail:;
    int code = hf_cli_fail(&cli, &err);
    hf_cli_free(&cli);
    return code;
}
