/* hf-fetch: files of a Hub repository pinned to the commit a revision resolves to, fetched in
 * parallel, verified byte for byte, into a folder or the Hub's cache, with a manifest. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "cli.h"
#include "fetch.h"
#include "fsutil.h"
#include "listing.h"
#include "manifest.h"
#include "offline.h"
#include "pathsafe.h"
#include "progress.h"
#include "select.h"
#include "store.h"

static const char usage[] =
    "Usage: hf-fetch [options] REPO_ID [FILE...]\n"
    "Fetch files of a Hugging Face Hub repository pinned to the commit a revision resolves to,\n"
    "verify every byte, and record what was fetched in a manifest.\n"
    "\n"
    "  -t, --repo-type TYPE   model (default), dataset or space\n"
    "  -r, --revision REV     branch, tag, commit or refs/pr/N (default: main)\n"
    "  -i, --include PATTERN  only paths matching PATTERN (repeatable)\n"
    "  -x, --exclude PATTERN  leave out paths matching PATTERN (repeatable)\n"
    "                         (ignored when FILEs are named)\n"
    "  -o, --local-dir DIR    files at their repository paths under DIR\n"
    "      --cache-dir DIR    the Hub's cache layout (default $HF_HUB_CACHE, else $HF_HOME/hub,\n"
    "                         else ~/.cache/huggingface/hub); used without --local-dir\n"
    "  -m, --manifest FILE    write the manifest there ('-' for stdout)\n"
    "  -l, --lock MANIFEST    fetch exactly the commit and files a manifest lists\n"
    "  -j, --jobs N           parallel transfers (default 8)\n"
    "  -n, --dry-run          print what would be fetched and its total size\n"
    "      --offline          only from what is already there, no network (also\n"
    "                         HF_HUB_OFFLINE=1)\n"
    "      --force            fetch again even what is present and verified\n"
    "      --verify           hash again every file already present (also HF_FETCH_VERIFY=1);\n"
    "                         else a cache blob, or a local file whose metadata matches and\n"
    "                         whose size and mtime did not change, is trusted unread\n"
    "      --sync MODE        auto (default: the cache durable, a local folder not synced),\n"
    "                         always (a local folder too, one syncfs at the end) or never\n"
    "      --progress MODE    auto, bar, log or none\n"
    "      --endpoint URL     default $HF_ENDPOINT, else https://huggingface.co\n"
    "      --token-file FILE  else $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, $HF_TOKEN_PATH,\n"
    "                         $HF_HOME/token\n"
    "  -q, --quiet  -v, --verbose  -h, --help  -V, --version\n"
    "\n"
    "On success stdout gets the folder the files are in (the snapshot folder in cache mode),\n"
    "unless the manifest goes to stdout.\n"
    "Exit codes: 0 ok, 1 other error, 2 bad usage or input, 3 not found, 4 authentication,\n"
    "5 integrity or unsafe data from the server, 6 network or server failure, 7 local I/O;\n"
    "128+N cancelled by signal N (143 SIGTERM, 130 SIGINT), temporary files removed.\n";

typedef struct {
    hf_cli cli;
    const char *local_dir;
    const char *cache_dir;
    const char *manifest_out;
    const char *lock_file;
    int jobs;
    bool dry_run;
    bool offline;
    bool force;
    bool verify;
    hf_sync_mode sync;
    hf_progress_mode progress;
    char **paths;
    size_t n_paths;
} options;

static bool env_true(const char *name) {
    const char *v = getenv(name);
    return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "true"));
}

/* hf-fetch's own options (see hf_cli_own_fn). */
static int own_option(void *ctx, int opt, const char *arg, hf_error *err) {
    options *o = ctx;
    int mode;
    switch (opt) {
    case 'o':
        o->local_dir = arg;
        return 1;
    case 1201:
        o->cache_dir = arg;
        return 1;
    case 'm':
        o->manifest_out = arg;
        return 1;
    case 'l':
        o->lock_file = arg;
        return 1;
    case 'j':
        return hf_cli_taken(hf_cli_jobs(arg, &o->jobs, err));
    case 'n':
        o->dry_run = true;
        return 1;
    case 1202:
        o->offline = true;
        return 1;
    case 1203:
        o->force = true;
        return 1;
    case 1204:
        if (hf_cli_progress(arg, &mode, err) != HF_OK)
            return -1;
        o->progress = (hf_progress_mode)mode;
        return 1;
    case 1205:
        o->verify = true;
        return 1;
    case 1206:
        if (!hf_sync_parse(arg, &o->sync))
            return hf_cli_taken(
                hf_fail(err, HF_EUSAGE, "--sync takes auto, always or never, not '%s'", arg));
        return 1;
    default:
        return 0;
    }
}

/* 0 to go on, or the exit code (after --help or --version: 0 through *exit_now). */
static hf_code parse(int argc, char **argv, options *o, bool *exit_now, hf_error *err) {
    static const struct option longopts[] = {{"local-dir", required_argument, 0, 'o'},
                                             {"cache-dir", required_argument, 0, 1201},
                                             {"manifest", required_argument, 0, 'm'},
                                             {"lock", required_argument, 0, 'l'},
                                             {"jobs", required_argument, 0, 'j'},
                                             {"dry-run", no_argument, 0, 'n'},
                                             {"offline", no_argument, 0, 1202},
                                             {"force", no_argument, 0, 1203},
                                             {"force-download", no_argument, 0, 1203},
                                             {"progress", required_argument, 0, 1204},
                                             {"verify", no_argument, 0, 1205},
                                             {"sync", required_argument, 0, 1206},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    switch (hf_cli_parse(&o->cli, argc, argv, "o:m:l:j:n" HF_CLI_SHORTOPTS, longopts, own_option, o,
                         usage, err)) {
    case HF_CLI_DONE:
        *exit_now = true;
        return HF_OK;
    case HF_CLI_BAD:
        return err->code;
    case HF_CLI_GO:
        break;
    }
    if (o->local_dir && o->cache_dir)
        return hf_fail(err, HF_EUSAGE, "--local-dir and --cache-dir exclude each other");
    if (env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE"))
        o->offline = true;
    if (env_true("HF_FETCH_VERIFY"))
        o->verify = true;
    o->paths = argv + optind + 1;
    o->n_paths = optind < argc ? (size_t)(argc - optind - 1) : 0;
    if (optind >= argc && !o->lock_file)
        return hf_fail(err, HF_EUSAGE, "expected a REPO_ID (try 'hf-fetch --help')");
    if (o->lock_file && o->n_paths)
        return hf_fail(err, HF_EUSAGE, "--lock fetches what the manifest lists: name no FILEs");
    for (size_t i = 0; i < o->n_paths; i++) {
        const char *why;
        if (!hf_path_is_safe(o->paths[i], &why))
            return hf_fail(err, HF_EUSAGE, "invalid FILE '%s': %s", o->paths[i], why);
    }
    return HF_OK;
}

/* The files to fetch and the commit, from the Hub (or the lock manifest). */
static hf_code plan_online(options *o, hf_client *client, const hf_manifest *lock, char commit[41],
                           char **commit_date, hf_entries *plan, hf_error *err) {
    hf_cli *cli = &o->cli;
    if (lock) {
        memcpy(commit, lock->commit, 41);
        *commit_date = lock->commit_date ? strdup(lock->commit_date) : NULL;
        for (size_t i = 0; i < lock->files.n; i++)
            if (!hf_entries_push(plan, &lock->files.v[i]))
                return hf_fail(err, HF_EOTHER, "out of memory");
        hf_cli_say(cli, "%s locked to commit %s by %s", cli->repo.id, commit, o->lock_file);
        return hf_entries_sort(plan, err);
    }
    hf_repo_info info;
    hf_code rc = hf_api_repo_info(client, &cli->repo, cli->revision, &info, err);
    if (rc != HF_OK)
        return rc;
    memcpy(commit, info.commit, 41);
    *commit_date = info.last_modified ? strdup(info.last_modified) : NULL;
    hf_repo_info_free(&info);
    hf_cli_say(cli, "%s@%s resolved to commit %s", cli->repo.id, cli->revision, commit);
    hf_entries all = {0};
    rc = hf_api_tree(client, &cli->repo, commit, cli->revision, NULL, true, &all, err);
    if (rc == HF_OK) {
        char where[400];
        snprintf(where, sizeof where, "%s at %s", cli->repo.id, cli->revision);
        rc = hf_select(&all, &cli->filter, o->paths, o->n_paths, where, plan, err);
    }
    hf_entries_free(&all);
    return rc;
}

/* The files to check, from what the store holds (or the lock manifest): no network. */
static hf_code plan_offline(options *o, const hf_store *store, const hf_manifest *lock,
                            hf_entries *plan, hf_error *err) {
    hf_entries held = {0};
    hf_code rc = hf_offline_list(store, &held, err);
    if (rc == HF_OK)
        rc = hf_entries_sort(&held, err);
    if (rc == HF_OK && lock) {
        /* every locked file must be held, with the etag the manifest implies */
        for (size_t i = 0; rc == HF_OK && i < lock->files.n; i++) {
            const hf_entry *want = &lock->files.v[i];
            const hf_entry *have = hf_entries_find(&held, want->path);
            if (!have)
                rc = hf_fail(err, HF_ENOTFOUND, "'%s' is not in %s (offline: nothing is fetched)",
                             want->path, store->files);
            else if (strcmp(hf_store_etag(have), hf_store_etag(want)) != 0)
                rc = hf_fail(err, HF_EINTEGRITY,
                             "'%s': the manifest records %s, the file in %s is %s (offline: "
                             "nothing is fetched)",
                             want->path, hf_store_etag(want), store->files, hf_store_etag(have));
            else if (!hf_entries_push(plan, want))
                rc = hf_fail(err, HF_EOTHER, "out of memory");
        }
    } else if (rc == HF_OK) {
        char where[4200];
        snprintf(where, sizeof where, "%s (offline: nothing is fetched)", store->files);
        rc = hf_select(&held, &o->cli.filter, o->paths, o->n_paths, where, plan, err);
    }
    hf_entries_free(&held);
    if (rc == HF_OK)
        rc = hf_entries_sort(plan, err);
    return rc;
}

/* Offline: every planned file must be there and verify; nothing is fetched. */
static hf_code verify_offline(const hf_store *store, hf_entries *plan, hf_error *err) {
    for (size_t i = 0; i < plan->n; i++) {
        hf_entry *e = &plan->v[i];
        bool present = false;
        char sha[65];
        hf_code rc = hf_store_check(store, e, &present, sha, err);
        if (rc != HF_OK)
            return rc;
        if (!present)
            return hf_fail(err, HF_ENOTFOUND,
                           "'%s' is missing or does not verify in %s (offline: nothing is "
                           "fetched)",
                           e->path, store->files);
        memcpy(e->sha256, sha, 65);
    }
    return HF_OK;
}

static hf_code write_outputs(options *o, const hf_store *store, const char *commit,
                             const char *commit_date, const char *revision, hf_entries *plan,
                             hf_error *err) {
    char now[21];
    hf_utc_now(now);
    hf_manifest m = {.repo_id = (char *)o->cli.repo.id,
                     .repo_type = o->cli.repo.type,
                     .revision = (char *)revision,
                     .commit_date = (char *)commit_date,
                     .endpoint = o->cli.endpoint,
                     .files = *plan,
                     .tool_name = "hf-fetch",
                     .tool_version = HF_VERSION,
                     .fetched_at = now};
    memcpy(m.commit, commit, 41);
    hf_code rc = HF_OK;
    if (store->kind == HF_STORE_DIR) {
        size_t len = 0;
        char *text = hf_manifest_text(&m, &len);
        rc = text ? hf_store_write_manifest(store, text, len, err)
                  : hf_fail(err, HF_EOTHER, "out of memory");
        free(text);
    }
    if (rc == HF_OK && o->manifest_out)
        rc = hf_manifest_write(&m, o->manifest_out, err);
    if (rc == HF_OK && !(o->manifest_out && strcmp(o->manifest_out, "-") == 0)) {
        printf("%s\n", store->files);
        if (fflush(stdout) != 0)
            rc = hf_fail(err, HF_EIO, "cannot write to standard output");
    }
    return rc;
}

static hf_code open_store(options *o, hf_store *store, hf_store_kind kind, const char *root,
                          const char *commit, hf_error *err) {
    hf_code rc = hf_store_open(store, kind, root, &o->cli.repo, commit, !o->dry_run, err);
    store->verify = o->verify;
    store->sync = o->sync;
    return rc;
}

static hf_code run(options *o, hf_error *err) {
    hf_cli *cli = &o->cli;
    hf_manifest lock = {0};
    bool locked = false;
    hf_code rc = HF_OK;
    if (o->lock_file) {
        if ((rc = hf_manifest_read(o->lock_file, &lock, err)) != HF_OK)
            return rc;
        locked = true;
    }
    hf_client *client = NULL;
    hf_store store = {0};
    hf_entries plan = {0};
    char commit[41] = "";
    char *commit_date = NULL;
    const char *revision = locked && lock.revision ? lock.revision : cli->revision;
    char *cache = NULL;
    const char *root = o->local_dir;
    if (!root)
        root = o->cache_dir ? o->cache_dir : (cache = hf_store_default_cache());
    hf_store_kind kind = o->local_dir ? HF_STORE_DIR : HF_STORE_CACHE;

    if (o->offline) {
        if (locked && lock.commit_date)
            commit_date = strdup(lock.commit_date);
        if (locked)
            memcpy(commit, lock.commit, 41);
        else if (kind == HF_STORE_CACHE)
            rc = hf_store_read_ref(root, &cli->repo, cli->revision, commit, err);
        else if (hf_is_commit(cli->revision))
            memcpy(commit, cli->revision, 41);
        else
            rc = hf_offline_dir_commit(root, commit, err);
        if (rc == HF_OK)
            rc = open_store(o, &store, kind, root, commit, err);
        if (rc == HF_OK)
            rc = plan_offline(o, &store, locked ? &lock : NULL, &plan, err);
        if (rc == HF_OK)
            rc = hf_store_check_paths(kind, root, &plan, err);
        if (rc == HF_OK && !o->dry_run)
            rc = verify_offline(&store, &plan, err);
        if (rc == HF_OK)
            hf_cli_say(cli, "%s@%s is commit %s: %zu files present and verified%s (offline)",
                       cli->repo.id, revision, commit, plan.n, o->verify ? " again" : "");
    } else {
        rc = hf_cli_client(cli, &client, err);
        if (rc == HF_OK)
            rc = plan_online(o, client, locked ? &lock : NULL, commit, &commit_date, &plan, err);
        if (rc == HF_OK)
            rc = hf_store_check_paths(kind, root, &plan, err);
        if (rc == HF_OK)
            rc = open_store(o, &store, kind, root, commit, err);
    }
    if (rc == HF_OK && o->dry_run) {
        long long total = 0;
        for (size_t i = 0; i < plan.n; i++)
            total += plan.v[i].size;
        hf_listing l = {cli->repo, revision, commit, cli->endpoint, &plan};
        if (hf_listing_write_tsv(stdout, &l) != 0 || fflush(stdout) != 0)
            rc = hf_fail(err, HF_EIO, "cannot write to standard output");
        char size[32];
        hf_format_bytes(total, size);
        hf_cli_say(cli, "would fetch %zu files, %lld bytes (%s), into %s", plan.n, total, size,
                   store.files);
    } else if (rc == HF_OK && !o->offline) {
        hf_progress progress;
        hf_progress_init(&progress, cli->verbosity == 0 ? HF_PROGRESS_NONE : o->progress,
                         cli->prog);
        hf_fetch_opts fo = {client,   &cli->repo,         commit,   revision, &store, o->jobs,
                            o->force, hf_progress_update, &progress};
        rc = hf_fetch_run(&fo, &plan, err);
        if (rc == HF_OK && !locked)
            rc = hf_store_write_ref(&store, cli->revision, err);
    }
    if (rc == HF_OK && !o->dry_run)
        rc = write_outputs(o, &store, commit, commit_date, revision, &plan, err);
    hf_entries_free(&plan);
    hf_store_close(&store);
    hf_client_free(client);
    free(cache);
    free(commit_date);
    if (locked)
        hf_manifest_free(&lock);
    return rc;
}

int main(int argc, char **argv) {
    options o = {.jobs = 8, .progress = HF_PROGRESS_AUTO};
    hf_cli_init(&o.cli, "hf-fetch");
    hf_error err = {0};
    bool exit_now = false;
    hf_code rc = parse(argc, argv, &o, &exit_now, &err);
    hf_manifest lock = {0};
    if (rc == HF_OK && !exit_now) {
        const char *repo_id = optind < argc ? argv[optind] : NULL;
        if (o.lock_file && !repo_id) {
            /* the repository comes from the manifest */
            rc = hf_manifest_read(o.lock_file, &lock, &err);
            if (rc == HF_OK) {
                repo_id = lock.repo_id;
                o.cli.repo.type = lock.repo_type;
            }
        }
        if (rc == HF_OK)
            rc = hf_cli_finish(&o.cli, repo_id, &err);
        if (rc == HF_OK && o.lock_file && lock.repo_id == NULL) {
            hf_manifest check = {0};
            rc = hf_manifest_read(o.lock_file, &check, &err);
            if (rc == HF_OK &&
                (strcmp(check.repo_id, o.cli.repo.id) != 0 || check.repo_type != o.cli.repo.type))
                rc = hf_fail(&err, HF_EUSAGE, "the manifest %s is for %s %s, not %s", o.lock_file,
                             hf_repo_type_name(check.repo_type), check.repo_id, o.cli.repo.id);
            hf_manifest_free(&check);
        }
        if (rc == HF_OK)
            rc = run(&o, &err);
    }
    int code = exit_now && rc == HF_OK ? 0 : rc == HF_OK ? 0 : hf_cli_fail(&o.cli, &err);
    hf_manifest_free(&lock);
    hf_cli_free(&o.cli);
    return code;
}
