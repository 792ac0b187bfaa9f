/* Checking a SOURCE folder against its manifest before bundling it. */
#include "bundle_source.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "repo.h"

#define MAX_DEPTH 256

/* Whether source is a cache snapshot, .../snapshots/<commit>: every file there is the
 * repository's, so none of them can be taken for the manifest hf-fetch wrote. */
static bool is_snapshot(const char *source) {
    size_t n = strlen(source);
    while (n > 1 && source[n - 1] == '/')
        n--;
    if (n < 50 || source[n - 41] != '/')
        return false;
    char commit[41];
    memcpy(commit, source + n - 40, 40);
    commit[40] = '\0';
    return hf_is_commit(commit) && !strncmp(source + n - 50, "snapshots/", 10) &&
           (n == 50 || source[n - 51] == '/');
}

char *hf_source_find_manifest(const char *source, const char **why) {
    static const char *const where[] = {HF_BUNDLE_MANIFEST_NAME,
                                        ".cache/huggingface/" HF_BUNDLE_MANIFEST_NAME};
    *why = "found neither";
    if (is_snapshot(source)) {
        *why = "a cache snapshot holds the repository's files alone";
        return NULL;
    }
    char *found = NULL;
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        char *p = hf_path_join(source, where[i]);
        struct stat st;
        if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode) && found) {
            /* one is a file of the repository: which one cannot be told */
            *why = "found both";
            free(p);
            free(found);
            return NULL;
        }
        if (p && lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            found = p;
        else
            free(p);
    }
    return found;
}

void hf_source_free(hf_source *s) {
    for (size_t i = 0; s->real && i < s->n; i++)
        free(s->real[i]);
    free(s->real);
    free(s->root);
    free(s->boundary);
    memset(s, 0, sizeof *s);
}

typedef struct {
    const hf_manifest *m;
    hf_source *s;
    bool allow_extra;
    const hf_logger *log;
    bool *seen;
    size_t problems;
    char first[700];
    bool have_ignore;
    dev_t idev;
    ino_t iino;
    hf_code fatal;
    hf_error *err;
} walk_ctx;

static void problem(walk_ctx *w, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(walk_ctx *w, const char *path, const char *fmt, ...) {
    char what[500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (w->problems++ == 0)
        snprintf(w->first, sizeof w->first, "%.190s: %s", path, what);
    hf_log(w->log, HF_LOG_WARN, "%s: %s", path, what);
}

static bool inside(const char *path, const char *dir) {
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static void check_file(walk_ctx *w, const char *rel, const char *full, const struct stat *st) {
    const hf_entry *e = hf_entries_find(&w->m->files, rel);
    if (!e) {
        if (w->allow_extra)
            hf_log(w->log, HF_LOG_INFO, "leaving out %s: the manifest does not list it", rel);
        else
            problem(w, rel,
                    "not in the manifest (an extra file; --allow-extra leaves such files "
                    "out)");
        return;
    }
    size_t i = (size_t)(e - w->m->files.v);
    w->seen[i] = true;
    struct stat ts = *st;
    char *real = NULL;
    if (S_ISLNK(st->st_mode)) {
        real = realpath(full, NULL);
        if (!real) {
            problem(w, rel, "a symlink that leads nowhere (%s)", strerror(errno));
            return;
        }
        if (!inside(real, w->s->boundary)) {
            problem(w, rel, "a symlink to %s, outside %s: refused", real, w->s->boundary);
            free(real);
            return;
        }
        if (stat(real, &ts) != 0) {
            problem(w, rel, "cannot read it: %s", strerror(errno));
            free(real);
            return;
        }
    } else {
        real = strdup(full);
        if (!real) {
            w->fatal = hf_fail(w->err, HF_EOTHER, "out of memory");
            return;
        }
    }
    if (!S_ISREG(ts.st_mode))
        problem(w, rel, "not a regular file");
    else if ((long long)ts.st_size != e->size)
        problem(w, rel, "changed: %lld bytes, the manifest says %lld", (long long)ts.st_size,
                e->size);
    else {
        w->s->real[i] = real;
        return;
    }
    free(real);
}

static void walk(walk_ctx *w, const char *rel, int depth) {
    char *dir = rel[0] ? hf_path_join(w->s->root, rel) : strdup(w->s->root);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        if (!dir)
            w->fatal = hf_fail(w->err, HF_EOTHER, "out of memory");
        else
            w->fatal = hf_fail(w->err, HF_EIO, "cannot read folder %s: %s", dir, strerror(errno));
        free(dir);
        return;
    }
    struct dirent *de;
    while (w->fatal == HF_OK && (errno = 0, de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (!rel[0] && strcmp(name, HF_BUNDLE_MANIFEST_NAME) == 0)
            continue;
        char *r = rel[0] ? hf_path_join(rel, name) : strdup(name);
        char *full = r ? hf_path_join(w->s->root, r) : NULL;
        struct stat st;
        if (!full) {
            w->fatal = hf_fail(w->err, HF_EOTHER, "out of memory");
        } else if (strcmp(r, ".cache/huggingface") == 0) {
            ; /* hf-fetch's and huggingface_hub's metadata of a --local-dir */
        } else if (lstat(full, &st) != 0) {
            w->fatal = hf_fail(w->err, HF_EIO, "cannot read %s: %s", full, strerror(errno));
        } else if (w->have_ignore && st.st_dev == w->idev && st.st_ino == w->iino) {
            ;
        } else if (S_ISDIR(st.st_mode)) {
            if (depth >= MAX_DEPTH)
                problem(w, r, "folders nested more than %d deep", MAX_DEPTH);
            else
                walk(w, r, depth + 1);
        } else {
            check_file(w, r, full, &st);
        }
        free(full);
        free(r);
    }
    if (w->fatal == HF_OK && errno != 0)
        w->fatal = hf_fail(w->err, HF_EIO, "cannot read folder %s: %s", dir, strerror(errno));
    closedir(d);
    free(dir);
}

/* The last path segment of p (p itself when it has no '/'). */
static const char *base_of(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static char *parent_of(const char *p) {
    const char *s = strrchr(p, '/');
    if (!s)
        return strdup(".");
    return strndup(p, s == p ? 1 : (size_t)(s - p));
}

/* When root is REPO_CACHE/snapshots/COMMIT, the boundary is REPO_CACHE, which must be the
 * manifest's repository, and COMMIT the manifest's commit. */
static hf_code find_boundary(hf_source *s, const hf_manifest *m, hf_error *err) {
    char *snapshots = parent_of(s->root);
    char *repo_dir = snapshots ? parent_of(snapshots) : NULL;
    hf_code rc = HF_OK;
    if (!snapshots || !repo_dir) {
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    } else if (strcmp(base_of(snapshots), "snapshots") == 0 && hf_is_hex(base_of(s->root), 40) &&
               (strncmp(base_of(repo_dir), "models--", 8) == 0 ||
                strncmp(base_of(repo_dir), "datasets--", 10) == 0 ||
                strncmp(base_of(repo_dir), "spaces--", 8) == 0)) {
        hf_repo repo = {m->repo_type, m->repo_id};
        char *want = hf_repo_cache_name(&repo);
        if (!want)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
        else if (strcmp(want, base_of(repo_dir)) != 0)
            rc = hf_fail(err, HF_EINTEGRITY,
                         "%s is a snapshot of the cache folder %s, not of %s (%s) as the manifest "
                         "says",
                         s->root, base_of(repo_dir), m->repo_id, want);
        else if (strcmp(base_of(s->root), m->commit) != 0)
            rc = hf_fail(err, HF_EINTEGRITY,
                         "%s is the snapshot of commit %s; the manifest is of commit %s", s->root,
                         base_of(s->root), m->commit);
        free(want);
        if (rc == HF_OK) {
            s->boundary = repo_dir;
            repo_dir = NULL;
        }
    } else {
        s->boundary = strdup(s->root);
        if (!s->boundary)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    free(snapshots);
    free(repo_dir);
    return rc;
}

hf_code hf_source_check(const char *source, const hf_manifest *m, bool allow_extra,
                        const char *ignore, const hf_logger *log, hf_source *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(source, &st) != 0)
        return hf_fail(err, HF_EUSAGE, "cannot read SOURCE %s: %s", source, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return hf_fail(err, HF_EUSAGE, "SOURCE %s is not a folder", source);
    out->root = realpath(source, NULL);
    if (!out->root)
        return hf_fail(err, HF_EIO, "cannot resolve %s: %s", source, strerror(errno));
    hf_code rc = find_boundary(out, m, err);
    out->n = m->files.n;
    out->real = calloc(out->n ? out->n : 1, sizeof *out->real);
    bool *seen = calloc(out->n ? out->n : 1, sizeof *seen);
    if (rc == HF_OK && (!out->real || !seen))
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    if (rc != HF_OK) {
        free(seen);
        hf_source_free(out);
        return rc;
    }
    walk_ctx w = {
        .m = m, .s = out, .allow_extra = allow_extra, .log = log, .seen = seen, .err = err};
    struct stat ist;
    if (ignore && stat(ignore, &ist) == 0) {
        w.have_ignore = true;
        w.idev = ist.st_dev;
        w.iino = ist.st_ino;
    }
    walk(&w, "", 0);
    for (size_t i = 0; w.fatal == HF_OK && i < m->files.n; i++) {
        if (!seen[i])
            problem(&w, m->files.v[i].path, "missing");
        out->bytes += m->files.v[i].size;
    }
    free(seen);
    rc = w.fatal;
    if (rc == HF_OK && w.problems)
        rc = hf_fail(err, HF_EINTEGRITY, "%s does not match the manifest (%zu problem%s): %s",
                     source, w.problems, w.problems == 1 ? "" : "s", w.first);
    if (rc != HF_OK)
        hf_source_free(out);
    return rc;
}
