/* hf-bundle: a deterministic archive of a pinned snapshot with its manifest; --verify and
 * --list of one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "bundle_hub.h"
#include "cli.h"

static const char usage[] =
    "Usage: hf-bundle [options] -o ARCHIVE SOURCE\n"
    "       hf-bundle [options] -o ARCHIVE --repo REPO_ID [-t TYPE] [-r REV] [-i/-x PATTERN]\n"
    "       hf-bundle --verify ARCHIVE\n"
    "       hf-bundle --list ARCHIVE\n"
    "Pack a pinned snapshot of a Hugging Face Hub repository, with its manifest, into a\n"
    "deterministic archive: from a folder written by hf-fetch (SOURCE), checked against its\n"
    "manifest, or straight from the Hub, verified on the way. Check or list such an archive.\n"
    "\n"
    "  -o, --output FILE      the archive; its format from the name: .tar, .tar.gz or .tgz,\n"
    "                         .tar.zst, .zip\n"
    "  -f, --format FORMAT    tar, tgz, tar.zst or zip (whatever the name)\n"
    "  -m, --manifest FILE    the manifest describing SOURCE (default: SOURCE/hf-manifest.json\n"
    "                         or SOURCE/.cache/huggingface/hf-manifest.json, whichever is\n"
    "                         there; none for a cache snapshot)\n"
    "      --allow-extra      leave out files of SOURCE the manifest does not list (default:\n"
    "                         refuse them)\n"
    "      --repo REPO_ID     fetch from the Hub instead of reading SOURCE\n"
    "  -t, --repo-type TYPE   model (default), dataset or space\n"
    "  -r, --revision REV     branch, tag, commit or refs/pr/N (default: main)\n"
    "  -i, --include PATTERN  only paths matching PATTERN (repeatable)\n"
    "  -x, --exclude PATTERN  leave out paths matching PATTERN (repeatable)\n"
    "      --prefix DIR       entries under DIR/ ('' for none; default NAME-COMMIT12, the\n"
    "                         repository's name and the commit's first 12 hex digits)\n"
    "      --level N          compression level: tgz and zip 0-9, tar.zst 1-22\n"
    "      --threads N        zstd worker threads (the bytes do not depend on N)\n"
    "      --ro-crate         also write ro-crate-metadata.json (RO-Crate 1.1)\n"
    "      --sync             make the archive durable (fsync) before renaming it into place\n"
    "                         (default: not; a Galaxy job's outputs need not be)\n"
    "      --verify           check every entry of ARCHIVE against the manifest inside\n"
    "      --list             print the manifest's summary and the entries of ARCHIVE\n"
    "      --endpoint URL     default $HF_ENDPOINT, else https://huggingface.co\n"
    "      --token-file FILE  else $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, $HF_TOKEN_PATH,\n"
    "                         $HF_HOME/token\n"
    "  -q, --quiet            no messages but errors\n"
    "  -v, --verbose          say every request\n"
    "  -h, --help             this help\n"
    "  -V, --version          the version\n"
    "\n"
    "Every entry is dated SOURCE_DATE_EPOCH when set, else the commit's date.\n"
    "Exit codes: 0 ok, 1 other error, 2 bad usage or input, 3 not found, 4 authentication,\n"
    "5 integrity (a file that differs from the manifest, unsafe paths or links, a damaged\n"
    "archive), 6 network or server failure, 7 local I/O;\n"
    "128+N cancelled by signal N (143 SIGTERM, 130 SIGINT), temporary files removed.\n";

enum {
    OPT_REPO = 1201,
    OPT_PREFIX,
    OPT_LEVEL,
    OPT_THREADS,
    OPT_ROCRATE,
    OPT_VERIFY,
    OPT_LIST,
    OPT_ALLOW_EXTRA,
    OPT_SYNC
};

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* Prints a name from an archive with its control bytes (a tampered archive may hold any)
 * shown as '?', so that every entry stays on one line. */
static void put_name(const char *s) {
    for (; *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void verify_line(void *ctx, const char *path, const char *problem) {
    const hf_cli *cli = ctx;
    if (!problem && cli->verbosity < 1)
        return;
    put_name(path);
    if (problem) {
        fputs(": FAILED (", stdout);
        put_name(problem);
        fputs(")\n", stdout);
    } else {
        fputs(": OK\n", stdout);
    }
}

static const char *type_name(hf_archive_type t) {
    return t == HF_AE_FILE ? "file" : t == HF_AE_DIR ? "dir" : "other";
}

static int print_listing(const hf_bundle_listing *l) {
    const hf_manifest *m = &l->m;
    long long bytes = 0;
    for (size_t i = 0; i < m->files.n; i++)
        bytes += m->files.v[i].size;
    /* two lines of key=value fields, as hf-list's TSV header */
    const char *fields[][2] = {{"# repo_id", m->repo_id},
                               {"repo_type", hf_repo_type_name(m->repo_type)},
                               {"revision", m->revision},
                               {"commit", m->commit},
                               {"commit_date", l->commit_date},
                               {"files", NULL},
                               {"# endpoint", m->endpoint},
                               {"tool", m->tool_name},
                               {"tool_version", m->tool_version},
                               {"fetched_at", m->fetched_at},
                               {"prefix", l->prefix}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        bool first = fields[i][0][0] == '#';
        if (first && i > 0)
            putchar('\n');
        printf("%s%s=", first ? "" : "\t", fields[i][0]);
        if (strcmp(fields[i][0], "files") == 0)
            printf("%zu\tbytes=%lld", m->files.n, bytes);
        else
            put_name(fields[i][1] ? fields[i][1] : "");
    }
    putchar('\n');
    printf("#entry\ttype\tsize\tmode\tsha256\n");
    size_t plen = strlen(l->prefix);
    for (size_t i = 0; i < l->n; i++) {
        const hf_bundle_item *it = &l->items[i];
        const char *rel = plen == 0 ? it->path
                          : strncmp(it->path, l->prefix, plen) == 0 && it->path[plen] == '/'
                              ? it->path + plen + 1
                              : NULL;
        const hf_entry *e = rel && it->type == HF_AE_FILE ? hf_entries_find(&m->files, rel) : NULL;
        put_name(it->path);
        printf("\t%s\t%lld\t%04o\t%s\n", type_name(it->type), it->size < 0 ? 0 : it->size, it->mode,
               e ? e->sha256 : "-");
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* hf-bundle's options, as read. */
typedef struct {
    hf_bundle_opts o;
    const char *output, *format, *manifest, *repo_id;
    bool verify, list, hub_opts, level_set;
} bundle_args;

static int own_option(void *ctx, int opt, const char *arg, hf_error *err) {
    bundle_args *a = ctx;
    if (opt == 't' || opt == 'r' || opt == 'i' || opt == 'x')
        a->hub_opts = true; /* then taken as the common options they are */
    switch (opt) {
    case 'o':
        a->output = arg;
        return 1;
    case 'f':
        a->format = arg;
        return 1;
    case 'm':
        a->manifest = arg;
        return 1;
    case OPT_REPO:
        a->repo_id = arg;
        return 1;
    case OPT_PREFIX:
        a->o.prefix = arg;
        return 1;
    case OPT_LEVEL:
        if (!parse_int(arg, 0, 22, &a->o.level))
            return hf_cli_taken(hf_fail(err, HF_EUSAGE, "invalid --level '%s'", arg));
        a->level_set = true;
        return 1;
    case OPT_THREADS:
        if (!parse_int(arg, 1, 256, &a->o.threads))
            return hf_cli_taken(hf_fail(err, HF_EUSAGE, "invalid --threads '%s' (1 to 256)", arg));
        return 1;
    case OPT_ROCRATE:
        a->o.ro_crate = true;
        return 1;
    case OPT_VERIFY:
        a->verify = true;
        return 1;
    case OPT_LIST:
        a->list = true;
        return 1;
    case OPT_ALLOW_EXTRA:
        a->o.allow_extra = true;
        return 1;
    case OPT_SYNC:
        a->o.sync = true;
        return 1;
    default:
        return 0;
    }
}

int main(int argc, char **argv) {
    hf_cli cli;
    hf_cli_init(&cli, "hf-bundle");
    hf_error err = {0};
    bundle_args a = {.o = {.level = -1, .threads = 1, .mtime = -1}};
    static const struct option longopts[] = {{"output", required_argument, 0, 'o'},
                                             {"format", required_argument, 0, 'f'},
                                             {"manifest", required_argument, 0, 'm'},
                                             {"repo", required_argument, 0, OPT_REPO},
                                             {"prefix", required_argument, 0, OPT_PREFIX},
                                             {"level", required_argument, 0, OPT_LEVEL},
                                             {"threads", required_argument, 0, OPT_THREADS},
                                             {"ro-crate", no_argument, 0, OPT_ROCRATE},
                                             {"verify", no_argument, 0, OPT_VERIFY},
                                             {"list", no_argument, 0, OPT_LIST},
                                             {"allow-extra", no_argument, 0, OPT_ALLOW_EXTRA},
                                             {"sync", no_argument, 0, OPT_SYNC},
                                             HF_CLI_LONGOPTS,
                                             {0, 0, 0, 0}};
    hf_cli_parsed parsed = hf_cli_parse(&cli, argc, argv, "o:f:m:" HF_CLI_SHORTOPTS, longopts,
                                        own_option, &a, usage, &err);
    if (parsed == HF_CLI_DONE)
        return hf_cli_end(&cli, HF_OK, &err);
    if (parsed == HF_CLI_BAD)
        goto fail;
    hf_bundle_opts o = a.o;
    const char *output = a.output, *format = a.format, *manifest = a.manifest, *repo_id = a.repo_id;
    bool verify = a.verify, list = a.list, hub_opts = a.hub_opts, level_set = a.level_set;
    int rest = argc - optind;

    /* --verify / --list ARCHIVE */
    if (verify || list) {
        if (verify && list) {
            hf_fail(&err, HF_EUSAGE, "--verify and --list go alone");
            goto fail;
        }
        if (rest != 1 || output || repo_id || manifest || hub_opts) {
            hf_fail(&err, HF_EUSAGE,
                    "expected --%s ARCHIVE and nothing else (try 'hf-bundle "
                    "--help')",
                    verify ? "verify" : "list");
            goto fail;
        }
        const char *archive = argv[optind];
        hf_code rc;
        if (list) {
            hf_bundle_listing l;
            rc = hf_bundle_list(archive, &l, &err);
            if (rc == HF_OK) {
                if (print_listing(&l) != 0)
                    rc = hf_fail(&err, HF_EIO, "cannot write the listing to standard output");
                hf_bundle_listing_free(&l);
            }
        } else {
            hf_manifest m = {0};
            size_t files = 0;
            rc = hf_bundle_verify(archive, verify_line, &cli, &m, &files, &err);
            if (fflush(stdout) != 0 && rc == HF_OK)
                rc = hf_fail(&err, HF_EIO, "cannot write to standard output");
            if (rc == HF_OK)
                hf_cli_say(&cli, "%s: %zu file%s of %s at commit %s match the manifest", archive,
                           files, files == 1 ? "" : "s", m.repo_id, m.commit);
            hf_manifest_free(&m);
        }
        if (rc != HF_OK)
            goto fail;
        hf_cli_free(&cli);
        return 0;
    }

    /* writing an archive */
    if (!output) {
        hf_fail(&err, HF_EUSAGE, "no archive to write: give -o ARCHIVE (try 'hf-bundle --help')");
        goto fail;
    }
    if (repo_id ? rest != 0 : rest != 1) {
        hf_fail(&err, HF_EUSAGE,
                repo_id ? "--repo takes no SOURCE folder"
                        : "expected one SOURCE folder, or --repo REPO_ID");
        goto fail;
    }
    if (!repo_id && hub_opts) {
        hf_fail(&err, HF_EUSAGE,
                "-t, -r, -i and -x go with --repo; a SOURCE folder is bundled "
                "whole, as its manifest describes it");
        goto fail;
    }
    if (repo_id && (manifest || o.allow_extra)) {
        hf_fail(&err, HF_EUSAGE, "-m and --allow-extra go with a SOURCE folder, not --repo");
        goto fail;
    }
    if (format ? !hf_archive_format_parse(format, &o.format)
               : !hf_archive_format_from_path(output, &o.format)) {
        if (format)
            hf_fail(&err, HF_EUSAGE, "unknown format '%s' (tar, tgz, tar.zst or zip)", format);
        else
            hf_fail(&err, HF_EUSAGE,
                    "cannot tell the format from the name %s: end it with .tar, .tar.gz, .tgz, "
                    ".tar.zst or .zip, or give --format",
                    output);
        goto fail;
    }
    int lo, hi;
    if (level_set && !hf_archive_level_range(o.format, &lo, &hi)) {
        hf_cli_say(&cli, "warning: --level %d ignored: %s is not compressed", o.level,
                   hf_archive_format_name(o.format));
        o.level = -1;
    } else if (level_set && (o.level < lo || o.level > hi)) {
        hf_fail(&err, HF_EUSAGE, "--level %d is out of range for %s (%d to %d)", o.level,
                hf_archive_format_name(o.format), lo, hi);
        goto fail;
    }
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        errno = 0;
        long long t = strtoll(sde, &end, 10);
        if (*end || errno || t < 0) {
            hf_fail(&err, HF_EUSAGE, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", sde);
            goto fail;
        }
        o.mtime = t;
    }
    /* zip stores MS-DOS times in local time: the same bytes everywhere need one time zone */
    setenv("TZ", "UTC", 1);
    tzset();
    o.log = hf_cli_logger(&cli);

    hf_bundle_result res = {0};
    hf_code rc;
    if (repo_id) {
        if (hf_cli_finish(&cli, repo_id, &err) != HF_OK)
            goto fail;
        hf_client *client = NULL;
        rc = hf_cli_client(&cli, &client, &err);
        if (rc == HF_OK)
            rc =
                hf_bundle_hub(client, &cli.repo, cli.revision, &cli.filter, output, &o, &res, &err);
        hf_client_free(client);
    } else {
        rc = hf_bundle_source(argv[optind], manifest, output, &o, &res, &err);
    }
    if (rc != HF_OK)
        goto fail;
    if (!res.date_known)
        hf_cli_say(&cli, "no commit date known (no SOURCE_DATE_EPOCH, none in the manifest): "
                         "entries dated 1970-01-01");
    hf_cli_say(&cli, "wrote %s: %zu file%s, %lld bytes, commit %s, under %s%s", output, res.files,
               res.files == 1 ? "" : "s", res.bytes, res.commit,
               *res.prefix ? res.prefix : "the top", *res.prefix ? "/" : "");
    hf_bundle_result_free(&res);
    hf_cli_free(&cli);
    return 0;

fail:;
    int code = hf_cli_fail(&cli, &err);
    hf_cli_free(&cli);
    return code;
}
