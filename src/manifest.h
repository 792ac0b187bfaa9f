/* The provenance manifest: what was fetched, from where, at which commit, with which hashes.
 * hf-fetch writes it, --lock and hf-bundle read it. */
#ifndef HF_MANIFEST_H
#define HF_MANIFEST_H

#include <jansson.h>

#include "error.h"
#include "repo.h"
#include "tree.h"

typedef struct {
    char *repo_id;
    hf_repo_type repo_type;
    char *revision;
    char commit[41];
    char *commit_date; /* ISO 8601, the commit's date on the Hub (lastModified); may be NULL */
    char *endpoint;
    hf_entries files; /* sorted by path; sha256 set for every file, LFS or not */
    char *tool_name;
    char *tool_version;
    char *fetched_at; /* UTC, ISO 8601 */
} hf_manifest;

/* Reads and checks a manifest: a valid repo id and type, a 40-hex commit, safe unique paths,
 * sizes, 64-hex sha256 and 40-hex git oids for every file. A manifest that fails is
 * HF_EUSAGE (it is the user's input), naming what is wrong. */
hf_code hf_manifest_parse(const char *json, size_t len, hf_manifest *m, hf_error *err);
hf_code hf_manifest_read(const char *path, hf_manifest *m, hf_error *err);

/* The JSON object, keys in a fixed order: repo_id, repo_type, revision, commit, commit_date,
 * endpoint, files [{path, size, lfs, sha256, git_oid, url}], tool {name, version}, fetched_at. The url
 * is the resolve URL at the commit (never carrying a token). */
json_t *hf_manifest_json(const hf_manifest *m);

/* Writes the manifest to path atomically ("-" for stdout). */
hf_code hf_manifest_write(const hf_manifest *m, const char *path, hf_error *err);

void hf_manifest_free(hf_manifest *m);

/* Now, as 2026-11-26T10:00:00Z. */
void hf_utc_now(char out[21]);

#endif
