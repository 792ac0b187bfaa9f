/* Listing output, written as it goes: no tree of the whole listing is built in memory. */
#include "listing.h"

#include <stdlib.h>
#include <string.h>

static size_t count(const hf_listing *l) {
    return l->compact ? l->compact->n : l->entries->n;
}

static void entry_at(const hf_listing *l, size_t i, hf_entry *e) {
    if (l->compact)
        hf_compact_get(l->compact, i, e);
    else
        *e = l->entries->v[i];
}

int hf_listing_write_tsv(FILE *f, const hf_listing *l) {
    fprintf(f, "# repo_id=%s\trepo_type=%s\trevision=%s\tcommit=%s\n", l->repo.id,
            hf_repo_type_name(l->repo.type), l->revision, l->commit);
    fputs("#path\tsize\tlfs\tsha256\tgit_oid\n", f);
    for (size_t i = 0, n = count(l); i < n; i++) {
        hf_entry e;
        entry_at(l, i, &e);
        fprintf(f, "%s%s\t%lld\t%s\t%s\t%s\n", e.path, e.is_dir ? "/" : "", e.is_dir ? 0LL : e.size,
                e.lfs ? "true" : "false", e.sha256, e.git_oid);
    }
    return ferror(f) ? -1 : 0;
}

/* A JSON string as jansson writes it (the same escapes), or -1 when s is not UTF-8. */
static int put_string(FILE *f, const char *s, const char *suffix) {
    json_t *v = json_string(s);
    char buf[512];
    size_t n = v ? json_dumpb(v, buf, sizeof buf, JSON_ENCODE_ANY) : 0;
    int rc = 0;
    if (!v) {
        rc = -1;
    } else if (n <= sizeof buf) {
        if (fwrite(buf, 1, n, f) != n)
            rc = -1;
    } else {
        rc = json_dumpf(v, f, JSON_ENCODE_ANY); /* a long path: no size limit */
    }
    json_decref(v);
    if (rc == 0 && suffix && fputs(suffix, f) == EOF)
        rc = -1;
    return rc;
}

/* "key": "value",\n with the indentation of jansson's JSON_INDENT(2). */
static int put_field(FILE *f, const char *indent, const char *key, const char *value,
                     const char *after) {
    fprintf(f, "%s\"%s\": ", indent, key);
    return value ? put_string(f, value, after) : (fprintf(f, "null%s", after) < 0 ? -1 : 0);
}

int hf_listing_write_json(FILE *f, const hf_listing *l) {
    int rc = 0;
    fputs("{\n", f);
    rc |= put_field(f, "  ", "repo_id", l->repo.id, ",\n");
    rc |= put_field(f, "  ", "repo_type", hf_repo_type_name(l->repo.type), ",\n");
    rc |= put_field(f, "  ", "revision", l->revision, ",\n");
    rc |= put_field(f, "  ", "commit", l->commit, ",\n");
    rc |= put_field(f, "  ", "endpoint", l->endpoint, ",\n");
    size_t n = count(l);
    fputs(n ? "  \"files\": [\n" : "  \"files\": []\n", f);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        hf_entry e;
        entry_at(l, i, &e);
        fputs("    {\n", f);
        if (e.is_dir) { /* folders end in '/' */
            size_t len = strlen(e.path);
            char *path = malloc(len + 2);
            if (path) {
                memcpy(path, e.path, len);
                memcpy(path + len, "/", 2);
            }
            rc |= path ? put_field(f, "      ", "path", path, ",\n") : -1;
            free(path);
        } else {
            rc |= put_field(f, "      ", "path", e.path, ",\n");
        }
        fprintf(f, "      \"size\": %lld,\n      \"lfs\": %s,\n", e.is_dir ? 0LL : e.size,
                e.lfs ? "true" : "false");
        rc |= put_field(f, "      ", "sha256", e.lfs ? e.sha256 : NULL, ",\n");
        rc |= put_field(f, "      ", "git_oid", e.git_oid[0] ? e.git_oid : NULL, "\n");
        fputs(i + 1 < n ? "    },\n" : "    }\n  ]\n", f);
    }
    fputs("}\n", f);
    return rc != 0 || ferror(f) ? -1 : 0;
}

int hf_json_write(FILE *f, json_t *v) {
    if (json_dumpf(v, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF)
        return -1;
    return ferror(f) ? -1 : 0;
}

int hf_json_put(FILE *f, json_t *v) {
    int w = v ? hf_json_write(f, v) : -1;
    json_decref(v);
    return w;
}
