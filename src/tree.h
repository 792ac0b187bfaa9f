/* Tree entries: the Hub's listing of a repository's files and folders at a commit. */
#ifndef HF_TREE_H
#define HF_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct {
    char *path;
    long long size;
    bool is_dir;
    bool lfs;
    char git_oid[41]; /* git blob sha1 (of the pointer text for LFS files); "" when absent */
    char sha256[65];  /* LFS files: sha256 of the content; "" otherwise */
} hf_entry;

typedef struct {
    hf_entry *v;
    size_t n, cap;
} hf_entries;

/* Parses one page of a tree answer (a JSON array) and appends its entries. Every path must
 * pass hf_path_is_safe; oids, sizes and LFS data must be well-formed: anything else is
 * HF_EINTEGRITY, naming the entry. */
hf_code hf_tree_parse(const char *json, size_t len, hf_entries *out, hf_error *err);
/* The same, handing every entry to sink (its path lives until sink returns); a sink that
 * returns false stops the parse with HF_EOTHER, out of memory. */
typedef bool (*hf_entry_sink)(void *ctx, const hf_entry *e);
/* The sink that appends to an hf_entries (ctx). */
bool hf_entries_sink(void *entries, const hf_entry *e);
hf_code hf_tree_parse_each(const char *json, size_t len, hf_entry_sink sink, void *ctx,
                           hf_error *err);

/* A sorted list of paths however it is stored: path(list, i, &is_dir) is the i-th. */
typedef struct {
    size_t n;
    const char *(*path)(const void *list, size_t i, bool *is_dir);
    const void *list;
} hf_path_list;
/* Refuses, in a sorted list, what no tree can hold (HF_EINTEGRITY): a path listed twice (as
 * files, folders or one of each), and a file with anything below it ('a' and 'a/b', at any
 * depth). The one check of every listing, whatever holds it. */
hf_code hf_tree_check(const hf_path_list *l, hf_error *err);

/* Sorts by path (bytewise), then hf_tree_check. */
hf_code hf_entries_sort(hf_entries *e, hf_error *err);
/* True when some path of a sorted list starts with the n bytes of dir followed by '/'. */
bool hf_entries_has_below(const hf_entries *e, const char *dir, size_t n);
/* Appends a copy of an entry; false when out of memory. */
bool hf_entries_push(hf_entries *e, const hf_entry *entry);
void hf_entries_free(hf_entries *e);
/* The entry with this path in a sorted list, or NULL. */
const hf_entry *hf_entries_find(const hf_entries *e, const char *path);

#endif
