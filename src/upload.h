/* The upload flow: hash, compare with the branch head, card, preupload, LFS, one commit,
 * and the manifest of that commit. */
#ifndef HF_UPLOAD_H
#define HF_UPLOAD_H

#include <jansson.h>
#include <stdbool.h>

#include "fetch.h"
#include "filter.h"
#include "http.h"
#include "hub_write.h"
#include "manifest.h"
#include "repo.h"
#include "upload_plan.h"

typedef struct {
    hf_client *client;
    const hf_repo *repo;
    const char *revision; /* the branch */
    hf_plan_opts plan;
    const hf_filter *deletes; /* --delete patterns (as includes), may be NULL */
    bool create, is_private, pr, dry_run, no_card;
    const char *space_sdk;      /* a Space to create: its SDK */
    const char *message;        /* NULL: "Upload N files with hf-upload" */
    const char *description;    /* may be NULL */
    const char *parent_commit;  /* may be NULL */
    const json_t *card;         /* --card metadata, or NULL */
    const hf_manifest *sources; /* --card-source manifests */
    size_t n_sources;
    const char *const *tags; /* added to the card's tags */
    size_t n_tags;
    bool want_card; /* fill card_kept when README.md is left as it is */
    int jobs;
    const char *tool_name, *tool_version;
    hf_fetch_progress_fn progress;
    void *progress_ctx;
} hf_upload_opts;

typedef struct {
    hf_upload_files files; /* the plan: each file's mode, and whether it is unchanged */
    char **deleted;        /* paths deleted by the commit */
    size_t n_deleted;
    char head[41];  /* the branch head the plan was compared with ("" when new) */
    bool created;   /* the repository was created by this run */
    bool committed; /* false: nothing changed (or a dry run) */
    hf_commit_answer answer;
    size_t lfs_sent; /* LFS objects sent (those the Hub lacked) */
    long long lfs_bytes;
    char *card;           /* the README.md this run writes, or NULL */
    char *card_kept;      /* with want_card: the README.md left as it is, or NULL */
    hf_manifest manifest; /* of the new commit, or of the head when nothing changed */
} hf_upload_result;

/* Runs the flow. Everything that can be refused locally (sources, paths, card metadata, a
 * missing token) is, before any request. One commit or none: LFS objects first, then the
 * commit call with the compared head as parentCommit; a failure at any step leaves the
 * branch as it was. */
hf_code hf_upload_run(const hf_upload_opts *o, hf_upload_result *r, hf_error *err);
void hf_upload_result_free(hf_upload_result *r);

#endif
