/* Repository identity: type, id and revision, validated as the Hub validates them. */
#ifndef HF_REPO_H
#define HF_REPO_H

#include <stdbool.h>

#include "error.h"

typedef enum { HF_MODEL, HF_DATASET, HF_SPACE } hf_repo_type;

typedef struct {
    hf_repo_type type;
    const char *id; /* "name" or "owner/name", not owned */
} hf_repo;

/* "model", "dataset", "space" (also the plural forms) */
bool hf_repo_type_parse(const char *s, hf_repo_type *out);
const char *hf_repo_type_name(hf_repo_type t);       /* "model" */
const char *hf_repo_type_api(hf_repo_type t);        /* "models" */
const char *hf_repo_type_url_prefix(hf_repo_type t); /* "", "datasets/", "spaces/" */

/* The Hub's rules: `name` or `owner/name` of letters, digits, - _ .; at most 96 characters;
 * no `--` or `..`; no leading or trailing `-` or `.` in either part. */
hf_code hf_repo_id_check(const char *id, hf_error *err);

/* A branch, tag, commit or refs/pr/N: git's ref-name rules, no control characters. */
hf_code hf_revision_check(const char *rev, hf_error *err);

/* True for a full commit id: 40 lowercase hex digits. */
bool hf_is_commit(const char *s);
/* True for n lowercase hex digits and nothing more. */
bool hf_is_hex(const char *s, int n);

/* The cache folder name of a repo, "models--owner--name" (caller frees). */
char *hf_repo_cache_name(const hf_repo *repo);

#endif
