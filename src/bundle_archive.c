/* Deterministic archive writing and archive reading over libarchive. */
#include "bundle_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "cancel.h"
#include "fsutil.h"

/* libarchive converts names through the locale's character set (the pax writer falls back to
 * hdrcharset=BINARY when it cannot convert, and zip flags UTF-8 names by the locale): every
 * libarchive call runs in a UTF-8 thread locale, so the bytes never depend on LANG. */
static locale_t utf8_locale(void) {
    static locale_t loc;
    static bool tried;
    if (!tried) {
        tried = true;
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
        if (!loc)
            loc = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    }
    return loc;
}

static locale_t enter(void) {
    locale_t l = utf8_locale();
    return l ? uselocale(l) : (locale_t)0;
}

static void leave(locale_t old) {
    if (old)
        uselocale(old);
}

static const struct {
    const char *name;
    hf_archive_format f;
} names[] = {{"tar", HF_FMT_TAR},      {"tgz", HF_FMT_TGZ},      {"tar.gz", HF_FMT_TGZ},
             {"zip", HF_FMT_ZIP},      {"tar.zst", HF_FMT_TZST}, {"tzst", HF_FMT_TZST},
             {"tar.zstd", HF_FMT_TZST}};

bool hf_archive_format_parse(const char *name, hf_archive_format *out) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return true;
        }
    return false;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && strcmp(s + a - b, suffix) == 0;
}

bool hf_archive_format_from_path(const char *path, hf_archive_format *out) {
    static const struct {
        const char *ext;
        hf_archive_format f;
    } exts[] = {{".tar", HF_FMT_TAR},      {".tar.gz", HF_FMT_TGZ}, {".tgz", HF_FMT_TGZ},
                {".tar.zst", HF_FMT_TZST}, {".tzst", HF_FMT_TZST},  {".zip", HF_FMT_ZIP}};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (ends_with(path, exts[i].ext)) {
            *out = exts[i].f;
            return true;
        }
    return false;
}

const char *hf_archive_format_name(hf_archive_format f) {
    switch (f) {
    case HF_FMT_TGZ:
        return "tgz";
    case HF_FMT_TZST:
        return "tar.zst";
    case HF_FMT_ZIP:
        return "zip";
    default:
        return "tar";
    }
}

bool hf_archive_level_range(hf_archive_format f, int *lo, int *hi) {
    switch (f) {
    case HF_FMT_TGZ:
    case HF_FMT_ZIP:
        *lo = 0;
        *hi = 9;
        return true;
    case HF_FMT_TZST:
        *lo = 1;
        *hi = 22;
        return true;
    default:
        return false;
    }
}

/* ---- writing ---------------------------------------------------------------------------- */

#define ZSTD_PIECE 10240u    /* a tar record group, as tar hands zstd its input */
#define ZSTD_JOB (8ll << 20) /* what one zstd worker takes at a time (level 3) */

int hf_archive_workers(int threads, long long bytes) {
    long long jobs = (bytes + ZSTD_JOB - 1) / ZSTD_JOB;
    return jobs < 1 ? 1 : jobs < threads ? (int)jobs : threads;
}

struct hf_archive_writer {
    struct archive *a;
    int fd;
    char *path, *tmp; /* as the user named it, for messages */
    hf_root dir;      /* the output's folder: the temporary file and the rename happen in it */
    const char *base; /* the output's name in dir (points into path) */
    char tmpname[NAME_MAX + 64];
    hf_archive_opts o;
    char **dirs; /* the folders of the last entry, outermost first */
    size_t ndirs;
    bool in_file;
    long long size, written;
    char *name;        /* of the current entry, for messages (a copy: callers free theirs) */
    int cancel_ticket; /* tmp, removed if the run is cancelled (hf_cancel_track_at, through
                          hf_beneath_mktemp) */
};

static hf_code la_fail(hf_archive_writer *w, hf_code code, const char *what, hf_error *err) {
    const char *why = archive_error_string(w->a);
    int e = archive_errno(w->a);
    return hf_fail(err, code, "cannot write %s: %s%s%s%s%s", w->path, what, why ? ": " : "",
                   why ? why : "", e > 0 ? ": " : "", e > 0 ? strerror(e) : "");
}

static hf_code set_option(hf_archive_writer *w, const char *module, const char *key,
                          const char *value, hf_error *err) {
    int r = module && strcmp(module, "zip") == 0
                ? archive_write_set_format_option(w->a, module, key, value)
                : archive_write_set_filter_option(w->a, module, key, value);
    if (r != ARCHIVE_OK) {
        const char *why = archive_error_string(w->a);
        return hf_fail(err, HF_EUSAGE, "the %s writer refused %s=%s%s%s", module, key,
                       value ? value : "(unset)", why ? ": " : "", why ? why : "");
    }
    return HF_OK;
}

static hf_code setup(hf_archive_writer *w, hf_error *err) {
    const hf_archive_opts *o = &w->o;
    char num[16];
    hf_code rc = HF_OK;
    int r = o->format == HF_FMT_ZIP ? archive_write_set_format_zip(w->a)
                                    : archive_write_set_format_pax_restricted(w->a);
    if (r != ARCHIVE_OK)
        return la_fail(w, HF_EOTHER, "format", err);
    switch (o->format) {
    case HF_FMT_TGZ:
        if (archive_write_add_filter_gzip(w->a) != ARCHIVE_OK)
            return la_fail(w, HF_EOTHER, "gzip", err);
        /* no time stamp in the gzip header (libarchive writes the current time otherwise) */
        rc = set_option(w, "gzip", "timestamp", NULL, err);
        if (rc == HF_OK && o->level >= 0) {
            snprintf(num, sizeof num, "%d", o->level);
            rc = set_option(w, "gzip", "compression-level", num, err);
        }
        break;
    case HF_FMT_TZST:
        if (archive_write_add_filter_zstd(w->a) != ARCHIVE_OK)
            return la_fail(w, HF_EOTHER, "zstd", err);
        snprintf(num, sizeof num, "%d", o->level >= 0 ? o->level : 3);
        rc = set_option(w, "zstd", "compression-level", num, err);
        /* zstd's multi-threaded mode gives the same bytes for any number of workers >= 1 (but
         * not the same as its single-threaded mode): always at least one worker */
        if (rc == HF_OK) {
            snprintf(num, sizeof num, "%d", o->threads < 1 ? 1 : o->threads);
            rc = set_option(w, "zstd", "threads", num, err);
        }
        break;
    case HF_FMT_ZIP:
        rc = set_option(w, "zip", "hdrcharset", "UTF-8", err);
        if (rc == HF_OK && o->level >= 0) {
            snprintf(num, sizeof num, "%d", o->level);
            rc = set_option(w, "zip", "compression-level", num, err);
        } else if (rc == HF_OK) {
            rc = set_option(w, "zip", "compression", "deflate", err);
        }
        break;
    default:
        break;
    }
    return rc;
}

static void writer_free(hf_archive_writer *w) {
    if (!w)
        return;
    if (w->a)
        archive_write_free(w->a);
    if (w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i]);
    free(w->dirs);
    free(w->path);
    free(w->tmp);
    free(w->name);
    hf_cancel_untrack(w->cancel_ticket); /* renamed or removed by now */
    hf_root_close(&w->dir);
    free(w);
}

hf_code hf_archive_create(const char *path, const hf_archive_opts *o, hf_archive_writer **out,
                          hf_error *err) {
    *out = NULL;
    hf_archive_writer *w = calloc(1, sizeof *w);
    if (!w)
        return hf_fail(err, HF_EOTHER, "out of memory");
    w->fd = -1;
    w->dir.fd = -1;
    w->cancel_ticket = -1;
    w->o = *o;
    w->path = strdup(path);
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!w->path || !dir) {
        free(dir);
        writer_free(w);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    w->base = slash ? w->path + (slash - path) + 1 : w->path;
    /* the folder is the user's choice; nothing is created through a link in it */
    hf_code made = hf_root_open(&w->dir, dir, false, err);
    if (made == HF_ENOTFOUND)
        made = hf_fail(err, HF_EIO, "cannot create %s: %s", path, strerror(ENOENT));
    free(dir);
    if (made == HF_OK && (!*w->base || !strcmp(w->base, ".") || !strcmp(w->base, "..")))
        made = hf_fail(err, HF_EUSAGE, "not a file name: %s", path);
    if (made == HF_OK) {
        w->fd =
            hf_beneath_mktemp(w->dir.fd, w->base, w->tmpname, sizeof w->tmpname, &w->cancel_ticket);
        if (w->fd < 0)
            made = hf_fail(err, HF_EIO, "cannot create a temporary file beside %s: %s", path,
                           strerror(errno));
        else if (!(w->tmp = hf_root_show(&w->dir, w->tmpname)))
            made = hf_fail(err, HF_EOTHER, "out of memory");
    }
    if (made != HF_OK) {
        if (w->fd >= 0)
            hf_beneath_unlink(&w->dir, w->tmpname);
        writer_free(w);
        return made;
    }
    locale_t old = enter();
    hf_code rc = HF_OK;
    w->a = archive_write_new();
    if (!w->a)
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK)
        rc = setup(w, err);
    /* the archive is written in blocks of 1000 KiB (a write(2) per MB instead of per 10 KiB,
     * compressed or not); the last one is not padded, as before (archive_write_open_fd leaves
     * a regular file's last block as it is): the same bytes, fewer calls */
    if (rc == HF_OK && archive_write_set_bytes_per_block(w->a, 100 * 10240) != ARCHIVE_OK)
        rc = la_fail(w, HF_EOTHER, "block size", err);
    if (rc == HF_OK && archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK)
        rc = la_fail(w, HF_EIO, "open", err);
    leave(old);
    if (rc != HF_OK) {
        hf_archive_abort(w);
        return rc;
    }
    *out = w;
    return HF_OK;
}

const char *hf_archive_tmp_path(const hf_archive_writer *w) {
    return w->tmp;
}

/* One entry header with the fixed metadata; call inside enter()/leave(). */
static hf_code header(hf_archive_writer *w, const char *name, bool dir, long long size,
                      hf_error *err) {
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return hf_fail(err, HF_EOTHER, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, dir ? 0755 : 0644);
    archive_entry_set_size(e, dir ? 0 : size);
    archive_entry_set_mtime(e, (time_t)w->o.mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    int r = archive_write_header(w->a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) {
        char what[300];
        snprintf(what, sizeof what, "the header of %.250s", name);
        return la_fail(w, r == ARCHIVE_WARN ? HF_EUSAGE : HF_EIO, what, err);
    }
    return HF_OK;
}

/* The entries of name's folders that the previous entries did not open. */
static hf_code open_dirs(hf_archive_writer *w, const char *name, hf_error *err) {
    size_t depth = 0;
    for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'), depth++) {
        size_t n = (size_t)(s - name);
        if (depth < w->ndirs && strlen(w->dirs[depth]) == n && memcmp(w->dirs[depth], name, n) == 0)
            continue;
        while (w->ndirs > depth)
            free(w->dirs[--w->ndirs]);
        char **grown = realloc(w->dirs, (depth + 1) * sizeof *grown);
        char *d = grown ? malloc(n + 2) : NULL;
        if (grown)
            w->dirs = grown;
        if (!d)
            return hf_fail(err, HF_EOTHER, "out of memory");
        memcpy(d, name, n);
        d[n] = '\0';
        w->dirs[w->ndirs++] = d;
        d[n] = '/';
        d[n + 1] = '\0';
        hf_code rc = header(w, d, true, 0, err);
        d[n] = '\0';
        if (rc != HF_OK)
            return rc;
    }
    return HF_OK;
}

hf_code hf_archive_begin_file(hf_archive_writer *w, const char *name, long long size,
                              hf_error *err) {
    if (w->in_file)
        return hf_fail(err, HF_EOTHER, "internal error: %s begun inside %s", name, w->name);
    if (size < 0)
        return hf_fail(err, HF_EOTHER, "internal error: negative size for %s", name);
    locale_t old = enter();
    hf_code rc = open_dirs(w, name, err);
    if (rc == HF_OK)
        rc = header(w, name, false, size, err);
    leave(old);
    char *copy = rc == HF_OK ? strdup(name) : NULL;
    if (rc == HF_OK && !copy)
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK) {
        free(w->name);
        w->in_file = true;
        w->size = size;
        w->written = 0;
        w->name = copy;
    }
    return rc;
}

hf_code hf_archive_write(hf_archive_writer *w, const void *data, size_t len, hf_error *err) {
    if (!w->in_file)
        return hf_fail(err, HF_EOTHER, "internal error: data outside an entry");
    if ((long long)len > w->size - w->written)
        return hf_fail(err, HF_EINTEGRITY, "%s: more bytes than its size of %lld", w->name,
                       w->size);
    locale_t old = enter();
    const char *p = data;
    hf_code rc = HF_OK;
    while (len > 0) {
        /* zstd holds more buffers the more input one call hands it (1 GiB to .tar.zst with 2
         * workers: 122 MiB in 1 MiB pieces, 84 MiB in 10 KiB ones, tar | zstd -T2 72 MiB);
         * its output does not depend on the pieces */
        size_t piece = w->o.format == HF_FMT_TZST && len > ZSTD_PIECE ? ZSTD_PIECE : len;
        la_ssize_t n = archive_write_data(w->a, p, piece);
        if (n <= 0) {
            rc = la_fail(w, HF_EIO, w->name, err);
            break;
        }
        p += n;
        len -= (size_t)n;
        w->written += n;
    }
    leave(old);
    return rc;
}

hf_code hf_archive_end_file(hf_archive_writer *w, hf_error *err) {
    if (!w->in_file)
        return hf_fail(err, HF_EOTHER, "internal error: no entry to end");
    w->in_file = false;
    if (w->written != w->size)
        return hf_fail(err, HF_EINTEGRITY, "%s: %lld bytes instead of %lld", w->name, w->written,
                       w->size);
    locale_t old = enter();
    int r = archive_write_finish_entry(w->a);
    leave(old);
    return r == ARCHIVE_OK ? HF_OK : la_fail(w, HF_EIO, w->name, err);
}

hf_code hf_archive_add_bytes(hf_archive_writer *w, const char *name, const void *data, size_t len,
                             hf_error *err) {
    hf_code rc = hf_archive_begin_file(w, name, (long long)len, err);
    if (rc == HF_OK && len)
        rc = hf_archive_write(w, data, len, err);
    if (rc == HF_OK)
        rc = hf_archive_end_file(w, err);
    return rc;
}

hf_code hf_archive_commit(hf_archive_writer *w, hf_error *err) {
    if (w->in_file) {
        hf_code rc = hf_fail(err, HF_EOTHER, "internal error: %s not ended", w->name);
        hf_archive_abort(w);
        return rc;
    }
    locale_t old = enter();
    int r = archive_write_close(w->a);
    leave(old);
    hf_code rc = r == ARCHIVE_OK ? HF_OK : la_fail(w, HF_EIO, "close", err);
    if (rc == HF_OK && w->o.sync && fsync(w->fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = hf_fail(err, HF_EIO, "cannot write %s: %s", w->path, strerror(errno));
    if (rc == HF_OK) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0)
            rc = hf_fail(err, HF_EIO, "cannot write %s: %s", w->path, strerror(errno));
    }
    if (rc == HF_OK)
        rc = hf_beneath_rename(&w->dir, w->tmpname, w->base, err);
    if (rc != HF_OK) {
        hf_archive_abort(w);
        return rc;
    }
    if (w->o.sync)
        (void)fsync(w->dir.fd);
    writer_free(w);
    return HF_OK;
}

void hf_archive_abort(hf_archive_writer *w) {
    if (!w)
        return;
    if (w->a) {
        locale_t old = enter();
        archive_write_free(w->a); /* flushes into the file we remove next */
        leave(old);
        w->a = NULL;
    }
    if (w->tmp)
        hf_beneath_unlink(&w->dir, w->tmpname);
    writer_free(w);
}

/* ---- reading ---------------------------------------------------------------------------- */

struct hf_archive_reader {
    struct archive *a;
    char *path;
    char *name; /* the current entry's name */
};

static hf_code rd_fail(hf_archive_reader *r, hf_code code, const char *what, hf_error *err) {
    const char *why = archive_error_string(r->a);
    return hf_fail(err, code, "%s: %s%s%s", r->path, what, why ? ": " : "", why ? why : "");
}

hf_code hf_archive_open_read(const char *path, hf_archive_reader **out, hf_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return hf_fail(err, errno == ENOENT ? HF_EUSAGE : HF_EIO, "cannot read %s: %s", path,
                       strerror(errno));
    if (!S_ISREG(st.st_mode))
        return hf_fail(err, HF_EUSAGE, "%s is not a file", path);
    hf_archive_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path)) || !(r->a = archive_read_new())) {
        hf_archive_close_read(r);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    archive_read_support_filter_gzip(r->a);
    archive_read_support_filter_zstd(r->a);
    archive_read_support_format_tar(r->a);
    archive_read_support_format_zip(r->a);
    locale_t old = enter();
    int rc = archive_read_open_filename(r->a, path, 1 << 16);
    leave(old);
    if (rc != ARCHIVE_OK) {
        hf_code c =
            rd_fail(r, HF_EINTEGRITY, "not a readable tar, tar.gz, tar.zst or zip archive", err);
        hf_archive_close_read(r);
        return c;
    }
    *out = r;
    return HF_OK;
}

hf_code hf_archive_next(hf_archive_reader *r, hf_archive_entry *e, bool *end, hf_error *err) {
    memset(e, 0, sizeof *e);
    *end = false;
    struct archive_entry *ae;
    locale_t old = enter();
    int rc = archive_read_next_header(r->a, &ae);
    hf_code code = HF_OK;
    if (rc == ARCHIVE_EOF) {
        *end = true;
    } else if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        code = rd_fail(r, HF_EINTEGRITY, "damaged archive", err);
    } else {
        const char *p = archive_entry_pathname_utf8(ae);
        if (!p)
            p = archive_entry_pathname(ae);
        free(r->name);
        r->name = strdup(p ? p : "");
        if (!r->name)
            code = hf_fail(err, HF_EOTHER, "out of memory");
        e->path = r->name;
        mode_t t = archive_entry_filetype(ae);
        e->type = t == AE_IFREG ? HF_AE_FILE : t == AE_IFDIR ? HF_AE_DIR : HF_AE_OTHER;
        /* a hard link is a tar entry without data of its own: never a file here */
        if (archive_entry_hardlink(ae) || archive_entry_symlink(ae))
            e->type = HF_AE_OTHER;
        e->size = archive_entry_size_is_set(ae) ? (long long)archive_entry_size(ae) : -1;
        e->mtime = (long long)archive_entry_mtime(ae);
        e->mode = (int)(archive_entry_perm(ae) & 07777);
    }
    leave(old);
    return code;
}

hf_code hf_archive_read(hf_archive_reader *r, void *buf, size_t cap, size_t *got, hf_error *err) {
    locale_t old = enter();
    la_ssize_t n = archive_read_data(r->a, buf, cap);
    leave(old);
    *got = 0;
    if (n < 0) {
        char what[300];
        snprintf(what, sizeof what, "damaged data in %.250s", r->name ? r->name : "an entry");
        return rd_fail(r, HF_EINTEGRITY, what, err);
    }
    *got = (size_t)n;
    return HF_OK;
}

void hf_archive_close_read(hf_archive_reader *r) {
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    free(r->path);
    free(r->name);
    free(r);
}
