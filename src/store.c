/* The two layouts, and moving verified downloads into them. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
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

bool hf_sync_parse(const char *text, hf_sync_mode *mode) {
    static const char *const names[] = {"auto", "always", "never"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(text, names[i])) {
            *mode = (hf_sync_mode)i;
            return true;
        }
    return false;
}

/* Whether a published file's bytes are made durable before it gets its final name. */
static bool durable_publish(const hf_store *s) {
    return s->kind == HF_STORE_CACHE && s->sync != HF_SYNC_NEVER;
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
                      const char *commit, bool create, hf_error *err) {
    memset(s, 0, sizeof *s);
    s->root.fd = -1;
    s->kind = kind;
    memcpy(s->commit, commit, 41);
    if (kind == HF_STORE_DIR) {
        s->repo = strdup("");
        s->files_rel = strdup("");
        s->files = strdup(dir);
    } else {
        s->repo = hf_repo_cache_name(repo);
        s->files_rel = s->repo ? joinf("%s/snapshots/%s", s->repo, commit) : NULL;
        s->files = s->files_rel ? hf_path_join(dir, s->files_rel) : NULL;
        s->symlinks = !env_true("HF_HUB_DISABLE_SYMLINKS");
    }
    if (!s->repo || !s->files_rel || !s->files) {
        hf_store_close(s);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    hf_error quiet = {0};
    hf_code rc = hf_root_open(&s->root, dir, create, create ? err : &quiet);
    if (rc == HF_ENOTFOUND && !create)
        rc = HF_OK; /* nothing there yet: every lookup below it finds nothing */
    if (rc != HF_OK)
        hf_store_close(s);
    return rc;
}

void hf_store_close(hf_store *s) {
    hf_root_close(&s->root);
    free(s->repo);
    free(s->files_rel);
    free(s->files);
    memset(s, 0, sizeof *s);
    s->root.fd = -1;
}

const char *hf_store_etag(const hf_entry *e) {
    return e->lfs ? e->sha256 : e->git_oid;
}

/* huggingface_hub's _short_hash: base64.urlsafe_b64encode(sha1(name)), 28 characters. */
static void short_hash(const char *name, size_t len, char out[29]) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    EVP_Digest(name, len, d, &dn, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, d, (int)dn);
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* dir/<base><suffix>, where base is path's last component; when that name would exceed
 * NAME_MAX, dir/<short hash of base><suffix> (hf download's own name then could not exist). */
static char *fitted(const char *dir, const char *path, const char *suffix) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int parent = slash ? (int)(slash - path) : 0;
    if (strlen(base) + strlen(suffix) <= NAME_MAX)
        return joinf("%s/%s%s", dir, path, suffix);
    char h[29];
    short_hash(base, strlen(base), h);
    return joinf("%s/%.*s%s%s%s", dir, parent, path, slash ? "/" : "", h, suffix);
}

#define LOCAL_META ".cache/huggingface/download"

char *hf_store_final_rel(const hf_store *s, const hf_entry *e) {
    return *s->files_rel ? joinf("%s/%s", s->files_rel, e->path) : strdup(e->path);
}

char *hf_store_metadata_rel(const hf_store *s, const char *path) {
    (void)s;
    return fitted(LOCAL_META, path, ".metadata");
}

char *hf_store_incomplete_rel(const hf_store *s, const hf_entry *e) {
    if (s->kind == HF_STORE_CACHE)
        return joinf("%s/blobs/%s.incomplete", s->repo, hf_store_etag(e));
    /* hf download's name: the short hash of the metadata file's name (as it would be, even
     * when too long to exist), beside it */
    const char *slash = strrchr(e->path, '/');
    const char *base = slash ? slash + 1 : e->path;
    char *meta = joinf("%s.metadata", base);
    if (!meta)
        return NULL;
    char h[29];
    short_hash(meta, strlen(meta), h);
    free(meta);
    return joinf(LOCAL_META "/%.*s%s%s.%s.incomplete", slash ? (int)(slash - e->path) : 0, e->path,
                 slash ? "/" : "", h, hf_store_etag(e));
}

char *hf_store_lock_rel(const hf_store *s, const hf_entry *e) {
    if (s->kind == HF_STORE_CACHE)
        return joinf(".locks/%s/%s.lock", s->repo, hf_store_etag(e));
    return fitted(LOCAL_META, e->path, ".lock");
}

static char *blob_rel(const hf_store *s, const hf_entry *e) {
    return joinf("%s/blobs/%s", s->repo, hf_store_etag(e));
}

static char *shown(const hf_store *s, char *rel) {
    char *out = rel ? hf_root_show(&s->root, rel) : NULL;
    free(rel);
    return out;
}

char *hf_store_final_path(const hf_store *s, const hf_entry *e) {
    return shown(s, hf_store_final_rel(s, e));
}

char *hf_store_incomplete_path(const hf_store *s, const hf_entry *e) {
    return shown(s, hf_store_incomplete_rel(s, e));
}

hf_code hf_store_check_paths(hf_store_kind kind, const char *dir, const hf_entries *files,
                             hf_error *err) {
    if (kind != HF_STORE_DIR)
        return HF_OK; /* in a cache they are files of a snapshot like any other */
    for (size_t i = 0; i < files->n; i++) {
        const char *p = files->v[i].path;
        if (!strcmp(p, ".cache") || !strcmp(p, ".cache/huggingface") ||
            !strncmp(p, ".cache/huggingface/", 19))
            return hf_fail(err, HF_EINTEGRITY,
                           "the repository file '%s' is at the place of the tools' own metadata "
                           "(.cache/huggingface/ of %s): refused, nothing was written",
                           p, dir);
    }
    return HF_OK;
}

hf_code hf_store_lock(const hf_store *s, const hf_entry *e, hf_lock *lock, bool *taken,
                      hf_error *err) {
    char *rel = hf_store_lock_rel(s, e);
    hf_code rc = rel ? hf_lock_try(lock, &s->root, rel, taken, err)
                     : hf_fail(err, HF_EOTHER, "out of memory");
    free(rel);
    return rc;
}

hf_code hf_store_open_incomplete(const hf_store *s, const hf_entry *e, int *fd, hf_error *err) {
    char *rel = hf_store_incomplete_rel(s, e);
    if (!rel)
        return hf_fail(err, HF_EOTHER, "out of memory");
    /* never through a link (or anything but a regular file) someone left there in a shared
     * cache: it is removed and the download starts afresh */
    hf_code rc = hf_beneath_open(&s->root, rel, O_RDWR | O_CREAT | O_NONBLOCK, 0644, fd, err);
    struct stat st;
    if (rc == HF_OK && ((*fd < 0 && errno == ELOOP) ||
                        (*fd >= 0 && fstat(*fd, &st) == 0 && !S_ISREG(st.st_mode)))) {
        if (*fd >= 0)
            close(*fd);
        hf_beneath_unlink(&s->root, rel);
        rc = hf_beneath_open(&s->root, rel, O_RDWR | O_CREAT | O_EXCL, 0644, fd, err);
    }
    if (rc == HF_OK && *fd >= 0)
        fcntl(*fd, F_SETFL, 0);
    if (rc == HF_OK && *fd < 0) {
        int e2 = errno;
        char *path = hf_root_show(&s->root, rel);
        rc = hf_fail(err, HF_EIO, "cannot write %s: %s", path ? path : rel, strerror(e2));
        free(path);
    }
    free(rel);
    return rc;
}

void hf_store_discard_incomplete(const hf_store *s, const hf_entry *e) {
    char *rel = hf_store_incomplete_rel(s, e);
    if (rel)
        hf_beneath_unlink(&s->root, rel);
    free(rel);
}

/* Hashes the regular file at rel (never through a link) and compares with e: size, sha256
 * (when known), git oid (regular files). */
static bool content_matches(const hf_store *s, const char *rel, const hf_entry *e, char sha256[65],
                            hf_error *err, hf_code *rc) {
    int fd;
    *rc = hf_beneath_open(&s->root, rel, O_RDONLY | O_NONBLOCK, 0, &fd, err);
    if (*rc != HF_OK || fd < 0)
        return false;
    struct stat st;
    char sha1[41];
    long long seen;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == e->size &&
              hf_hash_fd(fd, e->size, sha256, e->lfs ? NULL : sha1, &seen);
    close(fd);
    if (!ok || (e->sha256[0] && strcmp(sha256, e->sha256) != 0))
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

/* Puts the snapshot entry in place: a relative symlink to the blob, or a copy of it where
 * links cannot be made (or are not wanted). A new entry is made in one step; one that is
 * there already is replaced through a temporary name and a rename (whatever it was, a link
 * planted there included), so a reader never sees a half-made entry. */
static hf_code link_snapshot(const hf_store *s, const hf_entry *e, hf_error *err) {
    char *final = hf_store_final_rel(s, e);
    char *target = link_target(e);
    char *blob = blob_rel(s, e);
    hf_code rc = final && target && blob ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    bool copy = !s->symlinks;
    if (rc == HF_OK && s->symlinks && hf_beneath_put_link(&s->root, target, final) != 0) {
        int dirfd = -1;
        const char *name;
        if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP)
            copy = true;         /* a file system without links */
        else if (errno == ELOOP) /* a link planted on the way: found again, to name it */
            rc = hf_beneath_parent(&s->root, final, true, &dirfd, &name, err);
        else
            rc =
                hf_fail(err, HF_EIO, "cannot create %s/%s: %s", s->files, e->path, strerror(errno));
        if (dirfd >= 0)
            close(dirfd);
    }
    if (rc == HF_OK && copy) {
        int in = -1;
        rc = hf_beneath_open(&s->root, blob, O_RDONLY, 0, &in, err);
        if (rc == HF_OK && in < 0)
            rc = hf_fail(err, HF_EIO, "cannot read the blob of %s: %s", e->path, strerror(errno));
        if (rc == HF_OK)
            rc = hf_beneath_put_copy(&s->root, final, in, err);
        if (in >= 0)
            close(in);
    }
    free(final);
    free(target);
    free(blob);
    return rc;
}

void hf_store_float_text(double x, char out[40]) {
    /* the fewest significant digits that read back as x, as Python's repr does */
    char sci[40];
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(sci, sizeof sci, "%.*e", p - 1, x);
        if (strtod(sci, NULL) == x)
            break;
    }
    char digits[24];
    int n = 0, exp10 = 0;
    for (const char *c = sci; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9' && n < 23)
            digits[n++] = *c;
    digits[n] = '\0';
    const char *e = strchr(sci, 'e');
    exp10 = e ? atoi(e + 1) : 0;
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    const char *sign = sci[0] == '-' ? "-" : "";
    if (exp10 < -4 || exp10 >= 16) { /* Python switches to exponent notation there */
        if (n > 1)
            snprintf(out, 40, "%s%c.%se%c%02d", sign, digits[0], digits + 1, exp10 < 0 ? '-' : '+',
                     abs(exp10));
        else
            snprintf(out, 40, "%s%ce%c%02d", sign, digits[0], exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 >= n - 1) {
        snprintf(out, 40, "%s%s%0*d.0", sign, digits, exp10 - (n - 1), 0);
        if (exp10 == n - 1)
            snprintf(out, 40, "%s%s.0", sign, digits);
    } else if (exp10 >= 0) {
        snprintf(out, 40, "%s%.*s.%s", sign, exp10 + 1, digits, digits + exp10 + 1);
    } else {
        snprintf(out, 40, "%s0.%0*d%s", sign, -exp10 - 1, 0, digits);
        if (exp10 == -1)
            snprintf(out, 40, "%s0.%s", sign, digits);
    }
}

/* Now as Python's time.time() gives it: nanoseconds since the epoch over 1e9, as a double. */
static double python_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_nsec == 0)
        return (double)ts.tv_sec;
    return (double)((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec) / 1e9;
}

/* DIR/.cache/huggingface/download/<path>.metadata: commit, etag, time (as hf download, which
 * also keeps a .gitignore of "*" there so the metadata never lands in a git repository). */
static hf_code write_metadata(const hf_store *s, const hf_entry *e, hf_error *err) {
    struct stat st;
    if (hf_beneath_lstat(&s->root, ".cache/huggingface/.gitignore", &st, NULL) != HF_OK)
        hf_beneath_write(&s->root, ".cache/huggingface/.gitignore", "*\n", 2, false, NULL);
    char *rel = hf_store_metadata_rel(s, e->path);
    /* the time after the file is in place, in hf download's form (f"{time.time()}"): it
     * takes metadata older than the file's mtime - 1 as stale */
    char stamp[40];
    hf_store_float_text(python_time(), stamp);
    char *text = joinf("%s\n%s\n%s\n", s->commit, hf_store_etag(e), stamp);
    hf_code rc = (rel && text) ? hf_beneath_write(&s->root, rel, text, strlen(text), false, err)
                               : hf_fail(err, HF_EOTHER, "out of memory");
    free(rel);
    free(text);
    return rc;
}

bool hf_store_read_metadata(const hf_store *s, const char *path, char commit[41], char etag[65],
                            double *stamp) {
    char *rel = hf_store_metadata_rel(s, path);
    char *data = NULL;
    size_t len;
    char when[40] = "";
    int n = rel && hf_beneath_read(&s->root, rel, 4096, &data, &len, NULL) == HF_OK
                ? sscanf(data, "%40s %64s %39s", commit, etag, when)
                : 0;
    char *end = when;
    double t = n == 3 ? strtod(when, &end) : 0;
    free(data);
    free(rel);
    if (stamp)
        *stamp = n == 3 && *end == '\0' && end != when ? t : -1;
    return n >= 2;
}

hf_code hf_store_write_manifest(const hf_store *s, const char *text, size_t len, hf_error *err) {
    return hf_beneath_write(&s->root, ".cache/huggingface/hf-manifest.json", text, len,
                            s->sync == HF_SYNC_ALWAYS, err);
}

/* A local folder's file whose metadata records e's etag, and whose size and mtime say it has
 * not changed since (huggingface_hub's rule, without its second of slack): *this_commit says
 * whether the metadata also names the store's commit (else it is written again). */
static bool folder_record_holds(const hf_store *s, const hf_entry *e, const struct stat *st,
                                bool *this_commit) {
    char commit[41] = "", etag[65] = "";
    double stamp;
    *this_commit = false;
    if (!hf_store_read_metadata(s, e->path, commit, etag, &stamp) ||
        strcmp(etag, hf_store_etag(e)) != 0 || stamp < 0)
        return false;
    double mtime = (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
    *this_commit = strcmp(commit, s->commit) == 0;
    return mtime <= stamp;
}

/* Whether the file at rel is trusted without reading it: a regular file of e's size that is
 * a cache blob (only verified, synced bytes get that name), or a local file its metadata
 * vouches for. */
static bool trusted(const hf_store *s, const char *rel, const hf_entry *e, bool *this_commit) {
    struct stat st;
    *this_commit = false;
    if (hf_beneath_lstat(&s->root, rel, &st, NULL) != HF_OK || !S_ISREG(st.st_mode) ||
        st.st_size != e->size)
        return false;
    return s->kind == HF_STORE_CACHE || folder_record_holds(s, e, &st, this_commit);
}

hf_code hf_store_check(const hf_store *s, const hf_entry *e, bool *present, char sha256[65],
                       hf_error *err) {
    *present = false;
    char *rel = s->kind == HF_STORE_DIR ? hf_store_final_rel(s, e) : blob_rel(s, e);
    if (!rel)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = HF_OK;
    bool this_commit = false; /* a local folder's metadata names this commit */
    bool holds = trusted(s, rel, e, &this_commit);
    if (holds && !s->verify && e->lfs) {
        *present = true;
        memcpy(sha256, e->sha256, 65);
    } else {
        *present = content_matches(s, rel, e, sha256, err, &rc);
    }
    bool recorded = holds && this_commit; /* the metadata is right as it is */
    free(rel);
    if (rc != HF_OK || !*present)
        return rc;
    if (s->kind == HF_STORE_CACHE)
        return link_snapshot(s, e, err);
    return recorded ? HF_OK : write_metadata(s, e, err);
}

/* Whether the regular file at rel is the one open as mine, with e's size. */
static bool same_file(const hf_store *s, const char *rel, const struct stat *mine,
                      const hf_entry *e) {
    struct stat there;
    return hf_beneath_lstat(&s->root, rel, &there, NULL) == HF_OK && S_ISREG(there.st_mode) &&
           there.st_dev == mine->st_dev && there.st_ino == mine->st_ino &&
           there.st_size == e->size && mine->st_size == e->size;
}

bool hf_store_publishes_durably(const hf_store *s) {
    return durable_publish(s);
}

bool hf_store_sync_batch(const hf_store *s) {
    return s->root.fd >= 0 && syncfs(s->root.fd) == 0;
}

/* Whether fd's file is on the root's file system (what a syncfs of the root covers). */
static bool on_root_fs(const hf_store *s, const struct stat *st) {
    struct stat root;
    return s->root.fd >= 0 && fstat(s->root.fd, &root) == 0 && root.st_dev == st->st_dev;
}

hf_code hf_store_commit(const hf_store *s, const hf_entry *e, int fd, bool synced, bool *changed,
                        hf_error *err) {
    *changed = false;
    char *from = hf_store_incomplete_rel(s, e);
    char *dest = s->kind == HF_STORE_CACHE ? blob_rel(s, e) : hf_store_final_rel(s, e);
    struct stat mine;
    hf_code rc = (from && dest) ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK && fstat(fd, &mine) != 0)
        rc = hf_fail(err, HF_EIO, "cannot read %s/%s: %s", s->root.path, from, strerror(errno));
    /* a blob name is trusted later without reading it: its bytes are durable before it has it */
    bool needs_fsync = durable_publish(s) && !(synced && on_root_fs(s, &mine));
    if (rc == HF_OK && needs_fsync && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = hf_fail(err, HF_EIO, "cannot write %s/%s: %s", s->root.path, from, strerror(errno));
    if (close(fd) != 0 && rc == HF_OK) /* a write error some file systems report only here */
        rc = hf_fail(err, HF_EIO, "cannot write %s/%s: %s", s->root.path, from, strerror(errno));
    /* only the file whose bytes were verified goes into place: checked before the rename,
     * and after it (a writer that swapped it in between leaves nothing at the final path) */
    if (rc == HF_OK && !same_file(s, from, &mine, e))
        *changed = true;
    if (rc == HF_OK && !*changed)
        rc = hf_beneath_rename(&s->root, from, dest, err);
    if (rc == HF_OK && !*changed && !same_file(s, dest, &mine, e)) {
        hf_beneath_unlink(&s->root, dest);
        *changed = true;
    }
    if (*changed)
        rc = hf_fail(err, HF_EINTEGRITY,
                     "'%s': its temporary file was replaced or changed by another writer while "
                     "it was fetched",
                     e->path);
    free(from);
    free(dest);
    if (rc != HF_OK || *changed)
        return *changed ? HF_OK : rc;
    return s->kind == HF_STORE_CACHE ? link_snapshot(s, e, err) : write_metadata(s, e, err);
}

void hf_store_sync(const hf_store *s) {
    bool wanted = s->kind == HF_STORE_CACHE ? s->sync != HF_SYNC_NEVER : s->sync == HF_SYNC_ALWAYS;
    if (wanted && s->root.fd >= 0)
        (void)syncfs(s->root.fd);
}

hf_code hf_store_write_ref(const hf_store *s, const char *revision, hf_error *err) {
    if (s->kind != HF_STORE_CACHE || strcmp(revision, s->commit) == 0)
        return HF_OK;
    char *rel = joinf("%s/refs/%s", s->repo, revision);
    hf_code rc = rel ? hf_beneath_write(&s->root, rel, s->commit, 40, false, err)
                     : hf_fail(err, HF_EOTHER, "out of memory");
    free(rel);
    return rc;
}

hf_code hf_store_read_ref(const char *cache_dir, const hf_repo *repo, const char *revision,
                          char commit[41], hf_error *err) {
    if (hf_is_commit(revision)) {
        memcpy(commit, revision, 41);
        return HF_OK;
    }
    char *name = hf_repo_cache_name(repo);
    char *path = name ? joinf("%s/refs/%s", name, revision) : NULL;
    free(name);
    if (!path)
        return hf_fail(err, HF_EOTHER, "out of memory");
    char *data = NULL;
    size_t len = 0;
    hf_root root;
    hf_code rc = hf_root_open(&root, cache_dir, false, NULL);
    if (rc == HF_OK)
        rc = hf_beneath_read(&root, path, 4096, &data, &len, err);
    hf_root_close(&root);
    if (rc == HF_EINTEGRITY) {
        free(path);
        return rc; /* a link planted on the way: named */
    }
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
