/* Walking a snapshot or a local folder for --offline. */
#include "offline.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fsutil.h"
#include "repo.h"

/* The git oid of an LFS file is the blob sha1 of its pointer text. */
static void pointer_oid(const char *sha256, long long size, char out[41]) {
    char text[200], header[40];
    int n = snprintf(text, sizeof text,
                     "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %lld\n",
                     sha256, size);
    int h = snprintf(header, sizeof header, "blob %d", n);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha1(), NULL);
    EVP_DigestUpdate(c, header, (size_t)h + 1);
    EVP_DigestUpdate(c, text, (size_t)n);
    EVP_DigestFinal_ex(c, d, &dn);
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < dn; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* An entry for a file stored under etag (64 hex: LFS, 40 hex: regular). */
static bool entry_for(const char *rel, const char *etag, long long size, hf_entry *e) {
    memset(e, 0, sizeof *e);
    e->path = (char *)rel;
    e->size = size;
    if (hf_is_hex(etag, 64)) {
        e->lfs = true;
        memcpy(e->sha256, etag, 65);
        pointer_oid(etag, size, e->git_oid);
        return true;
    }
    if (hf_is_hex(etag, 40)) {
        memcpy(e->git_oid, etag, 41);
        return true;
    }
    return false;
}

typedef struct {
    const hf_store *s;
    hf_entries *out;
    hf_error *err;
} walk_ctx;

static hf_code walk(walk_ctx *w, const char *dir, const char *rel) {
    DIR *d = opendir(dir);
    if (!d)
        return hf_fail(w->err, errno == ENOENT ? HF_ENOTFOUND : HF_EIO, "cannot read %s: %s", dir,
                       strerror(errno));
    hf_code rc = HF_OK;
    struct dirent *de;
    while (rc == HF_OK && (de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (!*rel && w->s->kind == HF_STORE_DIR && !strcmp(name, ".cache"))
            continue; /* the local metadata */
        if (strstr(name, ".tmp-") || !strncmp(name, ".hf-tmp-", 8) ||
            !strncmp(name, ".hf-link-", 9))
            continue; /* a link or copy being put in place */
        char *full = hf_path_join(dir, name);
        char *sub = *rel ? hf_path_join(rel, name) : strdup(name);
        struct stat lst, st;
        if (!full || !sub) {
            rc = hf_fail(w->err, HF_EOTHER, "out of memory");
        } else if (lstat(full, &lst) != 0) {
            rc = hf_fail(w->err, HF_EIO, "cannot read %s: %s", full, strerror(errno));
        } else if (S_ISDIR(lst.st_mode)) {
            rc = walk(w, full, sub);
        } else if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            char etag[65] = "", commit[41] = "";
            if (S_ISLNK(lst.st_mode)) {
                char target[4096];
                ssize_t n = readlink(full, target, sizeof target - 1);
                if (n > 0) {
                    target[n] = '\0';
                    const char *base = strrchr(target, '/');
                    base = base ? base + 1 : target;
                    if (strlen(base) < sizeof etag)
                        memcpy(etag, base, strlen(base) + 1);
                }
            } else if (w->s->kind == HF_STORE_DIR) {
                if (!hf_store_read_metadata(w->s, sub, commit, etag, NULL) ||
                    strcmp(commit, w->s->commit) != 0)
                    etag[0] = '\0'; /* not from this commit: not offered */
            }
            hf_entry e;
            if (etag[0] && entry_for(sub, etag, st.st_size, &e) && !hf_entries_push(w->out, &e))
                rc = hf_fail(w->err, HF_EOTHER, "out of memory");
        }
        free(full);
        free(sub);
    }
    closedir(d);
    return rc;
}

hf_code hf_offline_list(const hf_store *s, hf_entries *out, hf_error *err) {
    walk_ctx w = {s, out, err};
    hf_code rc = walk(&w, s->files, "");
    if (rc == HF_ENOTFOUND)
        return hf_fail(err, HF_ENOTFOUND, "commit %s is not in %s (offline: nothing is fetched)",
                       s->commit, s->files);
    return rc;
}

hf_code hf_offline_dir_commit(const char *dir, char commit[41], hf_error *err) {
    char *mdir = hf_path_join(dir, ".cache/huggingface/download");
    if (!mdir)
        return hf_fail(err, HF_EOTHER, "out of memory");
    /* breadth is enough: the first metadata file found names the commit */
    hf_code rc = hf_fail(err, HF_ENOTFOUND,
                         "%s holds no files fetched earlier (offline: nothing is fetched)", dir);
    char *stack[64];
    int top = 0;
    stack[top++] = mdir;
    while (top > 0) {
        char *cur = stack[--top];
        DIR *d = opendir(cur);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *full = hf_path_join(cur, de->d_name);
            size_t n = strlen(de->d_name);
            struct stat st;
            if (full && n > 9 && !strcmp(de->d_name + n - 9, ".metadata")) {
                char *data = NULL;
                size_t len;
                if (hf_read_file(full, 4096, &data, &len, NULL) == HF_OK &&
                    sscanf(data, "%40s", commit) == 1 && hf_is_commit(commit)) {
                    rc = HF_OK;
                    hf_error_clear(err);
                }
                free(data);
            } else if (full && top < 64 && lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
                stack[top++] = full;
                full = NULL;
            }
            free(full);
            if (rc == HF_OK)
                break;
        }
        if (d)
            closedir(d);
        free(cur);
        if (rc == HF_OK) {
            while (top > 0)
                free(stack[--top]);
        }
    }
    return rc;
}
