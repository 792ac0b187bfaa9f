/* File system helpers: folders, atomic writes, whole-file reads. */
#ifndef HF_FSUTIL_H
#define HF_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Writes all of data to fd (again after EINTR and short writes); false with errno set
 * (ENOSPC for a write that wrote nothing) when it could not. */
bool hf_write_all(int fd, const void *data, size_t len);

/* mkdir -p (mode 0755 before umask). */
hf_code hf_mkdirs(const char *path, hf_error *err);
/* mkdir -p of the folder that will hold path. */
hf_code hf_mkparent(const char *path, hf_error *err);

/* Writes data to a fresh temporary name beside path (in the folder the user named, never
 * through a link there) then renames it over path: readers see all or nothing. */
hf_code hf_write_atomic(const char *path, const void *data, size_t len, hf_error *err);

/* The same without the fsyncs: atomic for readers, not durable across a crash (for metadata
 * that is checked or made again). */
hf_code hf_write_replace(const char *path, const void *data, size_t len, hf_error *err);

/* Reads a whole (small) file, at most max bytes, NUL-terminated. */
hf_code hf_read_file(const char *path, size_t max, char **data, size_t *len, hf_error *err);

/* Reads what is left of an open file, at most max bytes, NUL-terminated. */
hf_code hf_read_fd(int fd, size_t max, char **data, size_t *len, hf_error *err);

/* path joined to a relative name (caller frees). */
char *hf_path_join(const char *dir, const char *name);

#endif
