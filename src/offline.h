/* What a store already holds, for --offline: the files of a snapshot (or of a local folder),
 * known from the cache's blob names or the local metadata, without asking any server. */
#ifndef HF_OFFLINE_H
#define HF_OFFLINE_H

#include "error.h"
#include "store.h"
#include "tree.h"

/* Lists the files the store has at its commit, with the etag each was stored under (the
 * sha256 of LFS files, the git oid of the others) as what they are verified against. The
 * local metadata of a folder must name the store's commit. Entries come unsorted. */
hf_code hf_offline_list(const hf_store *s, hf_entries *out, hf_error *err);

/* Cache: the commit every file of a local folder was fetched at (from its metadata), for
 * --offline --local-dir without a commit. HF_ENOTFOUND when there is none. */
hf_code hf_offline_dir_commit(const char *dir, char commit[41], hf_error *err);

#endif
