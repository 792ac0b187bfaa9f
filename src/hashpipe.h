/* Hashing bytes on a second thread as they pass through: the caller reads into the pipe's
 * buffers, hands each over and writes it on; the hasher runs beside it, so a file is read
 * once and its sha256 overlaps the copy instead of following it. */
#ifndef HF_HASHPIPE_H
#define HF_HASHPIPE_H

#include <stddef.h>

#include "hash.h"

typedef struct hf_hashpipe hf_hashpipe;

/* Starts the thread, with `slots` buffers of `size` bytes; NULL when it cannot (callers then
 * hash inline). */
hf_hashpipe *hf_hashpipe_new(size_t slots, size_t size);
/* Stops and joins the thread (after hf_hashpipe_end). */
void hf_hashpipe_free(hf_hashpipe *p);
size_t hf_hashpipe_size(const hf_hashpipe *p);

/* Starts a file: the bytes handed over from now on go to h. */
void hf_hashpipe_begin(hf_hashpipe *p, hf_hasher *h);
/* The next buffer to fill (hf_hashpipe_size bytes); waits while every one is being hashed. It
 * stays the caller's to read from until it asks for another. */
unsigned char *hf_hashpipe_buffer(hf_hashpipe *p);
/* Hands over the first n bytes of the last buffer. */
void hf_hashpipe_push(hf_hashpipe *p, size_t n);
/* Waits until every byte handed over is hashed and gives the hasher back. */
hf_hasher *hf_hashpipe_end(hf_hashpipe *p);

#endif
