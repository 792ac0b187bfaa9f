/* hf-list: the files of a Hub repository at a revision, and the commit it resolved to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"
#include "listing.h"
#include "pathsafe.h"
#include "search.h"

static const char usage[] =
    "Usage: hf-list [options] REPO_ID\n"
    "       hf-list --search QUERY [-t TYPE] [--author ORG] [--filter TAG]... [--sort KEY]\n"
    "               [--limit N] [-f tsv|json]\n"
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
    "Search (the Hub's listing of models, datasets or Spaces):\n"
    "      --search QUERY     repositories whose id contains QUERY ('' for any)\n"
    "      --author ORG       only those of this user or organization\n"
    "      --filter TAG       only those with this tag (repeatable: every tag), e.g.\n"
    "                         text-classification, transformers, license:mit\n"
    "      --sort KEY         downloads, likes, lastModified or trendingScore (descending)\n"
    "      --limit N          at most N results, 1 to 1000 (default 50); pages are followed\n"
    "  TSV: a header line, then id, pipeline_tag, library, license, downloads, likes,\n"
    "  lastModified, private, gated and the current commit (when the Hub gives it).\n"
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

static int search_main(int argc, char **argv);

/* The options of a listing. */
typedef struct {
    const char *path;
    bool recursive;
    bool json;
} tree_args;

static int tree_option(void *ctx, int opt, const char *arg, hf_error *err) {
    tree_args *a = ctx;
    switch (opt) {
    case 'p':
        a->path = arg;
        return 1;
    case 1101:
        a->recursive = false;
        return 1;
    case 'f':
        return hf_cli_taken(hf_cli_format(arg, &a->json, err));
    default:
        return 0;
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--search") == 0 || strncmp(argv[i], "--search=", 9) == 0)
            return search_main(argc, argv);
    hf_cli cli;
    hf_cli_init(&cli, "hf-list");
    hf_error err = {0};
    tree_args a = {.recursive = true};
    static const struct option longopts[] = {{"path", required_argument, 0, 'p'},
                                             {"no-recursive", no_argument, 0, 1101},
                                             {"format", required_argument, 0, 'f'},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    hf_cli_parsed parsed = hf_cli_parse(&cli, argc, argv, "p:f:" HF_CLI_SHORTOPTS, longopts,
                                        tree_option, &a, usage, &err);
    if (parsed == HF_CLI_DONE)
        return hf_cli_end(&cli, HF_OK, &err);
    if (parsed == HF_CLI_BAD)
        goto fail;
    const char *path = a.path;
    bool recursive = a.recursive, json = a.json;
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

/* The options of a search. */
typedef struct {
    hf_search_query q;
    bool json;
} search_args;

static int search_option(void *ctx, int opt, const char *arg, hf_error *err) {
    search_args *a = ctx;
    hf_search_query *q = &a->q;
    char *end;
    switch (opt) {
    case 'r':
    case 'i':
    case 'x':
        return hf_cli_taken(hf_fail(
            err, HF_EUSAGE, "--revision, --include and --exclude do not apply to --search"));
    case 1201:
        q->search = arg;
        return 1;
    case 1202:
        q->author = arg;
        return 1;
    case 1203:
        if (q->n_filters == HF_SEARCH_MAX_FILTERS)
            return hf_cli_taken(
                hf_fail(err, HF_EUSAGE, "at most %d --filter", HF_SEARCH_MAX_FILTERS));
        q->filters[q->n_filters++] = arg;
        return 1;
    case 1204:
        if (!hf_search_sort_parse(arg, &q->sort))
            return hf_cli_taken(hf_fail(
                err, HF_EUSAGE,
                "unknown --sort '%s' (downloads, likes, lastModified or trendingScore)", arg));
        return 1;
    case 1205: {
        unsigned long long n = strtoull(arg, &end, 10);
        if (!*arg || *end || *arg == '-' || n < 1 || n > HF_SEARCH_MAX_LIMIT)
            return hf_cli_taken(hf_fail(err, HF_EUSAGE, "--limit must be a number from 1 to %d",
                                        HF_SEARCH_MAX_LIMIT));
        q->limit = (size_t)n;
        return 1;
    }
    case 'f':
        return hf_cli_taken(hf_cli_format(arg, &a->json, err));
    default:
        return 0;
    }
}

/* hf-list --search: the Hub's repository listing, with its filters, sorted, up to a limit. */
static int search_main(int argc, char **argv) {
    hf_cli cli;
    hf_cli_init(&cli, "hf-list");
    hf_error err = {0};
    search_args a = {.q = {.limit = HF_SEARCH_DEFAULT_LIMIT}};
    static const struct option longopts[] = {{"search", required_argument, 0, 1201},
                                             {"author", required_argument, 0, 1202},
                                             {"filter", required_argument, 0, 1203},
                                             {"sort", required_argument, 0, 1204},
                                             {"limit", required_argument, 0, 1205},
                                             {"format", required_argument, 0, 'f'},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    hf_cli_parsed parsed = hf_cli_parse(&cli, argc, argv, "f:" HF_CLI_SHORTOPTS, longopts,
                                        search_option, &a, usage, &err);
    if (parsed == HF_CLI_DONE)
        return hf_cli_end(&cli, HF_OK, &err);
    if (parsed == HF_CLI_BAD)
        goto fail;
    hf_search_query q = a.q;
    bool json = a.json;
    if (optind != argc) {
        hf_fail(&err, HF_EUSAGE, "--search takes no REPO_ID (try 'hf-list --help')");
        goto fail;
    }
    q.type = cli.repo.type;
    if (hf_search_check(&q, &err) != HF_OK || hf_cli_settle(&cli, &err) != HF_OK)
        goto fail;

    hf_client *client = NULL;
    hf_search_hits hits = {0};
    hf_code rc = hf_cli_client(&cli, &client, &err);
    if (rc == HF_OK)
        rc = hf_search(client, &q, &hits, &err);
    if (rc == HF_OK) {
        hf_cli_say(&cli, "%zu %s%s found", hits.n, hf_repo_type_name(q.type),
                   hits.n == 1 ? "" : "s");
        int w;
        w = json ? hf_json_put(stdout, hf_search_json(&q, cli.endpoint, &hits))
                 : hf_search_write_tsv(stdout, &hits);
        if (w != 0 || fflush(stdout) != 0)
            rc = hf_fail(&err, HF_EIO, "cannot write the results to standard output");
    }
    hf_search_hits_free(&hits);
    hf_client_free(client);
    return hf_cli_end(&cli, rc, &err);

fail:
    return hf_cli_end(&cli, HF_EUSAGE, &err);
}
