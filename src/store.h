/* Where fetched files go: a plain folder (files at their repository paths, with the same
 * metadata `hf download --local-dir` keeps) or the Hub's cache layout (blobs named by etag,
 * relative symlinks in snapshots/<commit>/, refs/<revision>), and how a verified download is
 * moved into place. */
#ifndef HF_STORE_H
#define HF_STORE_H

#include <stdbool.h>

#include "beneath.h"
#include "error.h"
#include "lockfile.h"
#include "repo.h"
#include "tree.h"

typedef enum { HF_STORE_DIR, HF_STORE_CACHE } hf_store_kind;

/* When written bytes are made durable. auto: the cache is long-lived, so each blob's bytes
 * are durable before it gets its name (an fsync each; for small files one syncfs for a batch,
 * see hf_store_sync_batch), and one syncfs at the end makes the names durable; a
 * local folder (a job's working folder) is not synced. always: the cache as auto, a local
 * folder with one syncfs at the end. never: nothing is synced. */
typedef enum { HF_SYNC_AUTO, HF_SYNC_ALWAYS, HF_SYNC_NEVER } hf_sync_mode;

/* "auto", "always" or "never"; false for anything else. */
bool hf_sync_parse(const char *text, hf_sync_mode *mode);

typedef struct {
    hf_store_kind kind;
    hf_root root;    /* DIR, or the cache root: every write below it goes through beneath */
    char *repo;      /* cache: the repo's folder below the root (models--org--name); DIR: "" */
    char *files_rel; /* where the files appear, below the root: "" or <repo>/snapshots/<commit> */
    char *files;     /* the same as the user sees it: DIR, or <cache>/<repo>/snapshots/<commit> */
    char commit[41];
    bool symlinks;     /* cache: link snapshots to blobs (else copy) */
    bool verify;       /* hash what is present again instead of trusting it */
    hf_sync_mode sync; /* set after hf_store_open (default auto) */
} hf_store;

/* dir is the local folder (DIR) or the cache root; it is made when create is set (else a
 * missing dir holds nothing). */
hf_code hf_store_open(hf_store *s, hf_store_kind kind, const char *dir, const hf_repo *repo,
                      const char *commit, bool create, hf_error *err);
void hf_store_close(hf_store *s);

/* The etag a file is stored under: the sha256 for LFS files, the git blob sha1 otherwise. */
const char *hf_store_etag(const hf_entry *e);

/* Where a file's parts live below the root (caller frees; NULL when out of memory). Local
 * folders use hf download's names (.cache/huggingface/download/<path>.metadata, <path>.lock,
 * <short hash of the metadata name>.<etag>.incomplete) where they fit in NAME_MAX; a name that
 * would not fit is replaced by its short hash (base64url of its sha1) before the suffix. */
char *hf_store_final_rel(const hf_store *s, const hf_entry *e);
char *hf_store_incomplete_rel(const hf_store *s, const hf_entry *e);
char *hf_store_lock_rel(const hf_store *s, const hf_entry *e);
char *hf_store_metadata_rel(const hf_store *s, const char *path);

/* The file as the user sees it (DIR/path or snapshots/<commit>/path); caller frees. */
char *hf_store_final_path(const hf_store *s, const hf_entry *e);
/* The temporary download as the user sees it (for messages); caller frees. */
char *hf_store_incomplete_path(const hf_store *s, const hf_entry *e);

/* Local folders: a file whose path is .cache, .cache/huggingface or below it would overwrite
 * (or be overwritten by) the metadata kept there: HF_EINTEGRITY naming it. */
hf_code hf_store_check_paths(hf_store_kind kind, const char *dir, const hf_entries *files,
                             hf_error *err);

/* Takes the lock guarding the file's download, once (see lockfile.h). */
hf_code hf_store_lock(const hf_store *s, const hf_entry *e, hf_lock *lock, bool *taken,
                      hf_error *err);

/* Opens (making it when missing) the temporary download, kept across runs for resuming; a
 * link or anything but a regular file found under its name is replaced by a fresh file. */
hf_code hf_store_open_incomplete(const hf_store *s, const hf_entry *e, int *fd, hf_error *err);
/* Removes the temporary download (its bytes are known to be wrong). */
void hf_store_discard_incomplete(const hf_store *s, const hf_entry *e);

/* Whether the file is already there and verified: a regular file (never a link, except the
 * cache's own snapshot links into blobs/) of e's size that is trusted or hashes to what e
 * says (the sha256 when e has one, and the git oid for regular files). Trusted without
 * reading it (unless s->verify): an LFS file in the cache at its blob name (given only to
 * verified bytes, synced first), or in a local folder whose metadata records e's etag with a
 * time stamp no older than the file's mtime. Regular (non-LFS) files are always hashed (the
 * manifest needs their sha256, which neither layout records; the Hub keeps them small). On
 * success sha256 holds the content's sha256, and a cache blob that was present is linked
 * into the snapshot. */
hf_code hf_store_check(const hf_store *s, const hf_entry *e, bool *present, char sha256[65],
                       hf_error *err);

/* Moves a verified download into place (fsync first when the sync mode makes the layout
 * durable and `synced` does not say a hf_store_sync_batch since the last write did it, then
 * rename, then the snapshot link or the local metadata). fd is the descriptor the
 * verified bytes were written to, closed here (its close reports a late write error): the file at
 * the temporary name must still be that file, with e's size, or nothing is moved and *changed is
 * set (another writer touched it: fetch it again). */
hf_code hf_store_commit(const hf_store *s, const hf_entry *e, int fd, bool synced, bool *changed,
                        hf_error *err);

/* Whether hf_store_commit makes a file's bytes durable before naming it (the cache, unless
 * --sync never). Many small files are cheaper to make durable together: one
 * hf_store_sync_batch after they are written, then hf_store_commit with synced set. */
bool hf_store_publishes_durably(const hf_store *s);
/* One syncfs of the store's file system: true when it succeeded (every byte written below the
 * root before it is then durable). */
bool hf_store_sync_batch(const hf_store *s);

/* Local folders: the manifest hf-bundle reads by default (.cache/huggingface/hf-manifest.json). */
hf_code hf_store_write_manifest(const hf_store *s, const char *text, size_t len, hf_error *err);

/* Local folders: the commit, etag and time stamp (seconds since the epoch; NULL when not
 * wanted) the metadata of path records; false when there is none. */
bool hf_store_read_metadata(const hf_store *s, const char *path, char commit[41], char etag[65],
                            double *stamp);

/* x as Python's repr(float) writes it (1732999999.1234567, 1732999999.0, 1e+16): the local
 * metadata's time stamp is read by huggingface_hub. */
void hf_store_float_text(double x, char out[40]);

/* At the end of a run, as the sync mode says: one syncfs of the store's file system (the
 * cache's blob names, links and refs; a local folder's files with --sync always). */
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
