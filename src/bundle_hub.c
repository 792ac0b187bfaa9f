/* Direct mode: listing, spooling the regular files, streaming the LFS files. */
#include "bundle_hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "beneath.h"
#include "hash.h"
#include "store.h"
#include "transfer.h"
#include "url.h"

#define MAX_README (16ll << 20)

/* Where the regular files wait: memory up to HF_BUNDLE_SPOOL_MEM bytes, then an unlinked
 * temporary file next to the output. */
typedef struct {
    bool in_mem;
    long long off;
} spool_item;

typedef struct {
    char *mem;
    size_t len, cap;
    int fd;
    long long fd_len;
    const char *near; /* the output path, whose folder takes the temporary file */
    spool_item cur;
} spool;

static hf_code spool_file(spool *s, hf_error *err) {
    s->fd = hf_beneath_scratch(s->near);
    if (s->fd < 0)
        return hf_fail(err, HF_EIO, "cannot create a temporary file beside %s: %s", s->near,
                       strerror(errno));
    return HF_OK;
}

/* Starts an item of `size` bytes. */
static hf_code spool_begin(spool *s, long long size, hf_error *err) {
    if ((long long)s->len + size <= HF_BUNDLE_SPOOL_MEM) {
        if (s->len + (size_t)size > s->cap) {
            size_t cap = s->cap ? s->cap : 1 << 16;
            while (cap < s->len + (size_t)size)
                cap *= 2;
            char *grown = realloc(s->mem, cap);
            if (!grown)
                return hf_fail(err, HF_EOTHER, "out of memory");
            s->mem = grown;
            s->cap = cap;
        }
        s->cur = (spool_item){true, (long long)s->len};
        return HF_OK;
    }
    if (s->fd < 0) {
        hf_code rc = spool_file(s, err);
        if (rc != HF_OK)
            return rc;
    }
    s->cur = (spool_item){false, s->fd_len};
    return HF_OK;
}

static hf_code spool_sink(void *ctx, const void *data, size_t len, hf_error *err) {
    spool *s = ctx;
    if (s->cur.in_mem) {
        memcpy(s->mem + s->len, data, len); /* room was made by spool_begin */
        s->len += len;
        return HF_OK;
    }
    const char *p = data;
    while (len > 0) {
        ssize_t n = pwrite(s->fd, p, len, (off_t)s->fd_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hf_fail(err, HF_EIO, "cannot write the spool file: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
        s->fd_len += n;
    }
    return HF_OK;
}

/* Undoes the current item (before a retry from zero, or after a failure). */
static void spool_drop(spool *s) {
    if (s->cur.in_mem)
        s->len = (size_t)s->cur.off;
    else
        s->fd_len = s->cur.off;
}

/* Copies an item into the archive's current entry. */
static hf_code spool_copy(spool *s, const spool_item *it, long long size, hf_archive_writer *w,
                          hf_error *err) {
    if (it->in_mem)
        return size ? hf_archive_write(w, s->mem + it->off, (size_t)size, err) : HF_OK;
    char buf[1 << 16];
    long long done = 0;
    while (done < size) {
        size_t want = size - done < (long long)sizeof buf ? (size_t)(size - done) : sizeof buf;
        ssize_t n = pread(s->fd, buf, want, (off_t)(it->off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return hf_fail(err, HF_EIO, "cannot read the spool file: %s",
                           n < 0 ? strerror(errno) : "too short");
        hf_code rc = hf_archive_write(w, buf, (size_t)n, err);
        if (rc != HF_OK)
            return rc;
        done += n;
    }
    return HF_OK;
}

/* An item's bytes in memory (copied when spooled to the file); caller frees. */
static char *spool_bytes(spool *s, const spool_item *it, long long size) {
    char *p = malloc((size_t)size + 1);
    if (!p)
        return NULL;
    if (it->in_mem) {
        memcpy(p, s->mem + it->off, (size_t)size);
    } else if (pread(s->fd, p, (size_t)size, (off_t)it->off) != (ssize_t)size) {
        free(p);
        return NULL;
    }
    p[size] = '\0';
    return p;
}

static hf_code archive_sink(void *ctx, const void *data, size_t len, hf_error *err) {
    return hf_archive_write(ctx, data, len, err);
}

/* Where a file's bytes go: hashed, then to the archive or the spool. */
typedef struct {
    hf_hasher *h;
    hf_code (*sink)(void *ctx, const void *data, size_t len, hf_error *err);
    void *ctx;
} hashed_sink;

static hf_code hash_then_sink(void *ctx, const void *data, size_t len, hf_error *err) {
    hashed_sink *hs = ctx;
    if (!hf_hasher_update(hs->h, data, len))
        return hf_fail(err, HF_EOTHER, "hashing failed");
    return hs->sink(hs->ctx, data, len, err);
}

/* Fetches one file into sink through the transfer engine (which resumes from the byte
 * reached: an archive cannot take bytes back), checked: LFS content against the listing's
 * sha256, regular content against its git blob id; sha256 receives the content's sha256. */
static hf_code fetch(hf_client *c, CURL *easy, const hf_repo *repo, const char *commit,
                     const char *revision, const hf_entry *e,
                     hf_code (*sink)(void *, const void *, size_t, hf_error *), void *ctx,
                     char sha256[65], hf_error *err) {
    char *url = hf_url_resolve(hf_client_endpoint(c), repo, commit, e->path);
    hf_hasher *h = e->lfs ? hf_hasher_new_sha256(e->size) : hf_hasher_new(e->size);
    hf_req_ctx rctx = {repo->id, revision, e->path, false};
    hashed_sink hs = {h, sink, ctx};
    hf_xfer_opts xo = {.client = c,
                       .url = url,
                       .kind = HF_REQ_FILE,
                       .size = e->size,
                       .ctx = &rctx,
                       .commit = commit,
                       .what = e->path,
                       .sink = {hash_then_sink, NULL, &hs}};
    hf_xfer x;
    hf_code rc = url && h ? hf_xfer_init(&x, &xo, err) : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK) {
        rc = hf_xfer_run(&x, easy, err);
        hf_xfer_free(&x);
    }
    char oid[41];
    if (rc == HF_OK && !hf_hasher_final(h, sha256, oid))
        rc = hf_fail(err, HF_EINTEGRITY, "%s: %lld bytes instead of %lld", e->path,
                     hf_hasher_seen(h), e->size);
    if (rc == HF_OK && e->lfs && strcmp(sha256, e->sha256) != 0)
        rc = hf_fail(err, HF_EINTEGRITY,
                     "%s: the content's sha256 is %s, the listing says %s: refused", e->path,
                     sha256, e->sha256);
    if (rc == HF_OK && !e->lfs && strcmp(oid, e->git_oid) != 0)
        rc = hf_fail(err, HF_EINTEGRITY,
                     "%s: the content's git blob id is %s, the listing says %s: refused", e->path,
                     oid, e->git_oid);
    hf_hasher_free(h);
    free(url);
    return rc;
}

hf_code hf_bundle_hub(hf_client *c, const hf_repo *repo, const char *revision,
                      const hf_filter *filter, const char *output, const hf_bundle_opts *o,
                      hf_bundle_result *res, hf_error *err) {
    memset(res, 0, sizeof *res);
    hf_repo_info info = {0};
    hf_entries all = {0};
    hf_manifest m = {0};
    spool sp = {.fd = -1, .near = output};
    spool_item *items = NULL;
    char *text = NULL;
    json_t *card = NULL;
    hf_archive_writer *w = NULL;
    CURL *easy = curl_easy_init();
    hf_code rc = easy ? HF_OK : hf_fail(err, HF_EOTHER, "cannot initialise libcurl");

    if (rc == HF_OK)
        rc = hf_api_repo_info(c, repo, revision, &info, err);
    if (rc == HF_OK) {
        hf_log(&o->log, HF_LOG_INFO, "%s@%s resolved to commit %s", repo->id, revision,
               info.commit);
        rc = hf_api_tree(c, repo, info.commit, revision, NULL, true, &all, err);
    }
    for (size_t i = 0; rc == HF_OK && i < all.n; i++) {
        if (all.v[i].is_dir || !hf_filter_match(filter, all.v[i].path))
            continue;
        if (!hf_entries_push(&m.files, &all.v[i]))
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    if (rc == HF_OK)
        rc = hf_entries_sort(&m.files, err);
    if (rc == HF_OK) /* unpacked, the archive is a folder whose .cache/huggingface is ours */
        rc = hf_store_check_paths(HF_STORE_DIR, output, &m.files, err);
    if (rc == HF_OK && m.files.n == 0)
        rc = hf_fail(err, HF_ENOTFOUND, "no file of %s at %s matches the patterns", repo->id,
                     revision);
    if (rc == HF_OK) {
        m.repo_id = strdup(repo->id);
        m.repo_type = repo->type;
        m.revision = strdup(revision);
        memcpy(m.commit, info.commit, 41);
        m.endpoint = strdup(hf_client_endpoint(c));
        m.commit_date = info.last_modified ? strdup(info.last_modified) : NULL;
        m.tool_name = strdup("hf-bundle");
        m.tool_version = strdup(HF_VERSION);
        items = calloc(m.files.n, sizeof *items);
        if (!m.repo_id || !m.revision || !m.endpoint || !m.tool_name || !m.tool_version || !items)
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    if (rc == HF_OK)
        rc = hf_bundle_settle(&m, o, res, err);

    /* the regular files first: their sha256 goes into the manifest */
    for (size_t i = 0; rc == HF_OK && i < m.files.n; i++) {
        hf_entry *e = &m.files.v[i];
        res->bytes += e->size;
        if (e->lfs)
            continue;
        if ((rc = spool_begin(&sp, e->size, err)) != HF_OK)
            break;
        items[i] = sp.cur;
        hf_log(&o->log, HF_LOG_DEBUG, "fetching %s (%lld bytes)", e->path, e->size);
        rc = fetch(c, easy, repo, m.commit, revision, e, spool_sink, &sp, e->sha256, err);
        if (rc != HF_OK)
            spool_drop(&sp);
    }
    size_t text_len = 0;
    if (rc == HF_OK && !(text = hf_manifest_text(&m, &text_len)))
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK && o->ro_crate) {
        const hf_entry *readme = hf_entries_find(&m.files, "README.md");
        if (readme && !readme->lfs && readme->size <= MAX_README) {
            size_t i = (size_t)(readme - m.files.v);
            char *bytes = spool_bytes(&sp, &items[i], readme->size);
            if (bytes)
                card = hf_bundle_card(bytes, (size_t)readme->size, &o->log);
            free(bytes);
        }
    }
    if (rc == HF_OK) {
        hf_archive_opts ao = {o->format, o->level, hf_archive_workers(o->threads, res->bytes),
                              res->mtime, o->sync};
        rc = hf_archive_create(output, &ao, &w, err);
    }
    if (rc == HF_OK)
        rc = hf_bundle_write_head(w, res->prefix, &m, text, text_len, o->ro_crate, card,
                                  res->date_known ? res->mtime : -1, err);
    for (size_t i = 0; rc == HF_OK && i < m.files.n; i++) {
        const hf_entry *e = &m.files.v[i];
        char *name = hf_bundle_entry_name(res->prefix, e->path);
        rc = name ? hf_archive_begin_file(w, name, e->size, err)
                  : hf_fail(err, HF_EOTHER, "out of memory");
        free(name);
        if (rc != HF_OK)
            break;
        if (e->lfs) {
            char sha[65];
            hf_log(&o->log, HF_LOG_DEBUG, "streaming %s (%lld bytes)", e->path, e->size);
            rc = fetch(c, easy, repo, m.commit, revision, e, archive_sink, w, sha, err);
        } else {
            rc = spool_copy(&sp, &items[i], e->size, w, err);
        }
        if (rc == HF_OK)
            rc = hf_archive_end_file(w, err);
    }
    if (rc == HF_OK) {
        rc = hf_archive_commit(w, err);
        w = NULL;
    }
    hf_archive_abort(w);
    if (sp.fd >= 0)
        close(sp.fd);
    free(sp.mem);
    free(items);
    free(text);
    json_decref(card);
    hf_manifest_free(&m);
    hf_entries_free(&all);
    hf_repo_info_free(&info);
    if (easy)
        curl_easy_cleanup(easy);
    if (rc != HF_OK)
        hf_bundle_result_free(res);
    return rc;
}
