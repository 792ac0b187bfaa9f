/* The Hub's write API: repository creation, preupload, the LFS batch API (its answer
 * parsed and checked), the multipart completion and verify calls, and the commit call. */
#ifndef HF_HUB_WRITE_H
#define HF_HUB_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "repo.h"
#include "upload_plan.h"

/* The SDKs a Space is made with: gradio, streamlit, docker, static. */
bool hf_space_sdk_valid(const char *sdk);

/* POST /api/repos/create (a Space with its sdk, which it needs; NULL for other types). *existed
 * is set (and HF_OK returned) when the Hub answers 409. */
hf_code hf_hub_create_repo(hf_client *c, const hf_repo *repo, bool is_private,
                           const char *space_sdk, bool *existed, hf_error *err);

/* POST /api/{type}s/{id}/preupload/{rev} for the files not unchanged: sets each one's lfs
 * from the answer's uploadMode. */
hf_code hf_hub_preupload(hf_client *c, const hf_repo *repo, const char *rev, hf_upload_files *f,
                         hf_error *err);

/* One object of an LFS batch answer. */
typedef struct {
    char oid[65];
    long long size;
    bool present;         /* no actions: the Hub has it already */
    char *upload_href;    /* basic: the PUT URL; multipart: the completion URL */
    long long chunk_size; /* multipart: the part size (0 for basic) */
    char **parts;         /* multipart: the part URLs, in order */
    size_t n_parts;
    char *verify_href; /* may be NULL */
} hf_lfs_object;

typedef struct {
    hf_lfs_object *v;
    size_t n;
} hf_lfs_objects;

/* Parses a batch answer: every object's oid and size as asked, URLs that are http(s),
 * multipart parts numbered 00001.. with as many as size / chunk_size make. An object with an
 * `error` fails (HF_EOTHER, its message); anything malformed is HF_EINTEGRITY. */
hf_code hf_lfs_batch_parse(const char *json, size_t len, hf_lfs_objects *out, hf_error *err);
void hf_lfs_objects_free(hf_lfs_objects *o);

/* POST {endpoint}/{prefix}{id}.git/info/lfs/objects/batch for these files (all LFS, at most
 * 1000); out in the same order. */
hf_code hf_lfs_batch(hf_client *c, const hf_repo *repo, const char *rev,
                     const hf_upload_file *const *files, size_t n, hf_lfs_objects *out,
                     hf_error *err);

/* POST {"oid","parts":[{"partNumber","etag"}]} to a multipart completion URL. */
hf_code hf_lfs_complete(hf_client *c, const hf_lfs_object *o, char *const *etags, hf_error *err);
/* POST {"oid","size"} to the verify URL. */
hf_code hf_lfs_verify(hf_client *c, const hf_lfs_object *o, hf_error *err);

typedef struct {
    char commit[41];
    char *commit_url;
    char *pr_url; /* with create_pr */
} hf_commit_answer;

/* Parses the commit call's answer: a 40-hex commitOid, and URLs when given. HF_EINTEGRITY
 * otherwise. */
hf_code hf_commit_answer_parse(const char *json, size_t len, hf_commit_answer *out, hf_error *err);
void hf_commit_answer_free(hf_commit_answer *a);

/* POST /api/{type}s/{id}/commit/{rev}[?create_pr=1] with an NDJSON body: the len bytes of
 * body_fd from offset 0, streamed (regular files go inline, and may add up to more than
 * memory holds). A 412 (the branch moved past parentCommit) or 409 is HF_ECONFLICT; a refused
 * card (400 "Invalid metadata") is HF_EUSAGE. */
hf_code hf_hub_commit(hf_client *c, const hf_repo *repo, const char *rev, bool create_pr,
                      int body_fd, size_t len, hf_commit_answer *out, hf_error *err);

#endif
