/* File system helpers. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"

bool hf_write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = ENOSPC;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

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

/* The folder of a path the user named (followed as given) as a root, and the name in it. */
static hf_code write_file(const char *path, const void *data, size_t len, bool durable,
                          hf_error *err) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_root root;
    hf_error quiet = {0};
    hf_code rc = hf_root_open(&root, dir, false, &quiet);
    if (rc != HF_OK)
        rc = hf_fail(err, HF_EIO, "cannot write %s: %s", path, quiet.msg);
    else
        rc = hf_beneath_write(&root, slash ? slash + 1 : path, data, len, durable, err);
    hf_root_close(&root);
    free(dir);
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hf_fail(err, errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "cannot read %s: %s", path,
                       strerror(errno));
    hf_code rc = hf_read_fd(fd, max, data, len, err);
    close(fd);
    if (rc == HF_EIO)
        rc = hf_fail(err, HF_EIO, "cannot read %s", path);
    else if (rc == HF_EUSAGE)
        rc = hf_fail(err, HF_EUSAGE, "%s is larger than %zu bytes", path, max);
    return rc;
}

hf_code hf_read_fd(int fd, size_t max, char **data, size_t *len, hf_error *err) {
    *data = NULL;
    *len = 0;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    bool failed = false, more = false;
    while (buf) {
        if (n == cap) {
            char probe;
            if (cap >= max) {
                ssize_t r;
                while ((r = read(fd, &probe, 1)) < 0 && errno == EINTR)
                    ;
                more = r > 0;
                failed = r < 0;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            failed = got < 0;
            break;
        }
        n += (size_t)got;
    }
    if (!buf)
        return hf_fail(err, HF_EOTHER, "out of memory");
    if (failed || more) {
        free(buf);
        return failed ? hf_fail(err, HF_EIO, "cannot read: %s", strerror(errno))
                      : hf_fail(err, HF_EUSAGE, "larger than %zu bytes", max);
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
