/* Where fetched files go: a plain folder (files at their repository paths, with the same
 * metadata `hf download --local-dir` keeps) or the Hub's cache layout (blobs named by etag,
 * relative symlinks in snapshots/<commit>/, refs/<revision>), and how a verified download is
 * moved into place. */
#ifndef HF_STORE_H
#define HF_STORE_H

#include <stdbool.h>

#include "error.h"
#include "repo.h"
#include "tree.h"

typedef enum { HF_STORE_DIR, HF_STORE_CACHE } hf_store_kind;

typedef struct {
    hf_store_kind kind;
    char *root;     /* DIR, or the repo's cache folder <cache>/models--org--name */
    char *lockdir;  /* DIR/.cache/huggingface/download, or <cache>/.locks/models--org--name */
    char *files;    /* where the files appear: DIR, or <repo folder>/snapshots/<commit> */
    char commit[41];
    bool symlinks; /* cache: link snapshots to blobs (else copy) */
} hf_store;

/* dir is the local folder (DIR) or the cache root. */
hf_code hf_store_open(hf_store *s, hf_store_kind kind, const char *dir, const hf_repo *repo,
                      const char *commit, hf_error *err);
void hf_store_close(hf_store *s);

/* The etag a file is stored under: the sha256 for LFS files, the git blob sha1 otherwise. */
const char *hf_store_etag(const hf_entry *e);

/* The file as the user sees it (DIR/path or snapshots/<commit>/path); caller frees. */
char *hf_store_final_path(const hf_store *s, const hf_entry *e);
/* The temporary download (kept across runs for resuming); caller frees. */
char *hf_store_incomplete_path(const hf_store *s, const hf_entry *e);
/* The lock guarding the download; caller frees. */
char *hf_store_lock_path(const hf_store *s, const hf_entry *e);

/* Whether the file is already there and verified: its content hashes to what e says (the
 * sha256 when e has one, and the git oid for regular files). On success sha256 holds the
 * content's sha256, and a cache blob that was present is linked into the snapshot. */
hf_code hf_store_check(const hf_store *s, const hf_entry *e, bool *present, char sha256[65],
                       hf_error *err);

/* Moves a verified download from incomplete into place (rename, then the snapshot link or
 * the local metadata). */
hf_code hf_store_commit(const hf_store *s, const hf_entry *e, const char *incomplete,
                        hf_error *err);

/* Flushes what was written below the store to its disk (one syncfs instead of an fsync per
 * file: files found after a crash are verified again before they are trusted). */
void hf_store_sync(const hf_store *s);

/* Cache: refs/<revision> = commit (nothing for a revision that is itself the commit). */
hf_code hf_store_write_ref(const hf_store *s, const char *revision, hf_error *err);

/* Cache: the commit refs/<revision> names, for offline use; HF_ENOTFOUND when absent. */
hf_code hf_store_read_ref(const char *cache_dir, const hf_repo *repo, const char *revision,
                          char commit[41], hf_error *err);

/* The default cache root: $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub,
 * $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub (caller frees). */
char *hf_store_default_cache(void);

#endif
