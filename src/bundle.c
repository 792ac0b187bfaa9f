/* hf-bundle's SOURCE mode, --verify and --list, and what the flows share. */
#include "bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle_card.h"
#include "bundle_rocrate.h"
#include "bundle_source.h"
#include "fsutil.h"
#include "hash.h"
#include "hashpipe.h"
#include "pathsafe.h"
#include "store.h"

#define MAX_MANIFEST (256ll << 20)
#define MAX_README (16ll << 20)
#define CHUNK (256u << 10)
#define PIPED (1ll << 20) /* files from this size on are hashed on the pipe's thread */
#define PIPE_SLOTS 8      /* of CHUNK bytes each */

void hf_bundle_result_free(hf_bundle_result *r) {
    free(r->prefix);
    memset(r, 0, sizeof *r);
}

/* ---- shared --------------------------------------------------------------------------- */

hf_code hf_bundle_prefix(const hf_manifest *m, const char *prefix, char **out, hf_error *err) {
    *out = NULL;
    if (prefix) {
        size_t n = strlen(prefix);
        while (n > 0 && prefix[n - 1] == '/')
            n--;
        char *p = strndup(prefix, n);
        const char *why;
        if (!p)
            return hf_fail(err, HF_EOTHER, "out of memory");
        if (n > 0 && !hf_path_is_safe(p, &why)) {
            free(p);
            return hf_fail(err, HF_EUSAGE, "invalid --prefix '%s': %s", prefix, why);
        }
        *out = p;
        return HF_OK;
    }
    const char *slash = strrchr(m->repo_id, '/');
    const char *name = slash ? slash + 1 : m->repo_id;
    size_t n = strlen(name) + 14;
    char *p = malloc(n);
    if (!p)
        return hf_fail(err, HF_EOTHER, "out of memory");
    snprintf(p, n, "%s-%.12s", name, m->commit);
    *out = p;
    return HF_OK;
}

char *hf_bundle_entry_name(const char *prefix, const char *path) {
    return *prefix ? hf_path_join(prefix, path) : strdup(path);
}

bool hf_bundle_parse_time(const char *iso, long long *out) {
    int y, mo, d, h, mi, s, n = 0;
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
        n != 19)
        return false;
    const char *p = iso + n;
    if (*p == '.') {
        p++;
        size_t k = strspn(p, "0123456789");
        if (k == 0)
            return false;
        p += k;
    }
    long off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5 || oh > 23 || om > 59)
            return false;
        off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
        return false;
    *out = (long long)t - off;
    return true;
}

void hf_bundle_format_time(long long t, char out[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", t);
}

hf_code hf_bundle_check_names(const hf_manifest *m, bool ro_crate, hf_error *err) {
    if (hf_entries_find(&m->files, HF_BUNDLE_MANIFEST_NAME))
        return hf_fail(err, HF_EUSAGE,
                       "the repository has a file %s at its top, where a bundle keeps its "
                       "manifest: it cannot be bundled",
                       HF_BUNDLE_MANIFEST_NAME);
    if (ro_crate && hf_entries_find(&m->files, HF_ROCRATE_NAME))
        return hf_fail(err, HF_EUSAGE,
                       "the repository has its own %s: bundle it without --ro-crate",
                       HF_ROCRATE_NAME);
    return HF_OK;
}

json_t *hf_bundle_card(const char *readme, size_t len, const hf_logger *log) {
    json_t *card = NULL;
    hf_error e = {0};
    if (hf_card_parse(readme, len, &card, &e) != HF_OK) {
        hf_log(log, HF_LOG_WARN, "README.md: the model card's front matter is left out: %s", e.msg);
        return NULL;
    }
    if (card && !json_is_object(card)) {
        hf_log(log, HF_LOG_WARN, "README.md: the model card's front matter is not a mapping");
        json_decref(card);
        return NULL;
    }
    return card;
}

hf_code hf_bundle_write_head(hf_archive_writer *w, const char *prefix, const hf_manifest *m,
                             const char *manifest_text, size_t len, bool ro_crate,
                             const json_t *card, long long date, hf_error *err) {
    char *name = hf_bundle_entry_name(prefix, HF_BUNDLE_MANIFEST_NAME);
    if (!name)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = hf_archive_add_bytes(w, name, manifest_text, len, err);
    free(name);
    if (rc != HF_OK || !ro_crate)
        return rc;
    hf_hasher *h = hf_hasher_new((long long)len);
    char sha[65], oid[41];
    if (!h || !hf_hasher_update(h, manifest_text, len) || !hf_hasher_final(h, sha, oid)) {
        hf_hasher_free(h);
        return hf_fail(err, HF_EOTHER, "hashing failed");
    }
    hf_hasher_free(h);
    hf_rocrate_in in = {m, HF_BUNDLE_MANIFEST_NAME, (long long)len, sha, card, date};
    char *text = hf_rocrate_build(&in);
    name = hf_bundle_entry_name(prefix, HF_ROCRATE_NAME);
    if (!text || !name)
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    else
        rc = hf_archive_add_bytes(w, name, text, strlen(text), err);
    free(text);
    free(name);
    return rc;
}

hf_code hf_bundle_settle(const hf_manifest *m, const hf_bundle_opts *o, hf_bundle_result *res,
                         hf_error *err) {
    hf_code rc = hf_bundle_check_names(m, o->ro_crate, err);
    if (rc == HF_OK)
        rc = hf_bundle_prefix(m, o->prefix, &res->prefix, err);
    if (rc != HF_OK)
        return rc;
    memcpy(res->commit, m->commit, 41);
    res->files = m->files.n;
    res->date_known = true;
    if (o->mtime >= 0)
        res->mtime = o->mtime;
    else if (!hf_bundle_parse_time(m->commit_date, &res->mtime)) {
        res->mtime = 0;
        res->date_known = false;
    }
    return HF_OK;
}

/* ---- SOURCE mode ------------------------------------------------------------------------ */

typedef struct {
    hf_archive_writer *w; /* NULL once a file failed: only checking goes on */
    const hf_logger *log;
    size_t problems;
    char first[700];
    unsigned char *buf;
    hf_hashpipe *pipe; /* NULL: every file hashed inline */
} copier;

static void copy_problem(copier *cp, const char *path, const char *what) {
    if (cp->problems++ == 0)
        snprintf(cp->first, sizeof cp->first, "%.200s: %.480s", path, what);
    hf_log(cp->log, HF_LOG_WARN, "%s: %s", path, what);
    if (cp->w) {
        /* from now on only check, to name every changed file; the archive is dropped */
        hf_archive_abort(cp->w);
        cp->w = NULL;
    }
}

/* Streams one checked file into the archive (while cp->w is set), hashing it on the way.
 * Returns an error only for failures other than a mismatch (those are counted in cp). */
static hf_code copy_file(copier *cp, const char *name, const char *real, const hf_entry *e,
                         hf_error *err) {
    char what[400];
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(what, sizeof what, "cannot read it: %s", strerror(errno));
        copy_problem(cp, e->path, what);
        if (fd >= 0)
            close(fd);
        return HF_OK;
    }
    if (!S_ISREG(st.st_mode) || (long long)st.st_size != e->size) {
        snprintf(what, sizeof what, "changed: %lld bytes, the manifest says %lld",
                 (long long)st.st_size, e->size);
        copy_problem(cp, e->path, what);
        close(fd);
        return HF_OK;
    }
    /* LFS files are checked by sha256 alone: their git oid is that of the pointer text */
    hf_hasher *h = e->lfs ? hf_hasher_new_sha256(e->size) : hf_hasher_new(e->size);
    hf_code rc = h ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK && cp->w)
        rc = hf_archive_begin_file(cp->w, name, e->size, err);
    /* a large file is hashed on the pipe's thread from the very bytes read, beside the copy */
    hf_hashpipe *pipe = cp->pipe && e->size >= PIPED ? cp->pipe : NULL;
    if (rc == HF_OK && pipe)
        hf_hashpipe_begin(pipe, h);
    long long left = e->size;
    while (rc == HF_OK && left > 0) {
        unsigned char *buf = pipe ? hf_hashpipe_buffer(pipe) : cp->buf;
        ssize_t n = read(fd, buf, left < (long long)CHUNK ? (size_t)left : CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                rc = hf_fail(err, HF_EIO, "cannot read %s: %s", real, strerror(errno));
            break;
        }
        if (pipe)
            hf_hashpipe_push(pipe, (size_t)n);
        else
            hf_hasher_update(h, buf, (size_t)n);
        left -= n;
        if (cp->w)
            rc = hf_archive_write(cp->w, buf, (size_t)n, err);
    }
    if (h && pipe)
        hf_hashpipe_end(pipe);
    close(fd);
    char sha[65], oid[41];
    if (rc == HF_OK) {
        bool complete = hf_hasher_final(h, sha, oid);
        if (!complete) {
            snprintf(what, sizeof what, "changed while it was read (%lld of %lld bytes)",
                     hf_hasher_seen(h), e->size);
            copy_problem(cp, e->path, what);
        } else if (strcmp(sha, e->sha256) != 0) {
            snprintf(what, sizeof what, "changed: sha256 %s, the manifest says %s", sha, e->sha256);
            copy_problem(cp, e->path, what);
        } else if (!e->lfs && strcmp(oid, e->git_oid) != 0) {
            snprintf(what, sizeof what, "changed: git blob %s, the manifest says %s", oid,
                     e->git_oid);
            copy_problem(cp, e->path, what);
        } else if (cp->w) {
            rc = hf_archive_end_file(cp->w, err);
        }
    }
    hf_hasher_free(h);
    return rc;
}

/* The README.md of the snapshot, checked against the manifest, for its card. */
static json_t *source_card(const hf_manifest *m, const hf_source *src, const hf_logger *log) {
    const hf_entry *e = hf_entries_find(&m->files, "README.md");
    if (!e || e->size > MAX_README)
        return NULL;
    const char *real = src->real[e - m->files.v];
    char *text;
    size_t len;
    char sha[65], oid[41];
    if (hf_read_file(real, (size_t)MAX_README, &text, &len, NULL) != HF_OK)
        return NULL;
    hf_hasher *h = hf_hasher_new((long long)len);
    bool same = h && hf_hasher_update(h, text, len) && hf_hasher_final(h, sha, oid) &&
                strcmp(sha, e->sha256) == 0;
    hf_hasher_free(h);
    json_t *card = same ? hf_bundle_card(text, len, log) : NULL;
    free(text);
    return card;
}

hf_code hf_bundle_source(const char *source, const char *manifest, const char *output,
                         const hf_bundle_opts *o, hf_bundle_result *res, hf_error *err) {
    memset(res, 0, sizeof *res);
    char *found = NULL;
    if (!manifest) {
        const char *why = "";
        found = hf_source_find_manifest(source, &why);
        if (!found)
            return hf_fail(err, HF_EUSAGE,
                           "no manifest in %s (looked for %s and .cache/huggingface/%s: %s): "
                           "give the one hf-fetch wrote with -m FILE",
                           source, HF_BUNDLE_MANIFEST_NAME, HF_BUNDLE_MANIFEST_NAME, why);
        manifest = found;
        hf_log(&o->log, HF_LOG_DEBUG, "manifest: %s", manifest);
    }
    char *text = NULL;
    size_t len = 0;
    hf_manifest m = {0};
    hf_source src = {0};
    json_t *card = NULL;
    copier cp = {.log = &o->log};
    hf_code rc = hf_read_file(manifest, (size_t)MAX_MANIFEST, &text, &len, err);
    if (rc == HF_ENOTFOUND)
        rc = hf_fail(err, HF_EUSAGE, "manifest %s does not exist", manifest);
    if (rc == HF_OK && (rc = hf_manifest_parse(text, len, &m, err)) != HF_OK) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        hf_fail(err, rc, "%.300s: %.700s", manifest, msg);
    }
    if (rc == HF_OK)
        rc = hf_bundle_settle(&m, o, res, err);
    if (rc == HF_OK) /* unpacked, the archive is a folder whose .cache/huggingface is ours */
        rc = hf_store_check_paths(HF_STORE_DIR, output, &m.files, err);
    if (rc == HF_OK)
        rc = hf_source_check(source, &m, o->allow_extra, output, &o->log, &src, err);
    if (rc == HF_OK) {
        res->bytes = src.bytes;
        if (o->ro_crate)
            card = source_card(&m, &src, &o->log);
        hf_archive_opts ao = {o->format, o->level, hf_archive_workers(o->threads, res->bytes),
                              res->mtime, o->sync};
        cp.buf = malloc(CHUNK);
        cp.pipe = hf_hashpipe_new(PIPE_SLOTS, CHUNK); /* NULL: inline, as fast on 1 core */
        rc = cp.buf ? hf_archive_create(output, &ao, &cp.w, err)
                    : hf_fail(err, HF_EOTHER, "out of memory");
    }
    if (rc == HF_OK)
        rc = hf_bundle_write_head(cp.w, res->prefix, &m, text, len, o->ro_crate, card,
                                  res->date_known ? res->mtime : -1, err);
    for (size_t i = 0; rc == HF_OK && i < m.files.n; i++) {
        char *name = hf_bundle_entry_name(res->prefix, m.files.v[i].path);
        rc = name ? copy_file(&cp, name, src.real[i], &m.files.v[i], err)
                  : hf_fail(err, HF_EOTHER, "out of memory");
        free(name);
    }
    if (rc == HF_OK && cp.problems)
        rc = hf_fail(err, HF_EINTEGRITY, "%s does not match the manifest (%zu changed file%s): %s",
                     source, cp.problems, cp.problems == 1 ? "" : "s", cp.first);
    if (rc == HF_OK) {
        hf_archive_writer *w = cp.w;
        cp.w = NULL;
        rc = hf_archive_commit(w, err);
    }
    hf_archive_abort(cp.w);
    hf_hashpipe_free(cp.pipe);
    free(cp.buf);
    json_decref(card);
    hf_source_free(&src);
    hf_manifest_free(&m);
    free(text);
    free(found);
    if (rc != HF_OK)
        hf_bundle_result_free(res);
    return rc;
}

/* ---- reading an archive back -------------------------------------------------------------- */

/* Reads the whole current entry (at most max bytes). */
static hf_code read_entry(hf_archive_reader *r, long long max, char **out, size_t *len,
                          hf_error *err) {
    hf_buf b = {0};
    char buf[1 << 16];
    size_t got;
    hf_code rc;
    while ((rc = hf_archive_read(r, buf, sizeof buf, &got, err)) == HF_OK && got > 0) {
        if ((long long)(b.len + got) > max) {
            rc = hf_fail(err, HF_EINTEGRITY, "the archive's manifest is larger than %lld bytes",
                         max);
            break;
        }
        if (!hf_buf_add(&b, buf, got)) {
            rc = hf_fail(err, HF_EOTHER, "out of memory");
            break;
        }
    }
    if (rc != HF_OK) {
        hf_buf_free(&b);
        return rc;
    }
    *len = b.len;
    *out = b.data ? hf_buf_take(&b) : strdup("");
    return *out ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
}

/* The first entries up to and with the manifest: the manifest parsed, its text and the
 * prefix. Folders before it are skipped. */
static hf_code read_head(hf_archive_reader *r, const char *archive, hf_manifest *m, char **text,
                         size_t *len, char **prefix, hf_error *err) {
    hf_archive_entry e;
    bool end;
    hf_code rc;
    const size_t nl = strlen(HF_BUNDLE_MANIFEST_NAME);
    while ((rc = hf_archive_next(r, &e, &end, err)) == HF_OK) {
        if (end)
            return hf_fail(err, HF_EINTEGRITY, "%s holds no %s: not an hf-bundle archive", archive,
                           HF_BUNDLE_MANIFEST_NAME);
        if (e.type == HF_AE_DIR)
            continue;
        size_t n = strlen(e.path);
        bool named = e.type == HF_AE_FILE && n >= nl &&
                     strcmp(e.path + n - nl, HF_BUNDLE_MANIFEST_NAME) == 0 &&
                     (n == nl || e.path[n - nl - 1] == '/');
        if (!named)
            return hf_fail(err, HF_EINTEGRITY,
                           "%s: the first file is %s, not %s: not an hf-bundle archive", archive,
                           e.path, HF_BUNDLE_MANIFEST_NAME);
        *prefix = strndup(e.path, n == nl ? 0 : n - nl - 1);
        if (!*prefix)
            return hf_fail(err, HF_EOTHER, "out of memory");
        if ((rc = read_entry(r, MAX_MANIFEST, text, len, err)) != HF_OK)
            return rc;
        if ((rc = hf_manifest_parse(*text, *len, m, err)) != HF_OK) {
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            return hf_fail(err, HF_EINTEGRITY, "%.300s: the manifest inside: %.700s", archive, msg);
        }
        return HF_OK;
    }
    return rc;
}

/* The entry's path below prefix, or NULL when it is not below it. */
static const char *below(const char *path, const char *prefix) {
    size_t n = strlen(prefix);
    if (n == 0)
        return path;
    return strncmp(path, prefix, n) == 0 && path[n] == '/' ? path + n + 1 : NULL;
}

/* True when dir (no trailing '/') is a folder of some file of m: a binary search in the
 * sorted file list, so that an archive of many folders is checked in O(n log n). */
static bool is_folder_of(const hf_manifest *m, const char *dir) {
    return hf_entries_has_below(&m->files, dir, strlen(dir));
}

typedef struct {
    hf_verify_fn fn;
    void *ctx;
    size_t problems;
    char first[600];
} report;

static void differ(report *rp, const char *path, const char *what) {
    if (rp->problems++ == 0)
        snprintf(rp->first, sizeof rp->first, "%.250s: %.300s", path, what);
    if (rp->fn)
        rp->fn(rp->ctx, path, what);
}

/* The RO-Crate metadata must be JSON whose File entities agree with the manifest. */
static void check_rocrate(report *rp, const char *path, const char *text, size_t len,
                          const hf_manifest *m) {
    json_t *root = json_loadb(text, len, 0, NULL);
    json_t *graph = json_object_get(root, "@graph");
    char what[400] = "";
    if (!json_is_array(graph)) {
        snprintf(what, sizeof what, "not RO-Crate metadata (no @graph)");
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(graph, i, v) {
            const char *name = json_string_value(json_object_get(v, "name"));
            const char *type = json_string_value(json_object_get(v, "@type"));
            const hf_entry *e = name ? hf_entries_find(&m->files, name) : NULL;
            if (!e || !type || strcmp(type, "File") != 0)
                continue;
            const char *sha = json_string_value(json_object_get(v, "sha256"));
            const char *size = json_string_value(json_object_get(v, "contentSize"));
            char want[24];
            snprintf(want, sizeof want, "%lld", e->size);
            if (!sha || strcmp(sha, e->sha256) != 0 || !size || strcmp(size, want) != 0) {
                snprintf(what, sizeof what, "describes %.200s otherwise than the manifest", name);
                break;
            }
        }
    }
    json_decref(root);
    if (what[0])
        differ(rp, path, what);
    else if (rp->fn)
        rp->fn(rp->ctx, path, NULL);
}

hf_code hf_bundle_verify(const char *archive, hf_verify_fn fn, void *ctx, hf_manifest *out,
                         size_t *files, hf_error *err) {
    hf_archive_reader *r = NULL;
    hf_manifest m = {0};
    char *text = NULL, *prefix = NULL;
    size_t len = 0, checked = 0;
    bool *seen = NULL;
    unsigned char *buf = malloc(CHUNK);
    report rp = {fn, ctx, 0, ""};
    hf_code rc =
        buf ? hf_archive_open_read(archive, &r, err) : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK)
        rc = read_head(r, archive, &m, &text, &len, &prefix, err);
    if (rc == HF_OK && !(seen = calloc(m.files.n + 1, sizeof *seen)))
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    bool crate_seen = false;
    while (rc == HF_OK) {
        hf_archive_entry e;
        bool end;
        if ((rc = hf_archive_next(r, &e, &end, err)) != HF_OK || end)
            break;
        char what[400];
        const char *rel = below(e.path, prefix);
        if (e.type == HF_AE_DIR) {
            char *d = strdup(e.path);
            if (!d) {
                rc = hf_fail(err, HF_EOTHER, "out of memory");
                break;
            }
            size_t n = strlen(d);
            while (n > 0 && d[n - 1] == '/')
                d[--n] = '\0';
            const char *drel = below(d, prefix);
            bool ok = strcmp(d, prefix) == 0 || (drel && is_folder_of(&m, drel));
            free(d);
            if (!ok)
                differ(&rp, e.path, "an extra folder");
            continue;
        }
        if (e.type != HF_AE_FILE) {
            differ(&rp, e.path, "not a regular file (a link or a special file): refused");
            continue;
        }
        const hf_entry *me = rel ? hf_entries_find(&m.files, rel) : NULL;
        if (!me && rel && strcmp(rel, HF_ROCRATE_NAME) == 0 && !crate_seen) {
            crate_seen = true;
            char *crate;
            size_t clen;
            if ((rc = read_entry(r, MAX_MANIFEST, &crate, &clen, err)) != HF_OK)
                break;
            check_rocrate(&rp, e.path, crate, clen, &m);
            free(crate);
            continue;
        }
        if (!me) {
            differ(&rp, e.path, "an extra entry: the manifest does not list it");
            continue;
        }
        size_t i = (size_t)(me - m.files.v);
        if (seen[i]) {
            differ(&rp, e.path, "repeated: a second entry of the same path");
            continue;
        }
        seen[i] = true;
        checked++;
        long long want = e.size >= 0 ? e.size : me->size;
        hf_hasher *h = me->lfs ? hf_hasher_new_sha256(want) : hf_hasher_new(want);
        if (!h) {
            rc = hf_fail(err, HF_EOTHER, "out of memory");
            break;
        }
        size_t got;
        while ((rc = hf_archive_read(r, buf, CHUNK, &got, err)) == HF_OK && got > 0)
            hf_hasher_update(h, buf, got);
        char sha[65], oid[41];
        long long seen_bytes = hf_hasher_seen(h);
        hf_hasher_final(h, sha, oid);
        hf_hasher_free(h);
        if (rc != HF_OK) {
            differ(&rp, e.path, "damaged: its data cannot be read");
            break;
        }
        if (seen_bytes != me->size)
            snprintf(what, sizeof what, "changed: %lld bytes, the manifest says %lld", seen_bytes,
                     me->size);
        else if (strcmp(sha, me->sha256) != 0)
            snprintf(what, sizeof what, "changed: sha256 %s, the manifest says %s", sha,
                     me->sha256);
        else if (!me->lfs && strcmp(oid, me->git_oid) != 0)
            snprintf(what, sizeof what, "changed: git blob %s, the manifest says %s", oid,
                     me->git_oid);
        else
            what[0] = '\0';
        if (what[0])
            differ(&rp, e.path, what);
        else if (fn)
            fn(ctx, e.path, NULL);
    }
    for (size_t i = 0; rc == HF_OK && i < m.files.n; i++) {
        if (seen[i])
            continue;
        char *name = hf_bundle_entry_name(prefix, m.files.v[i].path);
        differ(&rp, name ? name : m.files.v[i].path, "missing");
        free(name);
    }
    if (rc == HF_OK && rp.problems)
        rc = hf_fail(err, HF_EINTEGRITY,
                     "%s differs from its manifest in %zu place%s; the first: "
                     "%s",
                     archive, rp.problems, rp.problems == 1 ? "" : "s", rp.first);
    if (files)
        *files = checked;
    if (out && m.repo_id) {
        *out = m;
        memset(&m, 0, sizeof m);
    }
    hf_manifest_free(&m);
    hf_archive_close_read(r);
    free(seen);
    free(buf);
    free(text);
    free(prefix);
    return rc;
}

void hf_bundle_listing_free(hf_bundle_listing *l) {
    hf_manifest_free(&l->m);
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].path);
    free(l->items);
    free(l->prefix);
    free(l->commit_date);
    memset(l, 0, sizeof *l);
}

static hf_code add_item(hf_bundle_listing *l, const hf_archive_entry *e, hf_error *err) {
    if (l->n == l->cap) { /* doubling: an archive of many entries is listed in O(n) */
        size_t cap = l->cap ? 2 * l->cap : 64;
        hf_bundle_item *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return hf_fail(err, HF_EOTHER, "out of memory");
        l->items = grown;
        l->cap = cap;
    }
    hf_bundle_item *it = &l->items[l->n];
    it->path = strdup(e->path);
    if (!it->path)
        return hf_fail(err, HF_EOTHER, "out of memory");
    it->type = e->type;
    it->size = e->size;
    it->mtime = e->mtime;
    it->mode = e->mode;
    l->n++;
    return HF_OK;
}

hf_code hf_bundle_list(const char *archive, hf_bundle_listing *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    hf_archive_reader *r = NULL;
    hf_code rc = hf_archive_open_read(archive, &r, err);
    /* read_head skips the folders before the manifest: list them from a second pass */
    char *text = NULL;
    size_t len = 0;
    if (rc == HF_OK)
        rc = read_head(r, archive, &out->m, &text, &len, &out->prefix, err);
    if (rc == HF_OK) {
        json_t *root = json_loadb(text, len, 0, NULL);
        const char *d = json_string_value(json_object_get(root, "commit_date"));
        if (d && !(out->commit_date = strdup(d)))
            rc = hf_fail(err, HF_EOTHER, "out of memory");
        json_decref(root);
    }
    free(text);
    hf_archive_close_read(r);
    r = NULL;
    if (rc == HF_OK)
        rc = hf_archive_open_read(archive, &r, err);
    while (rc == HF_OK) {
        hf_archive_entry e;
        bool end;
        if ((rc = hf_archive_next(r, &e, &end, err)) != HF_OK || end)
            break;
        rc = add_item(out, &e, err);
    }
    hf_archive_close_read(r);
    if (rc != HF_OK)
        hf_bundle_listing_free(out);
    return rc;
}
