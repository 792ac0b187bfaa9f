/* Writes below a root, never through a link. */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cancel.h"
#include "fsutil.h"

/* openat2(2)'s interface, as <linux/openat2.h> has it: spelled out here because the static
 * (musl) build sees no kernel headers. The kernel's ABI, fixed since Linux 5.6. */
struct hf_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define HF_RESOLVE_NO_MAGICLINKS 0x02
#define HF_RESOLVE_NO_SYMLINKS 0x04
#define HF_RESOLVE_BENEATH 0x08
#ifndef SYS_openat2
#define SYS_openat2 437 /* x86_64, arm64 and the other asm-generic architectures */
#endif
#if defined(__has_include)
#if __has_include(<linux/openat2.h>) /* where the kernel's headers are seen: the same values */
#include <linux/openat2.h>
_Static_assert(HF_RESOLVE_BENEATH == RESOLVE_BENEATH &&
                   HF_RESOLVE_NO_SYMLINKS == RESOLVE_NO_SYMLINKS &&
                   HF_RESOLVE_NO_MAGICLINKS == RESOLVE_NO_MAGICLINKS,
               "openat2 flags");
_Static_assert(sizeof(struct hf_open_how) == sizeof(struct open_how), "struct open_how");
#endif
#endif

static bool use_openat2 = true;

void hf_beneath_use_openat2(bool on) {
    use_openat2 = on;
}

hf_code hf_root_open(hf_root *r, const char *path, bool create, hf_error *err) {
    r->fd = -1;
    r->path = strdup(path);
    if (!r->path)
        return hf_fail(err, HF_EOTHER, "out of memory");
    hf_code rc = create ? hf_mkdirs(path, err) : HF_OK;
    if (rc != HF_OK)
        return rc;
    r->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->fd < 0)
        return hf_fail(err, errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "cannot open folder %s: %s",
                       path, strerror(errno));
    return HF_OK;
}

void hf_root_close(hf_root *r) {
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->path);
    r->path = NULL;
}

char *hf_root_show(const hf_root *r, const char *rel) {
    return *rel ? hf_path_join(r->path, rel) : strdup(r->path);
}

static hf_code show_fail(hf_error *err, hf_code code, const hf_root *r, const char *rel, size_t len,
                         const char *what, int e) {
    char *part = strndup(rel, len);
    char *shown = part ? hf_root_show(r, part) : NULL;
    hf_code rc = hf_fail(err, code, "%s %s%s%s", what, shown ? shown : rel, e ? ": " : "",
                         e ? strerror(e) : "");
    free(part);
    free(shown);
    return rc;
}

/* A link found at rel[0..len) (its last component in dirfd): refused, naming it. */
static hf_code refuse_link(const hf_root *r, const char *rel, size_t len, int dirfd,
                           const char *name, hf_error *err) {
    char target[PATH_MAX] = "";
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    char *part = strndup(rel, len);
    char *shown = part ? hf_root_show(r, part) : NULL;
    hf_code rc =
        hf_fail(err, HF_EINTEGRITY, "refusing to write through %s: a link (to %s) planted below %s",
                shown ? shown : rel, target, r->path);
    free(part);
    free(shown);
    return rc;
}

static bool unsafe_name(const char *name, size_t n) {
    return n == 0 || (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.');
}

/* The folder rel[0..len) below the root as a descriptor: openat2 in one call when it can,
 * else (or to make what is missing, or to name what is wrong) one component at a time. */
static hf_code walk(const hf_root *r, const char *rel, size_t len, bool create, int *out,
                    hf_error *err) {
    *out = -1;
    if (use_openat2 && len > 0) {
        char *dir = strndup(rel, len);
        if (!dir)
            return hf_fail(err, HF_EOTHER, "out of memory");
        struct hf_open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                  .resolve = HF_RESOLVE_BENEATH | HF_RESOLVE_NO_SYMLINKS |
                                             HF_RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, r->fd, dir, &how, sizeof how);
        int e = errno;
        free(dir);
        if (fd >= 0) {
            *out = fd;
            return HF_OK;
        }
        if (e == ENOSYS || e == EPERM)
            use_openat2 = false; /* an old kernel, or a seccomp filter: walk from now on */
    }
    int cur = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
    if (cur < 0)
        return hf_fail(err, HF_EIO, "cannot open folder %s: %s", r->path, strerror(errno));
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && rel[j] != '/')
            j++;
        char name[NAME_MAX + 1];
        size_t n = j - i;
        if (unsafe_name(rel + i, n) || n > NAME_MAX) {
            close(cur);
            return show_fail(err, n > NAME_MAX ? HF_EIO : HF_EINTEGRITY, r, rel, len,
                             n > NAME_MAX ? "name too long in" : "unsafe path", 0);
        }
        memcpy(name, rel + i, n);
        name[n] = '\0';
        int next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, name, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                close(cur);
                return show_fail(err, HF_EIO, r, rel, j, "cannot create folder", e);
            }
            next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            struct stat st;
            hf_code rc;
            if ((e == ELOOP || e == ENOTDIR) && fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                rc = refuse_link(r, rel, j, cur, name, err);
            else if (e == ENOTDIR || e == ELOOP)
                rc = show_fail(err, HF_EIO, r, rel, j, "not a folder:", 0);
            else
                rc = show_fail(err, e == ENOENT ? HF_ENOTFOUND : HF_EIO, r, rel, j,
                               "cannot open folder", e);
            close(cur);
            return rc;
        }
        close(cur);
        cur = next;
        i = j + 1;
    }
    *out = cur;
    return HF_OK;
}

hf_code hf_beneath_dir(const hf_root *r, const char *rel, bool create, int *dirfd, hf_error *err) {
    return walk(r, rel, strlen(rel), create, dirfd, err);
}

hf_code hf_beneath_parent(const hf_root *r, const char *rel, bool create, int *dirfd,
                          const char **name, hf_error *err) {
    const char *slash = strrchr(rel, '/');
    *name = slash ? slash + 1 : rel;
    *dirfd = -1;
    if (unsafe_name(*name, strlen(*name)))
        return show_fail(err, HF_EINTEGRITY, r, rel, strlen(rel), "unsafe path", 0);
    return walk(r, rel, slash ? (size_t)(slash - rel) : 0, create, dirfd, err);
}

hf_code hf_beneath_open(const hf_root *r, const char *rel, int flags, mode_t mode, int *fd,
                        hf_error *err) {
    *fd = -1;
    int dirfd;
    const char *name;
    hf_error quiet = {0};
    hf_code rc = hf_beneath_parent(r, rel, (flags & O_CREAT) != 0, &dirfd, &name, &quiet);
    if (rc == HF_ENOTFOUND) {
        errno = ENOENT; /* a missing folder: the file is missing */
        return HF_OK;
    }
    if (rc != HF_OK) {
        if (err)
            *err = quiet;
        return rc;
    }
    *fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    close(dirfd);
    errno = e;
    return HF_OK;
}

hf_code hf_beneath_lstat(const hf_root *r, const char *rel, struct stat *st, hf_error *err) {
    int dirfd;
    const char *name;
    hf_code rc = hf_beneath_parent(r, rel, false, &dirfd, &name, err);
    if (rc != HF_OK)
        return rc;
    int ok = fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(dirfd);
    if (ok != 0)
        return show_fail(err, e == ENOENT ? HF_ENOTFOUND : HF_EIO, r, rel, strlen(rel),
                         "cannot read", e);
    return HF_OK;
}

hf_code hf_beneath_rename(const hf_root *r, const char *from, const char *to, hf_error *err) {
    int fromfd, tofd;
    const char *fromname, *toname;
    hf_code rc = hf_beneath_parent(r, from, false, &fromfd, &fromname, err);
    if (rc != HF_OK)
        return rc;
    rc = hf_beneath_parent(r, to, true, &tofd, &toname, err);
    if (rc == HF_OK) {
        if (renameat(fromfd, fromname, tofd, toname) != 0)
            rc = show_fail(err, HF_EIO, r, to, strlen(to), "cannot move into place", errno);
        close(tofd);
    }
    close(fromfd);
    return rc;
}

int hf_beneath_symlink(const hf_root *r, const char *target, const char *rel) {
    int dirfd;
    const char *name;
    hf_error quiet = {0};
    if (hf_beneath_parent(r, rel, true, &dirfd, &name, &quiet) != HF_OK) {
        errno = EACCES;
        return -1;
    }
    int ok = symlinkat(target, dirfd, name);
    int e = errno;
    close(dirfd);
    errno = e;
    return ok;
}

int hf_beneath_unlink(const hf_root *r, const char *rel) {
    int dirfd;
    const char *name;
    hf_error quiet = {0};
    if (hf_beneath_parent(r, rel, false, &dirfd, &name, &quiet) != HF_OK) {
        errno = ENOENT;
        return -1;
    }
    int ok = unlinkat(dirfd, name, 0);
    int e = errno;
    close(dirfd);
    errno = e;
    return ok;
}

int hf_beneath_mktemp(int dirfd, const char *base, char *tmp, size_t cap, int *ticket) {
    for (int n = 0; n < 100; n++) {
        /* base.tmp-PID-N, or a short name when that would be too long for the folder */
        int len = snprintf(tmp, cap, "%s.tmp-%ld-%d", base, (long)getpid(), n);
        if (len < 0 || (size_t)len >= cap || len > NAME_MAX)
            snprintf(tmp, cap, ".hf-tmp-%ld-%d", (long)getpid(), n);
        if (ticket) /* before it exists: no window where a cancellation would leave it */
            *ticket = hf_cancel_track_at(dirfd, tmp);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        int e = errno;
        if (fd < 0 && ticket) {
            hf_cancel_untrack(*ticket); /* not ours */
            *ticket = -1;
        }
        errno = e;
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Writes data (or, when in >= 0, what in holds from its start) to a fresh temporary name in
 * rel's folder, then renames it over rel. */
static hf_code put_file(const hf_root *r, const char *rel, const void *data, size_t len, int in,
                        bool durable, hf_error *err) {
    int dirfd;
    const char *name;
    hf_code rc = hf_beneath_parent(r, rel, true, &dirfd, &name, err);
    if (rc != HF_OK)
        return rc;
    char tmp[NAME_MAX + 64];
    int ticket = -1;
    int fd = hf_beneath_mktemp(dirfd, name, tmp, sizeof tmp, &ticket);
    bool ok = fd >= 0;
    if (ok && in < 0) {
        ok = hf_write_all(fd, data, len);
    } else if (ok) {
        static char buf[1 << 16];
        ssize_t n = 0;
        ok = lseek(in, 0, SEEK_SET) == 0;
        while (ok && (n = read(in, buf, sizeof buf)) != 0)
            ok = n > 0 && hf_write_all(fd, buf, (size_t)n);
    }
    if (ok && durable && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        ok = false;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && renameat(dirfd, tmp, dirfd, name) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (fd >= 0)
            unlinkat(dirfd, tmp, 0);
        rc = show_fail(err, HF_EIO, r, rel, strlen(rel), "cannot write", e);
    } else if (durable) {
        (void)fsync(dirfd);
    }
    hf_cancel_untrack(ticket); /* renamed or removed */
    close(dirfd);
    return rc;
}

hf_code hf_beneath_write(const hf_root *r, const char *rel, const void *data, size_t len,
                         bool durable, hf_error *err) {
    return put_file(r, rel, data, len, -1, durable, err);
}

int hf_beneath_put_link(const hf_root *r, const char *target, const char *rel) {
    int dirfd;
    const char *name;
    hf_error quiet = {0};
    if (hf_beneath_parent(r, rel, true, &dirfd, &name, &quiet) != HF_OK) {
        errno = quiet.code == HF_EINTEGRITY ? ELOOP : EACCES;
        return -1;
    }
    int ok = symlinkat(target, dirfd, name);
    char have[PATH_MAX];
    ssize_t n;
    if (ok != 0 && errno == EEXIST) {
        if ((n = readlinkat(dirfd, name, have, sizeof have - 1)) > 0 &&
            (have[n] = '\0', strcmp(have, target) == 0)) {
            ok = 0; /* the right link is there already */
        } else {
            char tmp[64];
            for (int i = 0; i < 100; i++) {
                snprintf(tmp, sizeof tmp, ".hf-link-%ld-%d", (long)getpid(), i);
                if ((ok = symlinkat(target, dirfd, tmp)) == 0 || errno != EEXIST)
                    break;
            }
            if (ok == 0 && (ok = renameat(dirfd, tmp, dirfd, name)) != 0) {
                int e = errno;
                unlinkat(dirfd, tmp, 0);
                errno = e;
            }
        }
    }
    int e = errno;
    close(dirfd);
    errno = e;
    return ok;
}

hf_code hf_beneath_put_copy(const hf_root *r, const char *rel, int in, hf_error *err) {
    return put_file(r, rel, NULL, 0, in, false, err);
}

int hf_beneath_scratch(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    hf_root r = {.fd = -1};
    int fd = -1;
    if (dir && hf_root_open(&r, dir, false, NULL) == HF_OK) {
        fd = openat(r.fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        char tmp[NAME_MAX + 64];
        if (fd < 0 && (fd = hf_beneath_mktemp(r.fd, ".hf-spool", tmp, sizeof tmp, NULL)) >= 0)
            unlinkat(r.fd, tmp, 0); /* gone when closed, whatever happens */
    }
    int e = errno;
    hf_root_close(&r);
    free(dir);
    errno = e;
    return fd;
}

hf_code hf_beneath_read(const hf_root *r, const char *rel, size_t max, char **data, size_t *len,
                        hf_error *err) {
    *data = NULL;
    *len = 0;
    int fd;
    hf_code rc = hf_beneath_open(r, rel, O_RDONLY, 0, &fd, err);
    if (rc != HF_OK)
        return rc;
    if (fd < 0)
        return show_fail(err, errno == ENOENT ? HF_ENOTFOUND : HF_EIO, r, rel, strlen(rel),
                         "cannot read", errno);
    rc = hf_read_fd(fd, max, data, len, err);
    close(fd);
    return rc;
}
