/* hf-bundle's direct mode: from the Hub into the archive, verified on the way, with the
 * small regular files spooled first so that the manifest can lead the archive. */
#ifndef HF_BUNDLE_HUB_H
#define HF_BUNDLE_HUB_H

#include "bundle.h"

/* Direct mode: revision resolved to its commit, the tree listed at the commit and filtered,
 * then every file fetched at the commit into the archive. As the manifest comes first and
 * needs the sha256 of every file, the regular (non-LFS) files, small by nature, are fetched
 * first (into memory up to HF_BUNDLE_SPOOL_MEM bytes in all, beyond that into an unlinked
 * temporary file next to the output) and checked against their git blob ids; the LFS files
 * then stream straight into their entries, checked against the listing's sha256 on the way.
 * Any mismatch is HF_EINTEGRITY and removes the partial archive. The manifest records
 * tool hf-bundle, no fetched_at (it would change every run) and commit_date. The entries'
 * time is o->mtime, else the commit's date (the Hub's lastModified at the commit), else 0. */
#define HF_BUNDLE_SPOOL_MEM (64ll << 20)
hf_code hf_bundle_hub(hf_client *c, const hf_repo *repo, const char *revision,
                      const hf_filter *filter, const char *output, const hf_bundle_opts *o,
                      hf_bundle_result *res, hf_error *err);

#endif
