/* Packed tree entries: flags, size, binary hashes and the path, in one arena. */
#include "compact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "repo.h"

/* A record: flags (1 byte), size (8 bytes, native order), the git oid (20 bytes) when
 * F_OID, the sha256 (32 bytes) when F_LFS, then the path and its NUL. Unaligned: read
 * with memcpy. */
enum { F_DIR = 1, F_LFS = 2, F_OID = 4 };

static void to_binary(const char *hex, unsigned char *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + k];
            v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
        }
        out[i] = (unsigned char)v;
    }
}

static size_t header_len(unsigned char flags) {
    return 1 + 8 + (flags & F_OID ? 20 : 0) + (flags & F_LFS ? 32 : 0);
}

static const char *path_of(const hf_compact *c, size_t off) {
    return (const char *)c->arena + off + header_len(c->arena[off]);
}

/* Grows *buf to hold need bytes (doubling; large blocks grow by mremap, without a copy). */
static bool reserve(void **buf, size_t *cap, size_t need, size_t unit) {
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 4096 / unit;
    while (n < need)
        n *= 2;
    void *grown = realloc(*buf, n * unit);
    if (!grown)
        return false;
    *buf = grown;
    *cap = n;
    return true;
}

bool hf_compact_add(void *compact, const hf_entry *e) {
    hf_compact *c = compact;
    unsigned char flags = (unsigned char)((e->is_dir ? F_DIR : 0) | (e->lfs ? F_LFS : 0) |
                                          (hf_is_hex(e->git_oid, 40) ? F_OID : 0));
    size_t plen = strlen(e->path) + 1, need = header_len(flags) + plen;
    if (!reserve((void **)&c->arena, &c->cap, c->len + need, 1) ||
        !reserve((void **)&c->index, &c->ncap, c->n + 1, sizeof *c->index))
        return false;
    unsigned char *p = c->arena + c->len;
    int64_t size = e->size;
    *p++ = flags;
    memcpy(p, &size, 8);
    p += 8;
    if (flags & F_OID) {
        to_binary(e->git_oid, p, 20);
        p += 20;
    }
    if (flags & F_LFS) {
        to_binary(e->sha256, p, 32);
        p += 32;
    }
    memcpy(p, e->path, plen);
    c->index[c->n++] = c->len;
    c->len += need;
    return true;
}

/* qsort has no context argument: the arena being sorted, one sort at a time. */
static _Thread_local const hf_compact *sorting;

static int by_path(const void *a, const void *b) {
    return strcmp(path_of(sorting, *(const size_t *)a), path_of(sorting, *(const size_t *)b));
}

static const char *list_path(const void *list, size_t i, bool *is_dir) {
    const hf_compact *c = list;
    *is_dir = c->arena[c->index[i]] & F_DIR;
    return path_of(c, c->index[i]);
}

hf_code hf_compact_sort(hf_compact *c, hf_error *err) {
    sorting = c;
    if (c->n)
        qsort(c->index, c->n, sizeof *c->index, by_path);
    sorting = NULL;
    hf_path_list l = {c->n, list_path, c};
    return hf_tree_check(&l, err);
}

void hf_compact_get(const hf_compact *c, size_t i, hf_entry *e) {
    const unsigned char *p = c->arena + c->index[i];
    unsigned char flags = *p++;
    int64_t size;
    memcpy(&size, p, 8);
    p += 8;
    memset(e, 0, sizeof *e);
    e->size = size;
    e->is_dir = flags & F_DIR;
    e->lfs = flags & F_LFS;
    if (flags & F_OID) {
        hf_hex(p, 20, e->git_oid);
        p += 20;
    }
    if (flags & F_LFS) {
        hf_hex(p, 32, e->sha256);
        p += 32;
    }
    e->path = (char *)p;
}

void hf_compact_keep(hf_compact *c, bool (*keep)(void *ctx, const hf_entry *e), void *ctx) {
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        hf_entry e;
        hf_compact_get(c, i, &e);
        if (keep(ctx, &e))
            c->index[kept++] = c->index[i];
    }
    c->n = kept;
}

void hf_compact_free(hf_compact *c) {
    free(c->arena);
    free(c->index);
    memset(c, 0, sizeof *c);
}
