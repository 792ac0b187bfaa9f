/* Listing output. */
#include "listing.h"

#include <stdlib.h>
#include <string.h>

json_t *hf_entry_json(const hf_entry *e) {
    char *path = NULL;
    if (e->is_dir) {
        size_t n = strlen(e->path);
        path = malloc(n + 2);
        if (!path)
            return NULL;
        memcpy(path, e->path, n);
        memcpy(path + n, "/", 2);
    }
    json_t *o = json_pack("{s:s, s:I, s:b, s:o, s:o}", "path", path ? path : e->path, "size",
                          (json_int_t)(e->is_dir ? 0 : e->size), "lfs", e->lfs, "sha256",
                          e->lfs ? json_string(e->sha256) : json_null(), "git_oid",
                          e->git_oid[0] ? json_string(e->git_oid) : json_null());
    free(path);
    return o;
}

json_t *hf_listing_json(const hf_listing *l) {
    json_t *files = json_array();
    for (size_t i = 0; files && i < l->entries->n; i++) {
        if (json_array_append_new(files, hf_entry_json(&l->entries->v[i])) != 0) {
            json_decref(files);
            return NULL;
        }
    }
    if (!files)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "repo_id", l->repo.id, "repo_type",
                     hf_repo_type_name(l->repo.type), "revision", l->revision, "commit", l->commit,
                     "endpoint", l->endpoint, "files", files);
}

int hf_listing_write_tsv(FILE *f, const hf_listing *l) {
    fprintf(f, "# repo_id=%s\trepo_type=%s\trevision=%s\tcommit=%s\n", l->repo.id,
            hf_repo_type_name(l->repo.type), l->revision, l->commit);
    fputs("#path\tsize\tlfs\tsha256\tgit_oid\n", f);
    for (size_t i = 0; i < l->entries->n; i++) {
        const hf_entry *e = &l->entries->v[i];
        fprintf(f, "%s%s\t%lld\t%s\t%s\t%s\n", e->path, e->is_dir ? "/" : "",
                e->is_dir ? 0LL : e->size, e->lfs ? "true" : "false", e->sha256, e->git_oid);
    }
    return ferror(f) ? -1 : 0;
}

int hf_json_write(FILE *f, json_t *v) {
    if (json_dumpf(v, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF)
        return -1;
    return ferror(f) ? -1 : 0;
}
