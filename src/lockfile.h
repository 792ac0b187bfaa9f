/* Cross-process locks that also work on NFS and Lustre, where flock(2) may not: a lock file
 * made with O_CREAT|O_EXCL (atomic on NFSv3+), holding its owner's host and pid, kept fresh
 * while held and broken when its owner is gone or it has gone stale. */
#ifndef HF_LOCKFILE_H
#define HF_LOCKFILE_H

#include <stdbool.h>
#include <time.h>

#include "beneath.h"
#include "error.h"

/* A lock not refreshed for this long is taken to belong to a dead process on another host. */
#define HF_LOCK_STALE_SECONDS 120

typedef struct {
    const hf_root *root;
    char *path; /* below root */
    bool held;
    time_t refreshed;
} hf_lock;

/* Tries once to take the lock at rel below root (its folder is created). *taken says whether
 * it was taken; an error is returned only when the lock cannot be made at all. */
hf_code hf_lock_try(hf_lock *lock, const hf_root *root, const char *rel, bool *taken,
                    hf_error *err);
/* Touches a held lock when it is older than a tenth of the stale limit. */
void hf_lock_refresh(hf_lock *lock);
/* Releases (removes) a held lock and frees the path. */
void hf_lock_release(hf_lock *lock);

#endif
