/* Pattern matching over fnmatch(3). */
#include "filter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

bool hf_filter_add(hf_filter *f, bool include, const char *pattern) {
    char ***list = include ? &f->include : &f->exclude;
    size_t *n = include ? &f->n_include : &f->n_exclude;
    size_t len = strlen(pattern);
    bool dir = len > 0 && pattern[len - 1] == '/';
    char *copy = malloc(len + 2);
    char **grown = realloc(*list, (*n + 1) * sizeof *grown);
    if (!copy || !grown) {
        free(copy);
        if (grown)
            *list = grown;
        return false;
    }
    memcpy(copy, pattern, len);
    copy[len] = dir ? '*' : '\0';
    copy[len + 1] = '\0';
    *list = grown;
    (*list)[(*n)++] = copy;
    return true;
}

void hf_filter_free(hf_filter *f) {
    for (size_t i = 0; i < f->n_include; i++)
        free(f->include[i]);
    for (size_t i = 0; i < f->n_exclude; i++)
        free(f->exclude[i]);
    free(f->include);
    free(f->exclude);
    memset(f, 0, sizeof *f);
}

static bool any_match(char **patterns, size_t n, const char *path) {
    for (size_t i = 0; i < n; i++)
        if (fnmatch(patterns[i], path, 0) == 0)
            return true;
    return false;
}

bool hf_filter_match(const hf_filter *f, const char *path) {
    if (f->n_include && !any_match(f->include, f->n_include, path))
        return false;
    return !any_match(f->exclude, f->n_exclude, path);
}

bool hf_filter_is_empty(const hf_filter *f) {
    return f->n_include == 0 && f->n_exclude == 0;
}
