/* Lock files: flock(2) where it works, O_EXCL lock files where it does not. */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static bool force_exclusive;

void hf_lock_force_exclusive_files(bool on) {
    force_exclusive = on;
}

/* True when the O_EXCL lock file's owner is certainly gone: a dead pid on this host, or no
 * refresh for HF_LOCK_STALE_SECONDS. */
static bool is_stale(const hf_root *root, const char *rel) {
    struct stat st;
    if (hf_beneath_lstat(root, rel, &st, NULL) != HF_OK)
        return false; /* gone already: the next try will tell */
    if (S_ISLNK(st.st_mode))
        return true; /* a link planted at the lock's name is nobody's lock */
    if (time(NULL) - st.st_mtime > HF_LOCK_STALE_SECONDS)
        return true;
    char buf[512] = "";
    int fd;
    if (hf_beneath_open(root, rel, O_RDONLY, 0, &fd, NULL) != HF_OK || fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    char host[256] = "", me[256] = "";
    long pid = 0;
    if (sscanf(buf, "%255s %ld", host, &pid) != 2 || pid <= 0)
        return false;
    gethostname(me, sizeof me - 1);
    return strcmp(host, me) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* flock(2) is not available on this file system (the O_EXCL file is the lock there). */
static bool flock_unsupported(int e) {
    return e == ENOSYS || e == ENOLCK || e == EOPNOTSUPP || e == ENOTSUP || e == EINVAL;
}

/* Holds the lock by the file made with O_EXCL: writes its owner in it. */
static hf_code own_file(hf_lock *lock, int fd, hf_error *err) {
    char host[256] = "", line[300];
    gethostname(host, sizeof host - 1);
    int n = snprintf(line, sizeof line, "%s %ld\n", host[0] ? host : "-", (long)getpid());
    bool ok = write(fd, line, (size_t)n) == n;
    close(fd);
    if (!ok) {
        hf_beneath_unlink(lock->root, lock->path);
        return hf_fail(err, HF_EIO, "cannot write lock file %s/%s", lock->root->path, lock->path);
    }
    lock->held = true;
    lock->exclusive_file = true;
    lock->refreshed = time(NULL);
    return HF_OK;
}

hf_code hf_lock_try(hf_lock *lock, const hf_root *root, const char *rel, bool *taken,
                    hf_error *err) {
    *taken = false;
    lock->root = root;
    if (!lock->path && !(lock->path = strdup(rel)))
        return hf_fail(err, HF_EOTHER, "out of memory");
    for (int round = 0; round < 3; round++) {
        int fd;
        hf_code rc = hf_beneath_open(root, rel, O_RDWR | O_CREAT | O_EXCL, 0644, &fd, err);
        if (rc != HF_OK)
            return rc;
        bool created = fd >= 0;
        if (!created && errno == EEXIST && !force_exclusive) {
            hf_beneath_open(root, rel, O_RDWR | O_NONBLOCK, 0, &fd, NULL);
            if (fd < 0 && errno == EACCES) /* another user's lock file: flock needs no write */
                hf_beneath_open(root, rel, O_RDONLY | O_NONBLOCK, 0, &fd, NULL);
        }
        if (!created && !force_exclusive && fd < 0 && (errno == ELOOP || errno == ENOENT)) {
            if (errno == ELOOP) /* a link planted at the lock's name: the name is ours */
                hf_beneath_unlink(root, rel);
            continue;
        }
        if (fd < 0 && !(force_exclusive && errno == EEXIST))
            return hf_fail(err, HF_EIO, "cannot open lock file %s/%s: %s", root->path, rel,
                           strerror(errno));
        if (fd >= 0 && !force_exclusive) {
            if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                lock->fd = fd;
                lock->held = true;
                lock->exclusive_file = false;
                *taken = true;
                return HF_OK;
            }
            int e = errno;
            if (!flock_unsupported(e)) {
                close(fd);
                if (e == EWOULDBLOCK || e == EINTR)
                    return HF_OK; /* held by another process */
                return hf_fail(err, HF_EIO, "cannot lock %s/%s: %s", root->path, rel, strerror(e));
            }
        }
        /* no flock here: the file made with O_EXCL is the lock */
        if (created) {
            rc = own_file(lock, fd, err);
            *taken = rc == HF_OK;
            return rc;
        }
        if (fd >= 0)
            close(fd);
        if (round > 0 || !is_stale(root, rel))
            return HF_OK;
        /* Break a stale lock by renaming it to a name of our own first, so that two processes
         * breaking it at once cannot remove a lock that a third has just taken. */
        char aside[4200];
        snprintf(aside, sizeof aside, "%s.stale-%ld", rel, (long)getpid());
        if (hf_beneath_rename(root, rel, aside, NULL) == HF_OK)
            hf_beneath_unlink(root, aside);
    }
    return HF_OK;
}

void hf_lock_refresh(hf_lock *lock) {
    if (!lock->held || !lock->exclusive_file)
        return;
    time_t now = time(NULL);
    if (now - lock->refreshed < HF_LOCK_STALE_SECONDS / 10)
        return;
    int fd;
    if (hf_beneath_open(lock->root, lock->path, O_WRONLY, 0, &fd, NULL) == HF_OK && fd >= 0) {
        futimens(fd, NULL);
        close(fd);
    }
    lock->refreshed = now;
}

void hf_lock_release(hf_lock *lock) {
    if (lock->held && lock->exclusive_file)
        hf_beneath_unlink(lock->root, lock->path);
    else if (lock->held) {
        flock(lock->fd, LOCK_UN);
        close(lock->fd);
    }
    free(lock->path);
    lock->path = NULL;
    lock->held = false;
    lock->exclusive_file = false;
}
