/* The two layouts, and moving verified downloads into them. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cancel.h"
#include "fsutil.h"
#include "hash.h"

static char *joinf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *joinf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static bool env_true(const char *name) {
    const char *v = getenv(name);
    if (!v)
        return false;
    return !strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
           !strcasecmp(v, "true");
}

char *hf_store_default_cache(void) {
    const char *v;
    if ((v = getenv("HF_HUB_CACHE")) && *v)
        return strdup(v);
    if ((v = getenv("HUGGINGFACE_HUB_CACHE")) && *v)
        return strdup(v);
    if ((v = getenv("HF_HOME")) && *v)
        return joinf("%s/hub", v);
    if ((v = getenv("XDG_CACHE_HOME")) && *v)
        return joinf("%s/huggingface/hub", v);
    if ((v = getenv("HOME")) && *v)
        return joinf("%s/.cache/huggingface/hub", v);
    return strdup(".cache/huggingface/hub");
}

hf_code hf_store_open(hf_store *s, hf_store_kind kind, const char *dir, const hf_repo *repo,
                      const char *commit, hf_error *err) {
    memset(s, 0, sizeof *s);
    s->kind = kind;
    memcpy(s->commit, commit, 41);
    if (kind == HF_STORE_DIR) {
        s->root = strdup(dir);
        s->files = strdup(dir);
        s->lockdir = joinf("%s/.cache/huggingface/download", dir);
    } else {
        char *name = hf_repo_cache_name(repo);
        s->root = name ? joinf("%s/%s", dir, name) : NULL;
        s->lockdir = name ? joinf("%s/.locks/%s", dir, name) : NULL;
        s->files = s->root ? joinf("%s/snapshots/%s", s->root, commit) : NULL;
        s->symlinks = !env_true("HF_HUB_DISABLE_SYMLINKS");
        free(name);
    }
    if (!s->root || !s->files || !s->lockdir) {
        hf_store_close(s);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    return HF_OK;
}

void hf_store_close(hf_store *s) {
    free(s->root);
    free(s->files);
    free(s->lockdir);
    memset(s, 0, sizeof *s);
}

const char *hf_store_etag(const hf_entry *e) {
    return e->lfs ? e->sha256 : e->git_oid;
}

char *hf_store_final_path(const hf_store *s, const hf_entry *e) {
    return joinf("%s/%s", s->files, e->path);
}

char *hf_store_incomplete_path(const hf_store *s, const hf_entry *e) {
    if (s->kind == HF_STORE_CACHE)
        return joinf("%s/blobs/%s.incomplete", s->root, hf_store_etag(e));
    return joinf("%s/%s.%s.incomplete", s->lockdir, e->path, hf_store_etag(e));
}

char *hf_store_lock_path(const hf_store *s, const hf_entry *e) {
    if (s->kind == HF_STORE_CACHE)
        return joinf("%s/%s.lock", s->lockdir, hf_store_etag(e));
    return joinf("%s/%s.lock", s->lockdir, e->path);
}

static char *blob_path(const hf_store *s, const hf_entry *e) {
    return joinf("%s/blobs/%s", s->root, hf_store_etag(e));
}

/* Hashes path and compares with e: size, sha256 (when known), git oid (regular files). */
static bool content_matches(const char *path, const hf_entry *e, char sha256[65]) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != e->size)
        return false;
    char sha1[41];
    long long seen;
    if (!hf_hash_file(path, e->size, sha256, e->lfs ? NULL : sha1, &seen))
        return false;
    if (e->sha256[0] && strcmp(sha256, e->sha256) != 0)
        return false;
    return e->lfs || strcmp(sha1, e->git_oid) == 0;
}

/* snapshots/<commit>/<path> -> ../../blobs/<etag>, one more ../ per folder in path. */
static char *link_target(const hf_entry *e) {
    hf_buf b = {0};
    hf_buf_adds(&b, "../../");
    for (const char *p = e->path; *p; p++)
        if (*p == '/')
            hf_buf_adds(&b, "../");
    hf_buf_addf(&b, "blobs/%s", hf_store_etag(e));
    return hf_buf_take(&b);
}

static hf_code copy_file(const char *from, const char *to, hf_error *err) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return hf_fail(err, HF_EIO, "cannot read %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return hf_fail(err, HF_EIO, "cannot write %s: %s", to, strerror(errno));
    }
    static char buf[1 << 16];
    ssize_t n;
    hf_code rc = HF_OK;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = hf_fail(err, HF_EIO, "cannot write %s: %s", to, strerror(errno));
            break;
        }
    if (n < 0)
        rc = hf_fail(err, HF_EIO, "cannot read %s: %s", from, strerror(errno));
    close(in);
    if (close(out) != 0 && rc == HF_OK)
        rc = hf_fail(err, HF_EIO, "cannot write %s: %s", to, strerror(errno));
    return rc;
}

/* Puts the snapshot entry in place: a relative symlink to the blob, or a copy of it. Made
 * under a temporary name and renamed, so a reader never sees a half-made entry. */
static hf_code link_snapshot(const hf_store *s, const hf_entry *e, hf_error *err) {
    char *final = hf_store_final_path(s, e);
    char *target = link_target(e);
    char *tmp = final ? joinf("%s.tmp-%ld", final, (long)getpid()) : NULL;
    char *blob = blob_path(s, e);
    hf_code rc = (final && target && tmp && blob) ? hf_mkparent(final, err)
                                                  : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK && s->symlinks && symlink(target, final) == 0) {
        /* the usual case, a new entry: made in one step, atomic by itself */
    } else if (rc == HF_OK) {
        unlink(tmp);
        int ticket = hf_cancel_track(tmp);
        bool linked = s->symlinks && symlink(target, tmp) == 0;
        if (!linked && s->symlinks && errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
            rc = hf_fail(err, HF_EIO, "cannot create %s: %s", final, strerror(errno));
        else if (!linked)
            rc = copy_file(blob, tmp, err);
        if (rc == HF_OK && rename(tmp, final) != 0)
            rc = hf_fail(err, HF_EIO, "cannot create %s: %s", final, strerror(errno));
        if (rc != HF_OK)
            unlink(tmp);
        hf_cancel_untrack(ticket);
    }
    free(final);
    free(target);
    free(tmp);
    free(blob);
    return rc;
}

/* DIR/.cache/huggingface/download/<path>.metadata: commit, etag, time (as hf download, which
 * also keeps a .gitignore of "*" there so the metadata never lands in a git repository). */
static hf_code write_metadata(const hf_store *s, const hf_entry *e, hf_error *err) {
    char *ignore = joinf("%s/.cache/huggingface/.gitignore", s->root);
    if (ignore && access(ignore, F_OK) != 0 && hf_mkparent(ignore, NULL) == HF_OK)
        hf_write_replace(ignore, "*\n", 2, NULL);
    free(ignore);
    char *path = joinf("%s/%s.metadata", s->lockdir, e->path);
    char *text = joinf("%s\n%s\n%.6f\n", s->commit, hf_store_etag(e), (double)time(NULL));
    hf_code rc = (path && text) ? hf_mkparent(path, err) : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK)
        rc = hf_write_replace(path, text, strlen(text), err);
    free(path);
    free(text);
    return rc;
}

hf_code hf_store_check(const hf_store *s, const hf_entry *e, bool *present, char sha256[65],
                       hf_error *err) {
    *present = false;
    if (s->kind == HF_STORE_DIR) {
        char *final = hf_store_final_path(s, e);
        if (!final)
            return hf_fail(err, HF_EOTHER, "out of memory");
        *present = content_matches(final, e, sha256);
        free(final);
        return *present ? write_metadata(s, e, err) : HF_OK;
    }
    char *blob = blob_path(s, e);
    if (!blob)
        return hf_fail(err, HF_EOTHER, "out of memory");
    *present = content_matches(blob, e, sha256);
    free(blob);
    return *present ? link_snapshot(s, e, err) : HF_OK;
}

hf_code hf_store_commit(const hf_store *s, const hf_entry *e, const char *incomplete,
                        hf_error *err) {
    char *dest = s->kind == HF_STORE_CACHE ? blob_path(s, e) : hf_store_final_path(s, e);
    hf_code rc = dest ? hf_mkparent(dest, err) : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK && rename(incomplete, dest) != 0)
        rc = hf_fail(err, HF_EIO, "cannot move %s into place: %s", dest, strerror(errno));
    free(dest);
    if (rc != HF_OK)
        return rc;
    return s->kind == HF_STORE_CACHE ? link_snapshot(s, e, err) : write_metadata(s, e, err);
}

void hf_store_sync(const hf_store *s) {
    int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)syncfs(fd);
        close(fd);
    }
}

hf_code hf_store_write_ref(const hf_store *s, const char *revision, hf_error *err) {
    if (s->kind != HF_STORE_CACHE || strcmp(revision, s->commit) == 0)
        return HF_OK;
    char *path = joinf("%s/refs/%s", s->root, revision);
    hf_code rc = path ? hf_mkparent(path, err) : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK)
        rc = hf_write_replace(path, s->commit, 40, err);
    free(path);
    return rc;
}

hf_code hf_store_read_ref(const char *cache_dir, const hf_repo *repo, const char *revision,
                          char commit[41], hf_error *err) {
    if (hf_is_commit(revision)) {
        memcpy(commit, revision, 41);
        return HF_OK;
    }
    char *name = hf_repo_cache_name(repo);
    char *path = name ? joinf("%s/%s/refs/%s", cache_dir, name, revision) : NULL;
    free(name);
    if (!path)
        return hf_fail(err, HF_EOTHER, "out of memory");
    char *data = NULL;
    size_t len = 0;
    hf_code rc = hf_read_file(path, 4096, &data, &len, NULL);
    while (rc == HF_OK && len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    if (rc != HF_OK || !hf_is_commit(data))
        rc = hf_fail(err, HF_ENOTFOUND,
                     "revision '%s' of %s is not in the cache at %s (offline: nothing is fetched)",
                     revision, repo->id, cache_dir);
    else
        memcpy(commit, data, 41);
    free(data);
    free(path);
    return rc;
}
