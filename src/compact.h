/* A compact store of tree entries for listings of any size: packed records in one arena (about
 * 60 bytes an entry, hashes in binary) and an index sorted by path. */
#ifndef HF_COMPACT_H
#define HF_COMPACT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "tree.h"

typedef struct {
    unsigned char *arena;
    size_t len, cap;
    size_t *index; /* offsets of the records in the arena */
    size_t n, ncap;
} hf_compact;

/* Appends a copy of an entry; false when out of memory. Usable as an hf_entry_sink. */
bool hf_compact_add(void *compact, const hf_entry *e);
/* Sorts the index by path (bytewise), then hf_tree_check. */
hf_code hf_compact_sort(hf_compact *c, hf_error *err);
/* Keeps, in order, the entries for which keep(ctx, e) is true. */
void hf_compact_keep(hf_compact *c, bool (*keep)(void *ctx, const hf_entry *e), void *ctx);
/* The i-th entry, unpacked into e (whose path points into the arena). */
void hf_compact_get(const hf_compact *c, size_t i, hf_entry *e);
void hf_compact_free(hf_compact *c);

#endif
