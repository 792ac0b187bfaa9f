/* The tree listing (one page of GET /api/{type}s/{id}/tree/...): hf_tree_parse, then the sort
 * and lookup the tools run on what it returns. Every accepted entry must satisfy what the
 * rest of the code relies on: a safe path, well-formed hashes and sizes; an accepted listing
 * is a tree (no file with entries below it). */
#include "compact.h"
#include "fuzz.h"
#include "pathsafe.h"
#include "repo.h"
#include "tree.h"

static void check_entry(const hf_entry *e) {
    FUZZ_CHECK(e->path && hf_path_is_safe(e->path, NULL));
    FUZZ_CHECK(e->git_oid[0] == '\0' ? e->is_dir : hf_is_hex(e->git_oid, 40));
    FUZZ_CHECK(e->size >= 0 && e->size <= (1LL << 53));
    if (e->lfs) {
        FUZZ_CHECK(!e->is_dir && hf_is_hex(e->sha256, 64));
    } else {
        FUZZ_CHECK(e->sha256[0] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    hf_entries all = {0};
    hf_error err = {0};
    hf_code rc = hf_tree_parse((const char *)data, size, &all, &err);
    fuzz_check_error(&err, rc);
    if (rc == HF_OK) {
        size_t n = all.n;
        for (size_t i = 0; i < n; i++)
            check_entry(&all.v[i]);
        /* a second page with the same entries: appended, then the duplicates are refused */
        hf_error err2 = {0};
        FUZZ_CHECK(hf_tree_parse((const char *)data, size, &all, &err2) == HF_OK);
        FUZZ_CHECK(all.n == 2 * n);
        hf_error err3 = {0};
        hf_code src = hf_entries_sort(&all, &err3);
        fuzz_check_error(&err3, src);
        FUZZ_CHECK(n == 0 ? src == HF_OK : src == HF_EINTEGRITY);
    } else {
        FUZZ_CHECK(rc == HF_EINTEGRITY || rc == HF_EOTHER);
    }
    hf_entries_free(&all);

    /* the page alone: sorted, every entry found again, and a tree: no file has anything below
     * it (checked naively here); a refusal as "a file and a folder" names a real clash */
    hf_entries one = {0};
    hf_error e1 = {0};
    hf_compact packed = {0}; /* hf-list's store: the same entries, order and verdict */
    if (hf_tree_parse_each((const char *)data, size, hf_compact_add, &packed, &e1) == HF_OK &&
        hf_tree_parse((const char *)data, size, &one, &e1) == HF_OK) {
        hf_error e2 = {0};
        hf_code psrc = hf_compact_sort(&packed, &e2);
        hf_code src = hf_entries_sort(&one, &e1);
        FUZZ_CHECK(psrc == src && packed.n == one.n);
        for (size_t i = 0; src == HF_OK && i < one.n; i++) {
            hf_entry got;
            hf_compact_get(&packed, i, &got);
            FUZZ_CHECK(strcmp(got.path, one.v[i].path) == 0 && got.size == one.v[i].size &&
                       got.is_dir == one.v[i].is_dir && got.lfs == one.v[i].lfs &&
                       strcmp(got.git_oid, one.v[i].git_oid) == 0 &&
                       strcmp(got.sha256, one.v[i].sha256) == 0);
        }
        bool clash = false;
        for (size_t i = 0; i < one.n && one.n <= 512; i++) {
            size_t n = strlen(one.v[i].path);
            for (size_t j = 0; j < one.n && !one.v[i].is_dir; j++)
                if (strncmp(one.v[j].path, one.v[i].path, n) == 0 && one.v[j].path[n] == '/')
                    clash = true;
        }
        if (src == HF_OK) {
            FUZZ_CHECK(!clash);
            for (size_t i = 0; i < one.n; i++) {
                if (i > 0)
                    FUZZ_CHECK(strcmp(one.v[i - 1].path, one.v[i].path) < 0);
                FUZZ_CHECK(hf_entries_find(&one, one.v[i].path) == &one.v[i]);
            }
        } else if (strstr(e1.msg, "is a file and a folder") && one.n <= 512) {
            FUZZ_CHECK(clash);
        }
    }
    hf_entries_free(&one);
    hf_compact_free(&packed);
    return 0;
}
