/* Include and exclude patterns, read as `hf download` reads them. */
#ifndef HF_FILTER_H
#define HF_FILTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **include;
    size_t n_include;
    char **exclude;
    size_t n_exclude;
} hf_filter;

/* Adds a pattern (copied; a trailing '/' means everything below). False when out of memory. */
bool hf_filter_add(hf_filter *f, bool include, const char *pattern);
void hf_filter_free(hf_filter *f);

/* fnmatch(3) without flags: case-sensitive and '*' crosses '/'. A path is taken when it
 * matches some include (or there are none) and no exclude. */
bool hf_filter_match(const hf_filter *f, const char *path);
bool hf_filter_is_empty(const hf_filter *f);

#endif
