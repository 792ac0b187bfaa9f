/* hf-upload: files and folders pushed to a Hub repository as one commit, with a model card
 * and the manifest of that commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_write.h"
#include "cli.h"
#include "fsutil.h"
#include "progress.h"
#include "hub_write.h"
#include "upload.h"

static const char usage[] =
    "Usage: hf-upload [options] REPO_ID SOURCE...\n"
    "Upload files to a Hugging Face Hub repository as one commit (or a pull request), with a\n"
    "model card, and write the manifest of that commit for hf-fetch --lock.\n"
    "\n"
    "  SOURCE                 a file or a folder (what is below it, relative paths kept);\n"
    "                         FILE=PATH_IN_REPO gives a file's path in the repository\n"
    "  -t, --repo-type TYPE   model (default), dataset or space\n"
    "  -r, --revision BRANCH  the branch to commit to (default main)\n"
    "      --path-in-repo DIR put every SOURCE below DIR in the repository\n"
    "  -i, --include PATTERN  only the folders' files matching PATTERN (repeatable)\n"
    "  -x, --exclude PATTERN  leave out the folders' files matching PATTERN (repeatable)\n"
    "      --delete PATTERN   delete the repository's files matching PATTERN in the same\n"
    "                         commit (repeatable; never the files uploaded)\n"
    "      --create           create the repository when it does not exist\n"
    "      --private          with --create: a private repository\n"
    "      --space-sdk SDK    with --create of a Space (needed): gradio, streamlit, docker\n"
    "                         or static\n"
    "  -m, --commit-message TEXT   default \"Upload N files with hf-upload\"\n"
    "      --commit-description TEXT\n"
    "      --pr               open a pull request (refs/pr/N) instead of committing\n"
    "      --parent-commit SHA  commit only if the branch is still at SHA\n"
    "      --card FILE        card metadata (a YAML mapping) for README.md: merged into an\n"
    "                         existing card (given keys replace), else a new card\n"
    "      --card-source MANIFEST  an hf-fetch manifest this upload derives from (repeatable):\n"
    "                         base_model / datasets and the card's provenance\n"
    "      --tag TAG          a tag for the card (repeatable)\n"
    "      --no-card          never write README.md\n"
    "      --card-output FILE the README.md of the result: the card written, or the one left\n"
    "                         as it is (empty when there is none)\n"
    "  -o, --manifest FILE    the manifest of the new commit ('-' for stdout)\n"
    "  -n, --dry-run          print the plan (path, size, mode, action); upload nothing\n"
    "                         (mode '?' for a repository that does not exist yet)\n"
    "  -j, --jobs N           parallel LFS transfers (default 8)\n"
    "      --progress MODE    auto, bar, log or none\n"
    "      --endpoint URL     default $HF_ENDPOINT, else https://huggingface.co\n"
    "      --token-file FILE  else $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, $HF_TOKEN_PATH,\n"
    "                         $HF_HOME/token (a token with write access)\n"
    "  -q, --quiet            no messages but errors\n"
    "  -v, --verbose          say every request\n"
    "  -h, --help             this help\n"
    "  -V, --version          the version\n"
    "\n"
    "Exit codes: 0 ok (also when nothing changed: no commit is made), 1 other error, 2 bad\n"
    "usage or input (a card the Hub would refuse), 3 not found, 4 authentication (no token,\n"
    "a read-only token), 5 integrity or unsafe data from the server, 6 network or server\n"
    "failure, 7 local I/O, 8 conflict (the branch moved past --parent-commit, or the Hub\n"
    "refused the commit as conflicting).\n";

#define MAX_LIST 256

typedef struct {
    hf_cli cli;
    const char *path_in_repo, *message, *description, *parent, *card_file, *manifest_out, *card_out;
    const char *space_sdk;
    const char *sources_files[MAX_LIST];
    size_t n_sources;
    const char *tags[MAX_LIST];
    size_t n_tags;
    hf_filter deletes;
    bool create, is_private, pr, dry_run, no_card;
    int jobs;
    hf_progress_mode progress;
} options;

static hf_code list_add(const char **v, size_t *n, const char *s, const char *what, hf_error *err) {
    if (*n >= MAX_LIST)
        return hf_fail(err, HF_EUSAGE, "at most %d %s", MAX_LIST, what);
    v[(*n)++] = s;
    return HF_OK;
}

/* hf-upload's own options (see hf_cli_own_fn). */
static int own_option(void *ctx, int opt, const char *arg, hf_error *err) {
    options *o = ctx;
    int mode;
    switch (opt) {
    case 1301:
        o->path_in_repo = arg;
        return 1;
    case 1302:
        if (!*arg)
            return hf_cli_taken(hf_fail(err, HF_EUSAGE, "empty pattern for --delete"));
        if (!hf_filter_add(&o->deletes, true, arg))
            return hf_cli_taken(hf_fail(err, HF_EOTHER, "out of memory"));
        return 1;
    case 1303:
        o->create = true;
        return 1;
    case 1304:
        o->is_private = true;
        return 1;
    case 'm':
        o->message = arg;
        return 1;
    case 1305:
        o->description = arg;
        return 1;
    case 1306:
        o->pr = true;
        return 1;
    case 1307:
        if (!hf_is_commit(arg))
            return hf_cli_taken(
                hf_fail(err, HF_EUSAGE, "--parent-commit takes a 40-hex commit, not '%s'", arg));
        o->parent = arg;
        return 1;
    case 1308:
        o->card_file = arg;
        return 1;
    case 1309:
        return hf_cli_taken(list_add(o->sources_files, &o->n_sources, arg, "--card-source", err));
    case 1310:
        return hf_cli_taken(list_add(o->tags, &o->n_tags, arg, "--tag", err));
    case 1311:
        o->no_card = true;
        return 1;
    case 'o':
        o->manifest_out = arg;
        return 1;
    case 1313:
        o->card_out = arg;
        return 1;
    case 1314:
        if (!hf_space_sdk_valid(arg))
            return hf_cli_taken(
                hf_fail(err, HF_EUSAGE,
                        "--space-sdk takes gradio, streamlit, docker or static, not '%s'", arg));
        o->space_sdk = arg;
        return 1;
    case 'n':
        o->dry_run = true;
        return 1;
    case 'j':
        return hf_cli_taken(hf_cli_jobs(arg, &o->jobs, err));
    case 1312:
        if (hf_cli_progress(arg, &mode, err) != HF_OK)
            return -1;
        o->progress = (hf_progress_mode)mode;
        return 1;
    default:
        return 0;
    }
}

static hf_code parse(int argc, char **argv, options *o, bool *exit_now, hf_error *err) {
    static const struct option longopts[] = {{"path-in-repo", required_argument, 0, 1301},
                                             {"delete", required_argument, 0, 1302},
                                             {"create", no_argument, 0, 1303},
                                             {"private", no_argument, 0, 1304},
                                             {"commit-message", required_argument, 0, 'm'},
                                             {"commit-description", required_argument, 0, 1305},
                                             {"pr", no_argument, 0, 1306},
                                             {"parent-commit", required_argument, 0, 1307},
                                             {"card", required_argument, 0, 1308},
                                             {"card-source", required_argument, 0, 1309},
                                             {"tag", required_argument, 0, 1310},
                                             {"no-card", no_argument, 0, 1311},
                                             {"manifest", required_argument, 0, 'o'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"jobs", required_argument, 0, 'j'},
                                             {"progress", required_argument, 0, 1312},
                                             {"card-output", required_argument, 0, 1313},
                                             {"space-sdk", required_argument, 0, 1314},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    switch (hf_cli_parse(&o->cli, argc, argv, "m:o:nj:" HF_CLI_SHORTOPTS, longopts, own_option, o,
                         usage, err)) {
    case HF_CLI_DONE:
        *exit_now = true;
        return HF_OK;
    case HF_CLI_BAD:
        return err->code;
    case HF_CLI_GO:
        break;
    }
    if (argc - optind < 2)
        return hf_fail(err, HF_EUSAGE,
                       "expected REPO_ID and at least one SOURCE (try "
                       "'hf-upload --help')");
    if (o->is_private && !o->create)
        return hf_fail(err, HF_EUSAGE, "--private goes with --create");
    if (o->space_sdk && (!o->create || o->cli.repo.type != HF_SPACE))
        return hf_fail(err, HF_EUSAGE, "--space-sdk goes with --create and --repo-type space");
    if (o->create && o->cli.repo.type == HF_SPACE && !o->space_sdk)
        return hf_fail(err, HF_EUSAGE,
                       "--create of a Space needs --space-sdk (gradio, streamlit, docker or "
                       "static)");
    if (o->no_card && (o->card_file || o->n_tags))
        return hf_fail(err, HF_EUSAGE, "--no-card excludes --card and --tag");
    return HF_OK;
}

static void print_plan(const hf_upload_result *r) {
    for (size_t i = 0; i < r->files.n; i++) {
        const hf_upload_file *f = &r->files.v[i];
        /* a repository that does not exist yet cannot be asked for the modes */
        const char *mode = f->lfs ? "lfs" : r->head[0] ? "regular" : "?";
        printf("%s\t%lld\t%s\t%s\n", f->path, f->size, mode, f->unchanged ? "unchanged" : "upload");
    }
    for (size_t i = 0; i < r->n_deleted; i++)
        printf("%s\t\t\tdelete\n", r->deleted[i]);
}

static hf_code run(options *o, char **sources, size_t n_sources, hf_error *err) {
    hf_cli *cli = &o->cli;
    json_t *card = NULL;
    hf_manifest inputs[MAX_LIST] = {{0}};
    hf_client *client = NULL;
    hf_upload_result r = {0};
    hf_code rc = HF_OK;
    if (o->card_file)
        rc = hf_card_read_meta(o->card_file, &card, err);
    for (size_t i = 0; rc == HF_OK && i < o->n_sources; i++)
        rc = hf_manifest_read(o->sources_files[i], &inputs[i], err);
    if (rc == HF_OK)
        rc = hf_cli_client(cli, &client, err);
    hf_progress progress;
    hf_progress_init(&progress, cli->verbosity == 0 ? HF_PROGRESS_NONE : o->progress, cli->prog);
    hf_upload_opts uo = {
        .client = client,
        .repo = &cli->repo,
        .revision = cli->revision,
        .plan = {(const char *const *)sources, n_sources, o->path_in_repo, &cli->filter},
        .deletes = &o->deletes,
        .create = o->create,
        .is_private = o->is_private,
        .space_sdk = o->space_sdk,
        .pr = o->pr,
        .dry_run = o->dry_run,
        .no_card = o->no_card,
        .message = o->message,
        .description = o->description,
        .parent_commit = o->parent,
        .card = card,
        .sources = inputs,
        .n_sources = o->n_sources,
        .tags = o->tags,
        .n_tags = o->n_tags,
        .want_card = o->card_out != NULL,
        .jobs = o->jobs,
        .tool_name = "hf-upload",
        .tool_version = HF_VERSION,
        .progress = hf_progress_update,
        .progress_ctx = &progress};
    if (rc == HF_OK)
        rc = hf_upload_run(&uo, &r, err);
    size_t changed = 0;
    for (size_t i = 0; i < r.files.n; i++)
        changed += !r.files.v[i].unchanged;
    if (rc == HF_OK && o->dry_run) {
        print_plan(&r);
        if (fflush(stdout) != 0)
            rc = hf_fail(err, HF_EIO, "cannot write to standard output");
        hf_cli_say(cli, "would upload %zu of %zu files and delete %zu (dry run: nothing sent)",
                   changed, r.files.n, r.n_deleted);
    } else if (rc == HF_OK) {
        if (r.created)
            hf_cli_say(cli, "created %s %s", hf_repo_type_name(cli->repo.type), cli->repo.id);
        if (r.committed)
            hf_cli_say(cli,
                       "%s@%s: commit %s (files: %zu uploaded, %zu unchanged, %zu deleted; "
                       "LFS objects sent: %zu)",
                       cli->repo.id, r.manifest.revision, r.answer.commit, changed,
                       r.files.n - changed, r.n_deleted, r.lfs_sent);
        else
            hf_cli_say(cli, "%s@%s is at %s: nothing changed, no commit made", cli->repo.id,
                       cli->revision, r.head);
        if (o->manifest_out)
            rc = hf_manifest_write(&r.manifest, o->manifest_out, err);
        const char *readme = r.card ? r.card : r.card_kept ? r.card_kept : "";
        if (rc == HF_OK && o->card_out)
            rc = hf_write_atomic(o->card_out, readme, strlen(readme), err);
        if (rc == HF_OK && !(o->manifest_out && strcmp(o->manifest_out, "-") == 0)) {
            const char *url = r.answer.pr_url ? r.answer.pr_url : r.answer.commit_url;
            printf("%s\n", url ? url : r.manifest.commit);
            if (fflush(stdout) != 0)
                rc = hf_fail(err, HF_EIO, "cannot write to standard output");
        }
    }
    hf_upload_result_free(&r);
    hf_client_free(client);
    for (size_t i = 0; i < o->n_sources; i++)
        hf_manifest_free(&inputs[i]);
    json_decref(card);
    return rc;
}

int main(int argc, char **argv) {
    options o = {.jobs = 8, .progress = HF_PROGRESS_AUTO};
    hf_cli_init(&o.cli, "hf-upload");
    hf_error err = {0};
    bool exit_now = false;
    hf_code rc = parse(argc, argv, &o, &exit_now, &err);
    if (rc == HF_OK && !exit_now)
        rc = hf_cli_finish(&o.cli, argv[optind], &err);
    if (rc == HF_OK && !exit_now)
        rc = run(&o, argv + optind + 1, (size_t)(argc - optind - 1), &err);
    int code = rc == HF_OK ? 0 : hf_cli_fail(&o.cli, &err);
    hf_filter_free(&o.deletes);
    hf_cli_free(&o.cli);
    return code;
}
