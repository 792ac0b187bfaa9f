/* Tree answer parsing, with jansson, and the entry list. */
#include "tree.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pathsafe.h"
#include "repo.h"
#include "secret.h"

bool hf_entries_push(hf_entries *e, const hf_entry *entry) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        hf_entry *v = realloc(e->v, cap * sizeof *v);
        if (!v)
            return false;
        e->v = v;
        e->cap = cap;
    }
    hf_entry copy = *entry;
    copy.path = strdup(entry->path);
    if (!copy.path)
        return false;
    e->v[e->n++] = copy;
    return true;
}

void hf_entries_free(hf_entries *e) {
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].path);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const hf_entry *)a)->path, ((const hf_entry *)b)->path);
}

/* path compared with the n bytes of dir followed by '/', as strcmp would. */
static int cmp_folder(const char *path, const char *dir, size_t n) {
    int c = strncmp(path, dir, n);
    if (c) /* equal: path has n bytes before its end, since dir has no NUL among them */
        return c;
    return (int)(unsigned char)path[n] - '/';
}

static bool paths_have_below(const hf_path_list *l, const char *dir, size_t n) {
    /* the first path >= "dir/" in the sorted list: below dir when it starts with "dir/" */
    size_t lo = 0, hi = l->n;
    bool is_dir;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_folder(l->path(l->list, mid, &is_dir), dir, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const char *p = lo < l->n ? l->path(l->list, lo, &is_dir) : NULL;
    return p && strncmp(p, dir, n) == 0 && p[n] == '/';
}

hf_code hf_tree_check(const hf_path_list *l, hf_error *err) {
    bool is_dir;
    for (size_t i = 1; i < l->n; i++) {
        const char *p = l->path(l->list, i, &is_dir);
        if (strcmp(l->path(l->list, i - 1, &is_dir), p) == 0)
            return hf_fail(err, HF_EINTEGRITY, "the server listed '%s' twice", p);
    }
    /* a file is a leaf: a listing with 'a' a file and anything below 'a/' cannot be a tree */
    for (size_t i = 0; i < l->n; i++) {
        const char *p = l->path(l->list, i, &is_dir);
        if (!is_dir && paths_have_below(l, p, strlen(p)))
            return hf_fail(err, HF_EINTEGRITY,
                           "inconsistent listing from the server: '%s' is a file and a folder", p);
    }
    return HF_OK;
}

static const char *entry_path(const void *list, size_t i, bool *is_dir) {
    const hf_entry *e = &((const hf_entries *)list)->v[i];
    *is_dir = e->is_dir;
    return e->path;
}

bool hf_entries_has_below(const hf_entries *e, const char *dir, size_t n) {
    hf_path_list l = {e->n, entry_path, e};
    return paths_have_below(&l, dir, n);
}

hf_code hf_entries_sort(hf_entries *e, hf_error *err) {
    if (e->n)
        qsort(e->v, e->n, sizeof *e->v, by_path);
    hf_path_list l = {e->n, entry_path, e};
    return hf_tree_check(&l, err);
}

const hf_entry *hf_entries_find(const hf_entries *e, const char *path) {
    hf_entry key = {.path = (char *)path};
    return e->n ? bsearch(&key, e->v, e->n, sizeof *e->v, by_path) : NULL;
}

/* A size: a JSON integer from 0 to 2^53. */
static bool get_size(json_t *v, long long *out) {
    if (!json_is_integer(v))
        return false;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > (1LL << 53))
        return false;
    *out = n;
    return true;
}

static hf_code bad(hf_error *err, size_t i, const char *what) {
    return hf_fail(err, HF_EINTEGRITY, "malformed tree listing from the server: entry %zu: %s",
                   i + 1, what);
}

static hf_code parse_entry(json_t *o, size_t i, hf_entry *e, hf_error *err) {
    memset(e, 0, sizeof *e);
    if (!json_is_object(o))
        return bad(err, i, "not an object");
    json_t *type = json_object_get(o, "type");
    json_t *path = json_object_get(o, "path");
    if (!json_is_string(type) || !json_is_string(path))
        return bad(err, i, "no type or path");
    const char *p = json_string_value(path);
    const char *why;
    if (strlen(p) != json_string_length(path) || !hf_path_is_safe(p, &why))
        return hf_fail(err, HF_EINTEGRITY, "unsafe path in the server's listing (%s): refused",
                       strlen(p) != json_string_length(path) ? "NUL byte" : why);
    e->path = (char *)p;
    e->is_dir = strcmp(json_string_value(type), "file") != 0;
    json_t *oid = json_object_get(o, "oid");
    if (json_is_string(oid) && hf_is_hex(json_string_value(oid), 40))
        memcpy(e->git_oid, json_string_value(oid), 41);
    else if (!e->is_dir || oid)
        return bad(err, i, "oid is not a 40-digit hex string");
    if (e->is_dir)
        return HF_OK;
    if (!get_size(json_object_get(o, "size"), &e->size))
        return bad(err, i, "size is not a non-negative integer");
    json_t *lfs = json_object_get(o, "lfs");
    if (lfs && !json_is_null(lfs)) {
        json_t *sha = json_object_get(lfs, "oid");
        long long lfs_size;
        if (!json_is_string(sha) || !hf_is_hex(json_string_value(sha), 64))
            return bad(err, i, "lfs.oid is not a 64-digit hex sha256");
        if (!get_size(json_object_get(lfs, "size"), &lfs_size))
            return bad(err, i, "lfs.size is not a non-negative integer");
        if (lfs_size != e->size)
            return bad(err, i, "lfs.size differs from size");
        memcpy(e->sha256, json_string_value(sha), 65);
        e->lfs = true;
    }
    return HF_OK;
}

bool hf_entries_sink(void *entries, const hf_entry *e) {
    return hf_entries_push(entries, e);
}

hf_code hf_tree_parse(const char *json, size_t len, hf_entries *out, hf_error *err) {
    return hf_tree_parse_each(json, len, hf_entries_sink, out, err);
}

hf_code hf_tree_parse_each(const char *json, size_t len, hf_entry_sink sink, void *ctx,
                           hf_error *err) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return hf_fail(err, HF_EINTEGRITY, "malformed tree listing from the server: %s (line %d)",
                       jerr.text, jerr.line);
    hf_code rc = HF_OK;
    if (hf_secret_in_json(root)) {
        rc = hf_fail(err, HF_EINTEGRITY,
                     "the server's tree listing holds the access token: refused (it would reach "
                     "the listing, the manifest or a file name)");
    } else if (!json_is_array(root)) {
        rc = hf_fail(err, HF_EINTEGRITY, "malformed tree listing from the server: not an array");
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(root, i, o) {
            hf_entry e;
            if ((rc = parse_entry(o, i, &e, err)) != HF_OK)
                break;
            if (!sink(ctx, &e)) {
                rc = hf_fail(err, HF_EOTHER, "out of memory");
                break;
            }
        }
    }
    json_decref(root);
    return rc;
}
