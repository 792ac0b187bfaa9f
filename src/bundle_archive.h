/* Deterministic archives over libarchive: the formats, fixed entry metadata, the temporary
 * file renamed into place, and reading the entries of an archive back. */
#ifndef HF_BUNDLE_ARCHIVE_H
#define HF_BUNDLE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef enum { HF_FMT_TAR, HF_FMT_TGZ, HF_FMT_TZST, HF_FMT_ZIP } hf_archive_format;

/* "tar", "tgz" (or "tar.gz"), "tar.zst" (or "tzst"), "zip". */
bool hf_archive_format_parse(const char *name, hf_archive_format *out);
/* From the output's name: .tar, .tar.gz or .tgz, .tar.zst or .tzst, .zip. */
bool hf_archive_format_from_path(const char *path, hf_archive_format *out);
const char *hf_archive_format_name(hf_archive_format f);
/* The levels a format takes: gzip and zip 0-9, zstd 1-22; false for tar (no compression). */
bool hf_archive_level_range(hf_archive_format f, int *lo, int *hi);

typedef struct {
    hf_archive_format format;
    int level;       /* -1: the format's default (gzip 6, zstd 3, zip deflate 6) */
    int threads;     /* zstd worker threads; values < 1 are taken as 1 (the bytes do not depend
                        on the number of workers) */
    long long mtime; /* the time of every entry, seconds since the epoch */
    bool sync;       /* fsync the archive, and its folder after the rename (--sync) */
} hf_archive_opts;

/* The zstd workers worth starting for about `bytes` of input: one per 8 MiB job, at most
 * `threads` (more would only hold memory; the bytes written do not depend on it). */
int hf_archive_workers(int threads, long long bytes);

/* Every entry gets mode 0644 (files) or 0755 (folders), owner and group 0 with no names, the
 * mtime of the options and no other time; tar is POSIX pax (restricted: plain ustar headers,
 * an extended header only for long or non-ASCII names and files of 8 GiB or more, names in
 * UTF-8), gzip carries no time stamp or name, zip names are flagged UTF-8. Zip stores
 * MS-DOS times in local time: for the same bytes on every machine the caller runs with TZ
 * set to UTC (hf-bundle's main does). Names are written in UTF-8 whatever the locale. */
typedef struct hf_archive_writer hf_archive_writer;

/* Starts writing to a temporary file next to path (path.tmp-PID-N, created exclusively). */
hf_code hf_archive_create(const char *path, const hf_archive_opts *o, hf_archive_writer **out,
                          hf_error *err);
/* Begins a file entry of `size` bytes named `name` (a safe relative path), after the entries
 * of any of its folders not written yet. Entries are expected in sorted order. */
hf_code hf_archive_begin_file(hf_archive_writer *w, const char *name, long long size,
                              hf_error *err);
/* Adds bytes to the current entry; more than its size is refused (HF_EINTEGRITY). */
hf_code hf_archive_write(hf_archive_writer *w, const void *data, size_t len, hf_error *err);
/* Ends the current entry; fewer bytes than its size is HF_EINTEGRITY. */
hf_code hf_archive_end_file(hf_archive_writer *w, hf_error *err);
/* A whole file from memory. */
hf_code hf_archive_add_bytes(hf_archive_writer *w, const char *name, const void *data, size_t len,
                             hf_error *err);
/* Finishes the archive, renames it over path (with o.sync: fsync before, the folder's after);
 * frees w. */
hf_code hf_archive_commit(hf_archive_writer *w, hf_error *err);
/* Drops the temporary file; frees w (NULL is fine). */
void hf_archive_abort(hf_archive_writer *w);
/* The temporary file's name (to keep it out of a folder walk, say). */
const char *hf_archive_tmp_path(const hf_archive_writer *w);

/* Reading any archive hf-bundle writes (tar, tar.gz, tar.zst, zip). */
typedef struct hf_archive_reader hf_archive_reader;

typedef enum { HF_AE_FILE, HF_AE_DIR, HF_AE_OTHER } hf_archive_type;

typedef struct {
    const char *path; /* UTF-8, valid until the next call */
    hf_archive_type type;
    long long size;
    long long mtime;
    int mode;
} hf_archive_entry;

/* A missing or unreadable file is HF_EUSAGE; what libarchive cannot recognise as one of the
 * formats is HF_EUSAGE too. */
hf_code hf_archive_open_read(const char *path, hf_archive_reader **out, hf_error *err);
/* The next entry's header; *end is set after the last. A damaged archive is HF_EINTEGRITY. */
hf_code hf_archive_next(hf_archive_reader *r, hf_archive_entry *e, bool *end, hf_error *err);
/* Reads up to cap bytes of the current entry's data; *got is 0 at its end. */
hf_code hf_archive_read(hf_archive_reader *r, void *buf, size_t cap, size_t *got, hf_error *err);
void hf_archive_close_read(hf_archive_reader *r);

#endif
