/* hf-bundle's flows: a checked SOURCE folder, or the Hub itself, into a deterministic archive
 * with its manifest; and the --verify and --list of such an archive. */
#ifndef HF_BUNDLE_H
#define HF_BUNDLE_H

#include <jansson.h>
#include <stdbool.h>

#include "bundle_archive.h"
#include "error.h"
#include "filter.h"
#include "http.h"
#include "log.h"
#include "manifest.h"
#include "repo.h"

/* Direct mode (from the Hub) is in bundle_hub.h. An archive holds, in this order:
 * PREFIX/hf-manifest.json, PREFIX/ro-crate-metadata.json (with --ro-crate), then every file of the
 * manifest as PREFIX/PATH, sorted by path, each after the entries of its folders. */

typedef struct {
    hf_archive_format format;
    int level;          /* -1: the format's default */
    int threads;        /* zstd workers */
    const char *prefix; /* NULL: NAME-SHORTCOMMIT; "": entries at the top */
    bool ro_crate;
    bool allow_extra; /* SOURCE: leave out the files the manifest does not list */
    long long mtime;  /* >= 0: the time of every entry (SOURCE_DATE_EPOCH); < 0: the commit's */
    bool sync;        /* --sync: the archive is durable (fsync) before its rename */
    hf_logger log;
} hf_bundle_opts;

typedef struct {
    char commit[41];
    char *prefix; /* as used ("" for none) */
    size_t files;
    long long bytes;
    long long mtime;
    bool date_known; /* false: neither SOURCE_DATE_EPOCH nor a commit date: 1970-01-01 */
} hf_bundle_result;

void hf_bundle_result_free(hf_bundle_result *r);

/* SOURCE mode. manifest NULL: the one hf-fetch left in source (hf_source_find_manifest). The
 * manifest is stored as it is (byte for byte); SOURCE is checked with hf_source_check, then
 * every file is hashed as it is written and a file whose sha256 (or git blob id) differs from
 * the manifest's is HF_EINTEGRITY, naming it, with no archive left behind. The entries' time
 * is o->mtime, else the manifest's commit_date, else 0. */
hf_code hf_bundle_source(const char *source, const char *manifest, const char *output,
                         const hf_bundle_opts *o, hf_bundle_result *res, hf_error *err);

/* --verify: every entry of the archive against the manifest inside it. fn is called for every
 * file (problem NULL when it matches) and for every difference: a changed file, a missing or
 * extra entry, a repeated entry, an entry of another type, a ro-crate-metadata.json that
 * disagrees. A damaged archive stops the check. Returns HF_EINTEGRITY when anything differs
 * (the message counts the differences). m, when given, receives the manifest. */
typedef void (*hf_verify_fn)(void *ctx, const char *path, const char *problem);
hf_code hf_bundle_verify(const char *archive, hf_verify_fn fn, void *ctx, hf_manifest *m,
                         size_t *files, hf_error *err);

/* --list: the manifest and the entries, without reading their data. */
typedef struct {
    char *path;
    hf_archive_type type;
    long long size;
    long long mtime;
    int mode;
} hf_bundle_item;

typedef struct {
    hf_manifest m;
    char *prefix;
    char *commit_date; /* may be NULL */
    hf_bundle_item *items;
    size_t n, cap;
} hf_bundle_listing;

hf_code hf_bundle_list(const char *archive, hf_bundle_listing *out, hf_error *err);
void hf_bundle_listing_free(hf_bundle_listing *l);

/* ---- shared by the flows ---- */

/* prefix when given (checked with hf_path_is_safe, trailing '/' dropped; "" kept), else the
 * repository's name and the first 12 hex digits of the commit: "tiny-model-0123456789ab". */
hf_code hf_bundle_prefix(const hf_manifest *m, const char *prefix, char **out, hf_error *err);
/* "PREFIX/path", or path when prefix is "" (caller frees). */
char *hf_bundle_entry_name(const char *prefix, const char *path);
/* ISO 8601 UTC ("2024-02-01T12:30:00.000Z", "+00:00" or another offset) to seconds. */
bool hf_bundle_parse_time(const char *iso, long long *out);
/* The same as text: 2024-02-01T12:30:00Z. */
void hf_bundle_format_time(long long t, char out[32]);
/* What both flows settle from a manifest before writing: names checked, the prefix, the
 * commit, the file count and the entries' time (o->mtime, else the manifest's commit_date,
 * else 0 with date_known false). */
hf_code hf_bundle_settle(const hf_manifest *m, const hf_bundle_opts *o, hf_bundle_result *res,
                         hf_error *err);
/* Refuses a manifest whose files would collide with the bundle's own entries. */
hf_code hf_bundle_check_names(const hf_manifest *m, bool ro_crate, hf_error *err);
/* Writes the manifest text and, with ro_crate, the RO-Crate metadata (card may be NULL). */
hf_code hf_bundle_write_head(hf_archive_writer *w, const char *prefix, const hf_manifest *m,
                             const char *manifest_text, size_t len, bool ro_crate,
                             const json_t *card, long long date, hf_error *err);
/* The card data of a README.md's bytes, or NULL (unusual YAML is logged, never fatal). */
json_t *hf_bundle_card(const char *readme, size_t len, const hf_logger *log);

#endif
