/* Which files of a listing to fetch: explicit paths (which take precedence, as with
 * `hf download`), else include and exclude patterns. */
#ifndef HF_SELECT_H
#define HF_SELECT_H

#include <stddef.h>

#include "error.h"
#include "filter.h"
#include "tree.h"

/* Appends to out the files (never folders) of all that are named in paths (each must exist:
 * HF_ENOTFOUND naming the first that does not, `where` saying where it was looked for), or,
 * with no paths, those the filter takes. out comes sorted. */
hf_code hf_select(const hf_entries *all, const hf_filter *filter, char *const *paths,
                  size_t n_paths, const char *where, hf_entries *out, hf_error *err);

#endif
