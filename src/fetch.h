/* Parallel, pinned, verified and resumable downloads of a set of files into a store. */
#ifndef HF_FETCH_H
#define HF_FETCH_H

#include <stdbool.h>

#include "http.h"
#include "repo.h"
#include "store.h"
#include "tree.h"

/* Progress as the transfers go: bytes counted include what was already present. */
typedef struct {
    long long bytes_total;
    long long bytes_done;
    size_t files_total;
    size_t files_done;
    size_t files_active;
} hf_fetch_stats;

typedef void (*hf_fetch_progress_fn)(void *ctx, const hf_fetch_stats *stats, bool final);

typedef struct {
    hf_client *client;
    const hf_repo *repo;
    const char *commit;   /* every file is requested at this commit */
    const char *revision; /* what was asked, for messages */
    hf_store *store;
    int jobs;   /* parallel transfers */
    bool force; /* fetch again what is present and verified */
    hf_fetch_progress_fn progress;
    void *progress_ctx;
} hf_fetch_opts;

/* Fetches every entry of files (sorted, with the sizes and hashes to verify against: sha256
 * for LFS files or when a lock manifest gives it, git oid for regular files). On success
 * each entry's sha256 holds the content's sha256. A hash or size mismatch is HF_EINTEGRITY
 * naming the file and both hashes, and leaves nothing at the final path. */
hf_code hf_fetch_run(const hf_fetch_opts *opts, hf_entries *files, hf_error *err);

#endif
