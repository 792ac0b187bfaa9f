/* What an upload sends: local files (or bytes made here) and their paths in the repository,
 * checked as downloads are, and their hashes. */
#ifndef HF_UPLOAD_PLAN_H
#define HF_UPLOAD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "filter.h"

typedef struct {
    char *path;  /* in the repository */
    char *local; /* the file to read, or NULL when data holds the content */
    char *data;  /* content made in memory (the model card) */
    long long size;
    char sha256[65];  /* set by hf_upload_hash */
    char git_oid[41]; /* git blob id of the content (regular files) */
    bool lfs;         /* the Hub's mode (preupload), or the head's for unchanged files */
    bool unchanged;   /* same path and content at the branch head: not sent */
} hf_upload_file;

typedef struct {
    hf_upload_file *v;
    size_t n, cap;
} hf_upload_files;

typedef struct {
    const char *const *sources; /* a file, a folder, or FILE=PATH_IN_REPO */
    size_t n_sources;
    const char *path_in_repo; /* prefix of every path, or NULL */
    const hf_filter *filter;  /* for the files found in folders; may be NULL */
} hf_plan_opts;

/* Walks the sources: a file goes to its name (or the PATH_IN_REPO given), a folder's files to
 * their paths below it (not .git/ nor .cache/huggingface/); every path must be safe (no '..',
 * not absolute, nothing under .git/) and given once. Sorted by path. HF_EUSAGE naming the
 * source or path at fault; HF_EIO when a source cannot be read. */
hf_code hf_upload_plan(const hf_plan_opts *opts, hf_upload_files *out, hf_error *err);

/* Whether path may be written in a repository (hf_path_is_safe, and not under .git/). */
bool hf_upload_path_ok(const char *path, const char **why);

/* Adds (or replaces) a file whose content is data (copied). False when out of memory. */
bool hf_upload_files_put(hf_upload_files *f, const char *path, const char *data, size_t len);
hf_upload_file *hf_upload_files_find(hf_upload_files *f, const char *path);

/* The sha256 and git blob id of every file not hashed yet, streaming (before anything is
 * sent). */
hf_code hf_upload_hash(hf_upload_files *f, hf_error *err);

/* The git blob id of the LFS pointer of content with this sha256 and size. */
void hf_lfs_pointer_oid(const char *sha256, long long size, char out[41]);

void hf_upload_files_free(hf_upload_files *f);

#endif
