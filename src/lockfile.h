/* Cross-process locks on the lock files huggingface_hub uses too (.locks/<repo>/<etag>.lock in
 * a cache, .cache/huggingface/download/<path>.lock in a local folder): flock(LOCK_EX) on the
 * file, as Python's filelock takes it, so hf-fetch and the Python tools wait for each other
 * exactly as long as the other holds the lock. Lock files are made when missing and never
 * removed (removing one that another process has open would let two holders in), and a lock
 * file nobody holds is free. Where flock(2) does not work (ENOSYS, ENOLCK, EOPNOTSUPP: some
 * NFS and Lustre mounts), the lock is the file's existence instead, made with O_EXCL (atomic
 * on NFSv3+), holding its owner's host and pid, removed on release and broken when its owner
 * is gone or it has gone stale: the same rule as huggingface_hub's SoftFileLock fallback. */
#ifndef HF_LOCKFILE_H
#define HF_LOCKFILE_H

#include <stdbool.h>
#include <time.h>

#include "beneath.h"
#include "error.h"

/* An O_EXCL lock not refreshed for this long is taken to belong to a dead process on another
 * host. */
#define HF_LOCK_STALE_SECONDS 120

typedef struct {
    const hf_root *root;
    char *path; /* below root */
    bool held;
    bool exclusive_file; /* held by O_EXCL (flock unavailable): removed on release */
    int fd;              /* held by flock: the open lock file */
    time_t refreshed;
} hf_lock;

/* Tries once to take the lock at rel below root (its folder is created). *taken says whether
 * it was taken; an error is returned only when the lock cannot be made at all. */
hf_code hf_lock_try(hf_lock *lock, const hf_root *root, const char *rel, bool *taken,
                    hf_error *err);
/* Touches a held O_EXCL lock when it is older than a tenth of the stale limit. */
void hf_lock_refresh(hf_lock *lock);
/* Releases a held lock (an O_EXCL lock file is removed) and frees the path. */
void hf_lock_release(hf_lock *lock);

/* Tests only: true makes every lock an O_EXCL lock file, as where flock(2) fails. */
void hf_lock_force_exclusive_files(bool on);

#endif
