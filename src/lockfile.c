/* Lock files. */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"

/* True when the lock file's owner is certainly gone: a dead pid on this host, or no refresh
 * for HF_LOCK_STALE_SECONDS. */
static bool is_stale(const hf_root *root, const char *rel) {
    struct stat st;
    if (hf_beneath_lstat(root, rel, &st, NULL) != HF_OK || !S_ISREG(st.st_mode))
        return false; /* gone already: the next try will tell */
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

hf_code hf_lock_try(hf_lock *lock, const hf_root *root, const char *rel, bool *taken,
                    hf_error *err) {
    *taken = false;
    lock->root = root;
    if (!lock->path && !(lock->path = strdup(rel)))
        return hf_fail(err, HF_EOTHER, "out of memory");
    for (int round = 0; round < 2; round++) {
        int fd;
        hf_code rc = hf_beneath_open(root, rel, O_WRONLY | O_CREAT | O_EXCL, 0644, &fd, err);
        if (rc != HF_OK)
            return rc;
        if (fd >= 0) {
            char host[256] = "", line[300];
            gethostname(host, sizeof host - 1);
            int n = snprintf(line, sizeof line, "%s %ld\n", host[0] ? host : "-", (long)getpid());
            bool ok = write(fd, line, (size_t)n) == n;
            close(fd);
            if (!ok) {
                hf_beneath_unlink(root, rel);
                return hf_fail(err, HF_EIO, "cannot write lock file %s/%s", root->path, rel);
            }
            lock->held = true;
            lock->refreshed = time(NULL);
            *taken = true;
            return HF_OK;
        }
        if (errno != EEXIST)
            return hf_fail(err, HF_EIO, "cannot create lock file %s/%s: %s", root->path, rel,
                           strerror(errno));
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
    if (!lock->held)
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
    if (lock->held)
        hf_beneath_unlink(lock->root, lock->path);
    free(lock->path);
    lock->path = NULL;
    lock->held = false;
}
