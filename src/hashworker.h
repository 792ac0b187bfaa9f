/* Hashing large downloads on a second thread: the worker reads back, from the page cache,
 * what the transfer thread has written and hashes it, so the sha256 of a big file overlaps
 * the network and the disk instead of following them. */
#ifndef HF_HASHWORKER_H
#define HF_HASHWORKER_H

#include <stdbool.h>

#include "hash.h"

typedef struct hf_hashworker hf_hashworker;
typedef struct hf_hashtrack hf_hashtrack;

/* Starts the worker thread; NULL when it cannot (callers then hash inline). */
hf_hashworker *hf_hashworker_new(void);
/* Stops and joins the worker; every track must be finished or cancelled first. */
void hf_hashworker_free(hf_hashworker *w);

/* Hands h over to the worker, which hashes fd's bytes from offset `hashed` on, as far as
 * hf_hashtrack_written says they go. fd must stay open until the track ends. */
hf_hashtrack *hf_hashworker_track(hf_hashworker *w, int fd, hf_hasher *h, long long hashed);
/* The file got data appended (len bytes, written at its end): kept in memory when there is
 * room, so the worker hashes them without reading the file back; the worker is woken once
 * per MiB. */
void hf_hashtrack_feed(hf_hashtrack *t, const void *data, size_t len);
/* The file now holds `written` bytes. */
void hf_hashtrack_written(hf_hashtrack *t, long long written);
/* The file was truncated to 0: hashing starts over with `fresh` (the old hasher is freed). */
void hf_hashtrack_reset(hf_hashtrack *t, hf_hasher *fresh);
/* Waits until every written byte is hashed, ends the track and gives the hasher back; *ok is
 * false when reading the file back failed. */
hf_hasher *hf_hashtrack_finish(hf_hashtrack *t, bool *ok);
/* Ends the track at once (after any chunk being hashed) and gives the hasher back. */
hf_hasher *hf_hashtrack_cancel(hf_hashtrack *t);

#endif
