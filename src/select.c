/* File selection. */
#include "select.h"

#include <string.h>

hf_code hf_select(const hf_entries *all, const hf_filter *filter, char *const *paths,
                  size_t n_paths, const char *where, hf_entries *out, hf_error *err) {
    for (size_t i = 0; i < n_paths; i++) {
        const hf_entry *e = NULL;
        for (size_t k = 0; k < all->n && !e; k++)
            if (!all->v[k].is_dir && strcmp(all->v[k].path, paths[i]) == 0)
                e = &all->v[k];
        if (!e)
            return hf_fail(err, HF_ENOTFOUND, "'%s' not found in %s", paths[i], where);
        if (!hf_entries_find(out, e->path) && !hf_entries_push(out, e))
            return hf_fail(err, HF_EOTHER, "out of memory");
        hf_code rc = hf_entries_sort(out, err);
        if (rc != HF_OK)
            return rc;
    }
    if (n_paths == 0) {
        for (size_t k = 0; k < all->n; k++)
            if (!all->v[k].is_dir && hf_filter_match(filter, all->v[k].path) &&
                !hf_entries_push(out, &all->v[k]))
                return hf_fail(err, HF_EOTHER, "out of memory");
    }
    return hf_entries_sort(out, err);
}
