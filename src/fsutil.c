/* File system helpers. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"

hf_code hf_mkdirs(const char *path, hf_error *err) {
    struct stat have;
    if (stat(path, &have) == 0 && S_ISDIR(have.st_mode))
        return HF_OK; /* the common case: one call */
    char *p = strdup(path);
    if (!p)
        return hf_fail(err, HF_EOTHER, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            hf_code rc = hf_fail(err, HF_EIO, "cannot create folder %s: %s", p, strerror(errno));
            free(p);
            return rc;
        }
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            hf_code rc = hf_fail(err, HF_EIO, "%s exists and is not a folder", p);
            free(p);
            return rc;
        }
        if (c == '\0')
            break;
        *s = c;
    }
    free(p);
    return HF_OK;
}

hf_code hf_mkparent(const char *path, hf_error *err) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return HF_OK;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = hf_mkdirs(dir, err);
    free(dir);
    return rc;
}

void hf_sync_parent(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static hf_code write_tmp(const char *tmp, const char *path, const void *data, size_t len,
                         bool durable, hf_error *err) {
    /* made afresh, never through a link or a file someone left under that name */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return hf_fail(err, HF_EIO, "cannot write %s: %s", path, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return hf_fail(err, HF_EIO, "cannot write %s: %s", path, strerror(e));
        }
        p += n;
        left -= (size_t)n;
    }
    if (durable && fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return hf_fail(err, HF_EIO, "cannot write %s: %s", path, strerror(e));
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return hf_fail(err, HF_EIO, "cannot write %s: %s", path, strerror(e));
    }
    if (durable)
        hf_sync_parent(path);
    return HF_OK;
}

static hf_code write_file(const char *path, const void *data, size_t len, bool durable,
                          hf_error *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return hf_fail(err, HF_EIO, "path too long: %s", path);
    int ticket = hf_cancel_track(tmp); /* removed if the run is cancelled meanwhile */
    hf_code rc = write_tmp(tmp, path, data, len, durable, err);
    hf_cancel_untrack(ticket);
    return rc;
}

hf_code hf_write_atomic(const char *path, const void *data, size_t len, hf_error *err) {
    return write_file(path, data, len, true, err);
}

hf_code hf_write_replace(const char *path, const void *data, size_t len, hf_error *err) {
    return write_file(path, data, len, false, err);
}

hf_code hf_read_file(const char *path, size_t max, char **data, size_t *len, hf_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hf_fail(err, errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "cannot read %s: %s", path,
                       strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max)
                break;
            cap = cap * 2 > max ? max : cap * 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f);
    bool more = buf && n == cap && fgetc(f) != EOF;
    fclose(f);
    if (!buf)
        return hf_fail(err, HF_EOTHER, "out of memory");
    if (failed || more) {
        free(buf);
        return failed ? hf_fail(err, HF_EIO, "cannot read %s", path)
                      : hf_fail(err, HF_EUSAGE, "%s is larger than %zu bytes", path, max);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return HF_OK;
}

char *hf_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}
