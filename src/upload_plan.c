/* The upload plan: sources walked into repository paths, checked, sorted and hashed. */
#include "upload_plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "hash.h"
#include "pathsafe.h"

#define MAX_DEPTH 64

bool hf_upload_path_ok(const char *path, const char **why) {
    if (!hf_path_is_safe(path, why))
        return false;
    if (strcmp(path, ".git") == 0 || strncmp(path, ".git/", 5) == 0) {
        if (why)
            *why = "nothing may be written under .git/";
        return false;
    }
    return true;
}

static hf_upload_file *add(hf_upload_files *f) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        hf_upload_file *v = realloc(f->v, cap * sizeof *v);
        if (!v)
            return NULL;
        f->v = v;
        f->cap = cap;
    }
    hf_upload_file *u = &f->v[f->n++];
    memset(u, 0, sizeof *u);
    return u;
}

static hf_code add_file(hf_upload_files *f, const char *local, const char *path, long long size,
                        hf_error *err) {
    const char *why;
    if (!hf_upload_path_ok(path, &why))
        return hf_fail(err, HF_EUSAGE, "cannot upload %s as '%s': %s", local, path, why);
    hf_upload_file *u = add(f);
    if (!u || !(u->path = strdup(path)) || !(u->local = strdup(local)))
        return hf_fail(err, HF_EOTHER, "out of memory");
    u->size = size;
    return HF_OK;
}

/* prefix/name, or name when prefix is empty (caller frees). */
static char *join(const char *prefix, const char *name) {
    hf_buf b = {0};
    if (prefix && *prefix)
        hf_buf_addf(&b, "%s/%s", prefix, name);
    else
        hf_buf_adds(&b, name);
    return hf_buf_take(&b);
}

static hf_code walk(hf_upload_files *f, const char *dir, const char *rel, const char *prefix,
                    const hf_filter *filter, int depth, hf_error *err) {
    if (depth > MAX_DEPTH)
        return hf_fail(err, HF_EUSAGE, "%s: folders nested more than %d deep", dir, MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d)
        return hf_fail(err, HF_EIO, "cannot read folder %s: %s", dir, strerror(errno));
    hf_code rc = HF_OK;
    struct dirent *de;
    while (rc == HF_OK && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, ".git") == 0)
            continue;
        char *local = join(dir, name);
        char *r = join(rel, name);
        struct stat st;
        if (!local || !r) {
            rc = hf_fail(err, HF_EOTHER, "out of memory");
        } else if (stat(local, &st) != 0) {
            rc = hf_fail(err, HF_EIO, "cannot read %s: %s", local, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            /* hf-fetch's metadata below a folder it filled is not part of the upload */
            if (strcmp(r, ".cache/huggingface") != 0)
                rc = walk(f, local, r, prefix, filter, depth + 1, err);
        } else if (S_ISREG(st.st_mode) && (!filter || hf_filter_match(filter, r))) {
            char *path = join(prefix, r);
            rc = path ? add_file(f, local, path, st.st_size, err)
                      : hf_fail(err, HF_EOTHER, "out of memory");
            free(path);
        }
        free(local);
        free(r);
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const hf_upload_file *)a)->path, ((const hf_upload_file *)b)->path);
}

/* The '=' of FILE=PATH_IN_REPO: the first one whose left side is an existing file, so that
 * either side may hold '=' (NULL when there is none). */
static const char *split_at(const char *src) {
    const char *first = strchr(src, '=');
    for (const char *eq = first; eq; eq = strchr(eq + 1, '=')) {
        char *local = strndup(src, (size_t)(eq - src));
        struct stat st;
        bool file = local && stat(local, &st) == 0 && S_ISREG(st.st_mode);
        free(local);
        if (file)
            return eq;
    }
    return first;
}

static hf_code one_source(hf_upload_files *f, const char *src, const hf_plan_opts *o,
                          hf_error *err) {
    struct stat st;
    const char *eq = stat(src, &st) != 0 ? split_at(src) : NULL;
    if (eq) {
        /* FILE=PATH_IN_REPO */
        char *local = strndup(src, (size_t)(eq - src));
        char *path = local ? join(o->path_in_repo, eq + 1) : NULL;
        hf_code rc;
        if (!path)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
        else if (stat(local, &st) != 0)
            rc = hf_fail(err, HF_EUSAGE, "cannot read %s: %s", local, strerror(errno));
        else if (!S_ISREG(st.st_mode))
            rc = hf_fail(err, HF_EUSAGE, "%s: FILE=PATH_IN_REPO needs a file", local);
        else
            rc = add_file(f, local, path, st.st_size, err);
        free(local);
        free(path);
        return rc;
    }
    if (stat(src, &st) != 0)
        return hf_fail(err, HF_EUSAGE, "cannot read %s: %s", src, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk(f, src, "", o->path_in_repo, o->filter, 0, err);
    if (!S_ISREG(st.st_mode))
        return hf_fail(err, HF_EUSAGE, "%s is neither a file nor a folder", src);
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    char *path = join(o->path_in_repo, base);
    hf_code rc =
        path ? add_file(f, src, path, st.st_size, err) : hf_fail(err, HF_EOTHER, "out of memory");
    free(path);
    return rc;
}

hf_code hf_upload_plan(const hf_plan_opts *o, hf_upload_files *out, hf_error *err) {
    memset(out, 0, sizeof *out);
    if (o->path_in_repo && *o->path_in_repo) {
        const char *why;
        if (!hf_upload_path_ok(o->path_in_repo, &why))
            return hf_fail(err, HF_EUSAGE, "invalid --path-in-repo '%s': %s", o->path_in_repo, why);
    }
    hf_code rc = HF_OK;
    for (size_t i = 0; rc == HF_OK && i < o->n_sources; i++)
        rc = one_source(out, o->sources[i], o, err);
    if (rc == HF_OK && out->n)
        qsort(out->v, out->n, sizeof *out->v, by_path);
    for (size_t i = 1; rc == HF_OK && i < out->n; i++)
        if (strcmp(out->v[i - 1].path, out->v[i].path) == 0)
            rc = hf_fail(err, HF_EUSAGE, "'%s' would be uploaded twice (from %s and %s)",
                         out->v[i].path, out->v[i - 1].local, out->v[i].local);
    if (rc == HF_OK && out->n == 0)
        rc = hf_fail(err, HF_EUSAGE, "nothing to upload: the sources hold no file%s",
                     o->filter && !hf_filter_is_empty(o->filter) ? " that the patterns take" : "");
    if (rc != HF_OK)
        hf_upload_files_free(out);
    return rc;
}

hf_upload_file *hf_upload_files_find(hf_upload_files *f, const char *path) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].path, path) == 0)
            return &f->v[i];
    return NULL;
}

bool hf_upload_files_put(hf_upload_files *f, const char *path, const char *data, size_t len) {
    hf_upload_file *u = hf_upload_files_find(f, path);
    if (u) {
        free(u->path);
        free(u->local);
        free(u->data);
        memset(u, 0, sizeof *u);
    } else if (!(u = add(f))) {
        return false;
    }
    u->path = strdup(path);
    u->data = malloc(len + 1);
    if (!u->path || !u->data)
        return false;
    memcpy(u->data, data, len);
    u->data[len] = '\0';
    u->size = (long long)len;
    qsort(f->v, f->n, sizeof *f->v, by_path);
    return true;
}

hf_code hf_upload_hash(hf_upload_files *f, hf_error *err) {
    for (size_t i = 0; i < f->n; i++) {
        hf_upload_file *u = &f->v[i];
        if (u->sha256[0])
            continue; /* hashed already */
        if (u->data) {
            hf_hasher *h = hf_hasher_new(u->size);
            bool ok = h && hf_hasher_update(h, u->data, (size_t)u->size) &&
                      hf_hasher_final(h, u->sha256, u->git_oid);
            hf_hasher_free(h);
            if (!ok)
                return hf_fail(err, HF_EOTHER, "cannot hash %s", u->path);
            continue;
        }
        long long seen = 0;
        if (!hf_hash_file(u->local, u->size, u->sha256, u->git_oid, &seen))
            return hf_fail(err, HF_EIO, "cannot read %s (%lld of %lld bytes)%s", u->local, seen,
                           u->size, seen < u->size ? ": it changed while being read" : "");
    }
    return HF_OK;
}

void hf_lfs_pointer_oid(const char *sha256, long long size, char out[41]) {
    char text[160];
    int n = snprintf(text, sizeof text,
                     "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %lld\n",
                     sha256, size);
    char ignored[65];
    hf_hasher *h = hf_hasher_new(n);
    if (!h || !hf_hasher_update(h, text, (size_t)n) || !hf_hasher_final(h, ignored, out))
        out[0] = '\0';
    hf_hasher_free(h);
}

void hf_upload_files_free(hf_upload_files *f) {
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].path);
        free(f->v[i].local);
        free(f->v[i].data);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}
