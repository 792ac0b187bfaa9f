/* ro-crate-metadata.json (RO-Crate 1.1) describing a bundle as a Dataset. */
#ifndef HF_BUNDLE_ROCRATE_H
#define HF_BUNDLE_ROCRATE_H

#include <jansson.h>

#include "manifest.h"

#define HF_ROCRATE_NAME "ro-crate-metadata.json"

typedef struct {
    const hf_manifest *m;      /* the files, the repository and the commit */
    const char *manifest_name; /* the manifest's name in the crate (hf-manifest.json) */
    long long manifest_size;   /* ... its size and sha256 */
    const char *manifest_sha256;
    const json_t *card; /* the model card's front matter, or NULL */
    long long date;     /* the commit's date (seconds), or < 0 when unknown */
} hf_rocrate_in;

/* The metadata document, as UTF-8 text with two-space indentation and a final newline (caller
 * frees; NULL when out of memory). The root Dataset ("./") has the name the card gives (else
 * the repository id), a description, datePublished (the commit's date, when known), license
 * (from the card, when it names any), isBasedOn the Hub URL of the repository at the commit,
 * version (the commit) and hasPart: the manifest and every file, each a File with its
 * contentSize and sha256. Ids are paths relative to the crate's root, percent-encoded. */
char *hf_rocrate_build(const hf_rocrate_in *in);

/* The repository's web page at the commit: {endpoint}/{prefix}{id}/tree/{commit} (the Hub's
 * endpoint when the manifest has none). Caller frees. */
char *hf_rocrate_repo_url(const hf_manifest *m);

#endif
