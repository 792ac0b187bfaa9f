/* The body of the Hub's commit call: NDJSON, one operation per line (header first). */
#ifndef HF_COMMIT_BODY_H
#define HF_COMMIT_BODY_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* {"key":"header","value":{"summary","description","parentCommit"?}} (parent may be NULL). */
hf_code hf_commit_header(hf_buf *b, const char *summary, const char *description,
                         const char *parent, hf_error *err);
/* {"key":"file","value":{"path","content": base64,"encoding":"base64"}} */
hf_code hf_commit_file(hf_buf *b, const char *path, const void *data, size_t len, hf_error *err);
/* The same line a piece at a time, for content read as it goes: begin, then the content in
 * chunks whose lengths are multiples of 3 (but the last), then end. */
hf_code hf_commit_file_begin(hf_buf *b, const char *path, hf_error *err);
hf_code hf_commit_file_chunk(hf_buf *b, const void *data, size_t len, hf_error *err);
hf_code hf_commit_file_end(hf_buf *b, hf_error *err);
/* {"key":"lfsFile","value":{"path","algo":"sha256","oid","size"}} */
hf_code hf_commit_lfs(hf_buf *b, const char *path, const char *sha256, long long size,
                      hf_error *err);
/* {"key":"deletedFile","value":{"path"}} */
hf_code hf_commit_delete(hf_buf *b, const char *path, hf_error *err);

/* Standard base64 with padding (caller frees); NULL when out of memory. */
char *hf_base64(const void *data, size_t len);

#endif
