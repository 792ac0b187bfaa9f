/* A download's file written in large batches and hashed on a second thread as it is written:
 * the transfer hands over its (small) pieces, they are gathered into the hash pipe's buffers,
 * and each full buffer is written to the file and then hashed from memory beside the next
 * one. So a large file costs one write(2) per buffer, the digest is never read back from the
 * disk, and the transfer waits only when the hash falls a few buffers behind. */
#ifndef HF_HASHWRITER_H
#define HF_HASHWRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "hash.h"

typedef struct hf_hashwriter hf_hashwriter;

/* Starts writing at fd's offset `have` (h has hashed the file's first `have` bytes); NULL
 * when no thread or memory is to be had (callers then write and hash inline). */
hf_hashwriter *hf_hashwriter_new(int fd, hf_hasher *h, long long have);
/* Appends bytes: false (errno set) when a write of the file failed. */
bool hf_hashwriter_append(hf_hashwriter *w, const void *data, size_t len);
/* The file was truncated to 0: what was gathered and not written is dropped, and hashing
 * starts over with `fresh` (the old hasher is freed). */
void hf_hashwriter_reset(hf_hashwriter *w, hf_hasher *fresh);
/* Writes what is gathered, waits for the hash and gives the hasher back; the writer is freed.
 * false (errno set) when that last write failed. */
bool hf_hashwriter_finish(hf_hashwriter *w, hf_hasher **h);
/* Ends at once: what is gathered is dropped (the file holds exactly the bytes hashed); the
 * hasher is given back and the writer freed. */
hf_hasher *hf_hashwriter_cancel(hf_hashwriter *w);

#endif
