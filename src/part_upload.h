/* One PUT of a file's byte range to a pre-signed storage URL, through the transfer engine
 * (transfer.h: its retries and backoff, no token to another origin): the only place uploads
 * send content. */
#ifndef HF_PART_UPLOAD_H
#define HF_PART_UPLOAD_H

#include "http.h"

/* Told how many bytes went out (negative when a retry starts the range again). */
typedef void (*hf_sent_fn)(void *ctx, long long delta);

typedef struct {
    const char *url;  /* pre-signed: the token never goes there unless it is the Hub's origin */
    int fd;           /* the file, read with pread */
    long long offset; /* the range [offset, offset + length) */
    long long length;
    const char *what; /* names it in messages: "model.bin (part 3 of 7)" */
    hf_sent_fn sent;  /* may be NULL */
    void *sent_ctx;
} hf_part;

/* PUTs the range, retrying 408, 429, 5xx and dropped connections (with Retry-After) as the Hub's
 * clients do; *etag gets the answer's ETag without quotes (caller frees; "" when absent).
 * HF_ENETWORK after the retries, HF_EAUTH when storage refuses the signature (*refused set, as
 * the transfer engine judges it: fresh URLs may help), HF_EOTHER for other refusals, HF_EIO when
 * the file cannot be read. */
hf_code hf_part_put(hf_client *c, const hf_part *part, char **etag, bool *refused, hf_error *err);

#endif
