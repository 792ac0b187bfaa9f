/* Getting LFS objects in place before a commit: the batch call, the PUTs of objects and
 * parts (N at a time), the multipart completions and the verify calls. */
#ifndef HF_LFS_UPLOAD_H
#define HF_LFS_UPLOAD_H

#include "fetch.h"
#include "http.h"
#include "repo.h"
#include "upload_plan.h"

typedef struct {
    hf_client *client;
    const hf_repo *repo;
    const char *revision;
    int jobs;
    hf_fetch_progress_fn progress; /* bytes sent, objects done; may be NULL */
    void *progress_ctx;
} hf_lfs_upload_opts;

/* Uploads what the Hub lacks of these files' content (only objects the batch answer gives
 * actions for are sent). On success every object is on the Hub; *sent and *bytes say how
 * many objects and bytes went out. The first failure stops the rest. */
hf_code hf_lfs_upload(const hf_lfs_upload_opts *o, const hf_upload_file *const *files, size_t n,
                      size_t *sent, long long *bytes, hf_error *err);

#endif
