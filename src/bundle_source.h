/* A SOURCE folder (hf-fetch's --local-dir, or a snapshot folder of the cache) checked against
 * its manifest: the walk, the symlink boundary, missing, extra and resized files. */
#ifndef HF_BUNDLE_SOURCE_H
#define HF_BUNDLE_SOURCE_H

#include <stdbool.h>

#include "error.h"
#include "log.h"
#include "manifest.h"

/* The manifest's name in a bundle, and at the top of a --local-dir SOURCE. */
#define HF_BUNDLE_MANIFEST_NAME "hf-manifest.json"

typedef struct {
    char *root;     /* SOURCE, resolved */
    char *boundary; /* where symlinks may point: root, or the repository's cache folder */
    char **real;    /* for each file of the manifest (same index): the resolved path to read */
    size_t n;
    long long bytes; /* total size of the manifest's files */
} hf_source;

/* The manifest hf-fetch left in source: source/hf-manifest.json (an extracted archive) or
 * source/.cache/huggingface/hf-manifest.json (a --local-dir), a regular file (caller frees).
 * NULL, with why, when there is neither, when there are both (one of them is then a file of
 * the repository), or when source is a cache snapshot (all its files are the repository's). */
char *hf_source_find_manifest(const char *source, const char **why);

/* Walks source and checks it against m, without reading any content: every file of the
 * manifest must be there, a regular file or a symlink to one, of the manifest's size; a
 * symlink must resolve inside the boundary (SOURCE itself, or the repository's cache folder
 * when SOURCE is a .../snapshots/COMMIT folder, whose commit and repository must be the
 * manifest's); files the manifest does not list are refused unless allow_extra (they are then
 * left out). `.cache/huggingface/` and a top-level hf-manifest.json are never part of the
 * snapshot, nor is the file `ignore` names (the output, say; may be NULL). Each problem is
 * logged as a warning; the error (HF_EINTEGRITY) counts them and names the first. */
hf_code hf_source_check(const char *source, const hf_manifest *m, bool allow_extra,
                        const char *ignore, const hf_logger *log, hf_source *out, hf_error *err);
void hf_source_free(hf_source *s);

#endif
