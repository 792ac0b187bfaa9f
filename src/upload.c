/* The upload flow. */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "beneath.h"
#include "bundle_card.h"
#include "card_write.h"
#include "commit_body.h"
#include "fsutil.h"
#include "hash.h"
#include "lfs_upload.h"
#include "url.h"

#define MAX_README (HF_CARD_MAX_YAML + (4u << 20))
#define MAX_INLINE (10ll << 20)
/* The commit body goes to its temporary file whenever this much of it is in memory. */
#define BODY_SPILL (1u << 20)

/* The card metadata this run adds: --card, the sources' repositories, the tags. Checked. */
static hf_code card_meta(const hf_upload_opts *o, json_t **out, hf_error *err) {
    json_t *meta = o->card ? json_deep_copy(o->card) : json_object();
    hf_code rc = meta ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK)
        rc = hf_card_add_sources(meta, o->sources, o->n_sources, err);
    if (rc == HF_OK)
        rc = hf_card_add_tags(meta, o->tags, o->n_tags, err);
    if (rc == HF_OK)
        rc = hf_card_check(meta, err);
    if (rc != HF_OK) {
        json_decref(meta);
        meta = NULL;
    }
    *out = meta;
    return rc;
}

/* README.md at the head, as text (*text NULL when the head has none). */
static hf_code head_readme(const hf_upload_opts *o, const char *head, const hf_entries *tree,
                           char **text, size_t *len, hf_error *err) {
    *text = NULL;
    const hf_entry *e = hf_entries_find(tree, "README.md");
    if (!e || e->is_dir)
        return HF_OK;
    if (e->lfs)
        return hf_fail(err, HF_EUSAGE,
                       "the repository's README.md is stored in LFS: its card cannot be merged");
    char *url = hf_url_resolve(hf_client_endpoint(o->client), o->repo, head, "README.md");
    hf_req_ctx ctx = {o->repo->id, head, "README.md", hf_client_has_token(o->client)};
    hf_response resp = {0};
    hf_code rc = url ? hf_http_get(o->client, url, MAX_README, &ctx, &resp, err)
                     : hf_fail(err, HF_EOTHER, "out of memory");
    if (rc == HF_OK) {
        *len = resp.body.len;
        *text = hf_buf_take(&resp.body);
    }
    hf_response_clear(&resp);
    free(url);
    return rc;
}

/* Decides README.md: left alone, merged (--card over an existing one) or written anew. */
static hf_code settle_card(const hf_upload_opts *o, hf_upload_result *r, const hf_entries *tree,
                           hf_error *err) {
    if (o->no_card)
        return HF_OK;
    hf_upload_file *given = hf_upload_files_find(&r->files, "README.md");
    const hf_entry *at_head = hf_entries_find(tree, "README.md");
    if (!o->card && (given || at_head)) { /* an existing card is left as it is */
        size_t len;
        if (!o->want_card)
            return HF_OK;
        if (given && given->local)
            return hf_read_file(given->local, MAX_README, &r->card_kept, &len, err);
        return head_readme(o, r->head, tree, &r->card_kept, &len, err);
    }
    json_t *meta;
    hf_code rc = card_meta(o, &meta, err);
    if (rc != HF_OK)
        return rc;
    char *base = NULL;
    size_t len = 0;
    if (given && given->local)
        rc = hf_read_file(given->local, MAX_README, &base, &len, err);
    else if (!given)
        rc = head_readme(o, r->head, tree, &base, &len, err);
    char *card = NULL;
    if (rc == HF_OK && base) {
        rc = hf_card_merge(base, len, meta, &card, err);
    } else if (rc == HF_OK) {
        char tool[96];
        snprintf(tool, sizeof tool, "%s %s", o->tool_name, o->tool_version);
        hf_card_body_info bi = {o->repo->id,  o->description, o->sources,
                                o->n_sources, tool,           &r->files};
        char *body = hf_card_body(&bi);
        card = body ? hf_card_compose(meta, body) : NULL;
        free(body);
        if (!card)
            rc = hf_fail(err, HF_EOTHER, "cannot write the model card");
    }
    free(base);
    json_decref(meta);
    if (rc == HF_OK && !hf_upload_files_put(&r->files, "README.md", card, strlen(card)))
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    r->card = card;
    if (rc == HF_OK)
        rc = hf_upload_hash(&r->files, err);
    return rc;
}

/* Marks the files the head has with the same content; lists the deletions. */
static hf_code compare(const hf_upload_opts *o, hf_upload_result *r, const hf_entries *tree,
                       hf_error *err) {
    for (size_t i = 0; i < r->files.n; i++) {
        hf_upload_file *f = &r->files.v[i];
        const hf_entry *e = hf_entries_find(tree, f->path);
        if (!e || e->is_dir || e->size != f->size)
            continue;
        if (e->lfs ? strcmp(e->sha256, f->sha256) == 0 : strcmp(e->git_oid, f->git_oid) == 0) {
            f->unchanged = true;
            f->lfs = e->lfs;
        }
    }
    if (!o->deletes || hf_filter_is_empty(o->deletes))
        return HF_OK;
    for (size_t i = 0; i < tree->n; i++) {
        const hf_entry *e = &tree->v[i];
        if (e->is_dir || !hf_filter_match(o->deletes, e->path) ||
            hf_upload_files_find(&r->files, e->path))
            continue;
        char **v = realloc(r->deleted, (r->n_deleted + 1) * sizeof *v);
        if (!v || !(v[r->n_deleted] = strdup(e->path))) {
            if (v)
                r->deleted = v;
            return hf_fail(err, HF_EOTHER, "out of memory");
        }
        r->deleted = v;
        r->n_deleted++;
    }
    return HF_OK;
}

/* Whether the branch holds this upload now: its head moved past the one compared, and that
 * head's tree has every file of the upload, byte for byte (the same sha256 or git blob id), and
 * none of the deletions. So a commit whose answer was lost (the connection dropped after the
 * Hub applied it; the retry is then refused as a conflict) is not reported as a failure. */
static hf_code landed(const hf_upload_opts *o, hf_upload_result *r, bool *yes, hf_error *err) {
    *yes = false;
    hf_repo_info info;
    hf_code rc = hf_api_repo_info(o->client, o->repo, o->revision, &info, err);
    if (rc != HF_OK)
        return rc;
    char now[41];
    memcpy(now, info.commit, sizeof now);
    hf_repo_info_free(&info);
    if (strcmp(now, r->head) == 0)
        return HF_OK; /* nothing was committed */
    hf_entries tree = {0};
    rc = hf_api_tree(o->client, o->repo, now, o->revision, NULL, true, &tree, err);
    bool all = rc == HF_OK;
    for (size_t i = 0; all && i < r->files.n; i++) {
        const hf_upload_file *f = &r->files.v[i];
        const hf_entry *e = hf_entries_find(&tree, f->path);
        all = e && !e->is_dir && e->size == f->size &&
              (e->lfs ? strcmp(e->sha256, f->sha256) == 0 : strcmp(e->git_oid, f->git_oid) == 0);
    }
    for (size_t i = 0; all && i < r->n_deleted; i++)
        all = hf_entries_find(&tree, r->deleted[i]) == NULL;
    hf_entries_free(&tree);
    if (all) {
        *yes = true;
        memcpy(r->answer.commit, now, sizeof now);
    }
    return rc;
}

/* An unnamed temporary file for the commit body, in $TMPDIR (else /tmp): -1 with errno. */
static int body_file(void) {
    const char *dir = getenv("TMPDIR");
    char *near = hf_path_join(dir && *dir ? dir : "/tmp", "hf-upload-commit");
    int fd = near ? hf_beneath_scratch(near) : -1;
    free(near);
    return fd;
}

/* What b holds goes to the body file (b is emptied). */
static hf_code spill(hf_buf *b, int fd, long long *len, hf_error *err) {
    if (b->len && !hf_write_all(fd, b->data, b->len))
        return hf_fail(err, HF_EIO, "cannot write the commit body to a temporary file: %s",
                       strerror(errno));
    *len += (long long)b->len;
    hf_buf_reset(b);
    return HF_OK;
}

/* A regular file's line, read and base64-encoded a chunk at a time (spilled to fd as it
 * grows); the bytes sent must be the bytes hashed when the plan was made. */
static hf_code inline_file(const hf_upload_file *f, hf_buf *b, int fd, long long *len,
                           hf_error *err) {
    int in = open(f->local, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return hf_fail(err, HF_EIO, "cannot read %s: %s", f->local, strerror(errno));
    hf_hasher *h = hf_hasher_new(f->size);
    hf_code rc =
        h ? hf_commit_file_begin(b, f->path, err) : hf_fail(err, HF_EOTHER, "out of memory");
    enum { CHUNK = 3 << 16 }; /* a multiple of 3: the pieces' base64 joins up */
    unsigned char *chunk = malloc(CHUNK);
    if (!chunk && rc == HF_OK)
        rc = hf_fail(err, HF_EOTHER, "out of memory");
    long long seen = 0;
    for (bool end = false; rc == HF_OK && !end;) {
        size_t n = 0;
        while (n < CHUNK) { /* full chunks but the last */
            ssize_t got = read(in, chunk + n, CHUNK - n);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                rc = hf_fail(err, HF_EIO, "cannot read %s: %s", f->local, strerror(errno));
            if (got <= 0) {
                end = true;
                break;
            }
            n += (size_t)got;
        }
        seen += (long long)n;
        if (rc == HF_OK && seen > f->size)
            rc = hf_fail(err, HF_EIO, "%s changed while being uploaded", f->local);
        if (rc == HF_OK && n) {
            hf_hasher_update(h, chunk, n);
            rc = hf_commit_file_chunk(b, chunk, n, err);
        }
        if (rc == HF_OK && b->len >= BODY_SPILL)
            rc = spill(b, fd, len, err);
    }
    close(in);
    free(chunk);
    char sha[65], oid[41];
    if (rc == HF_OK &&
        (seen != f->size || !hf_hasher_final(h, sha, oid) || strcmp(oid, f->git_oid) != 0))
        rc = hf_fail(err, HF_EIO, "%s changed since it was hashed", f->local);
    hf_hasher_free(h);
    return rc == HF_OK ? hf_commit_file_end(b, err) : rc;
}

/* The NDJSON body: header, regular files inline, LFS files by oid, deletions. Written to fd
 * as it grows past BODY_SPILL, so memory holds about that much of it; *len is its size. */
static hf_code commit_body(const hf_upload_opts *o, const hf_upload_result *r, size_t changed,
                           int fd, long long *len, hf_error *err) {
    hf_buf line = {0}, *b = &line;
    *len = 0;
    char summary[160];
    if (o->message)
        snprintf(summary, sizeof summary, "%s", o->message);
    else
        snprintf(summary, sizeof summary, "Upload %zu file%s with hf-upload", changed,
                 changed == 1 ? "" : "s");
    hf_code rc = hf_commit_header(b, o->message ? o->message : summary, o->description,
                                  r->head[0] ? r->head : NULL, err);
    for (size_t i = 0; rc == HF_OK && i < r->files.n; i++) {
        const hf_upload_file *f = &r->files.v[i];
        if (f->unchanged)
            continue;
        if (b->len >= BODY_SPILL && (rc = spill(b, fd, len, err)) != HF_OK)
            break;
        if (f->lfs) {
            rc = hf_commit_lfs(b, f->path, f->sha256, f->size, err);
            continue;
        }
        if (f->data) {
            rc = hf_commit_file(b, f->path, f->data, (size_t)f->size, err);
            continue;
        }
        if (f->size > MAX_INLINE) {
            rc = hf_fail(err, HF_EINTEGRITY,
                         "the Hub asked for %s (%lld bytes) inline: larger files go to LFS",
                         f->path, f->size);
            break;
        }
        rc = inline_file(f, b, fd, len, err);
    }
    for (size_t i = 0; rc == HF_OK && i < r->n_deleted; i++)
        rc = hf_commit_delete(b, r->deleted[i], err);
    if (rc == HF_OK)
        rc = spill(b, fd, len, err);
    hf_buf_free(b);
    return rc;
}

/* The manifest of `commit`: every file of the plan, in hf-fetch's format. */
static hf_code make_manifest(const hf_upload_opts *o, hf_upload_result *r, const char *commit,
                             const char *revision, hf_error *err) {
    hf_repo_info info = {0};
    hf_code rc = hf_api_repo_info(o->client, o->repo, commit, &info, err);
    hf_manifest *m = &r->manifest;
    char now[21];
    hf_utc_now(now);
    if (rc == HF_OK) {
        m->repo_id = strdup(o->repo->id);
        m->repo_type = o->repo->type;
        m->revision = strdup(revision);
        memcpy(m->commit, commit, 41);
        m->commit_date = info.last_modified ? strdup(info.last_modified) : NULL;
        m->endpoint = strdup(hf_client_endpoint(o->client));
        m->tool_name = strdup(o->tool_name);
        m->tool_version = strdup(o->tool_version);
        m->fetched_at = strdup(now);
    }
    for (size_t i = 0; rc == HF_OK && i < r->files.n; i++) {
        const hf_upload_file *f = &r->files.v[i];
        hf_entry e = {.path = f->path, .size = f->size, .lfs = f->lfs};
        memcpy(e.sha256, f->sha256, 65);
        if (f->lfs)
            hf_lfs_pointer_oid(f->sha256, f->size, e.git_oid);
        else
            memcpy(e.git_oid, f->git_oid, 41);
        if (!hf_entries_push(&m->files, &e))
            rc = hf_fail(err, HF_EOTHER, "out of memory");
    }
    if (rc == HF_OK)
        rc = hf_entries_sort(&m->files, err);
    hf_repo_info_free(&info);
    return rc;
}

/* The branch head, creating the repository when asked. */
static hf_code find_head(const hf_upload_opts *o, hf_upload_result *r, hf_error *err) {
    hf_repo_info info = {0};
    hf_code rc = hf_api_repo_info(o->client, o->repo, o->revision, &info, err);
    if (rc == HF_ENOTFOUND && o->create && !o->dry_run) {
        bool existed;
        rc = hf_hub_create_repo(o->client, o->repo, o->is_private, o->space_sdk, &existed, err);
        r->created = rc == HF_OK && !existed;
        if (rc == HF_OK)
            rc = hf_api_repo_info(o->client, o->repo, o->revision, &info, err);
    } else if (rc == HF_ENOTFOUND && o->create && o->dry_run) {
        hf_error_clear(err);
        return HF_OK; /* would be created: everything is new */
    } else if (rc == HF_ENOTFOUND && err && strncmp(err->msg, "repository ", 11) == 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        hf_fail(err, rc, "%.900s (--create makes a new repository)", msg);
    }
    if (rc == HF_OK)
        memcpy(r->head, info.commit, 41);
    hf_repo_info_free(&info);
    return rc;
}

hf_code hf_upload_run(const hf_upload_opts *o, hf_upload_result *r, hf_error *err) {
    memset(r, 0, sizeof *r);
    hf_entries tree = {0};
    json_t *meta = NULL;
    /* everything local first: sources, paths, hashes, card metadata, the token */
    hf_code rc = hf_upload_plan(&o->plan, &r->files, err);
    if (rc == HF_OK && !o->no_card && (o->card || o->n_sources || o->n_tags))
        rc = card_meta(o, &meta, err);
    json_decref(meta);
    if (rc == HF_OK && !hf_client_has_token(o->client))
        rc = hf_fail(err, HF_EAUTH,
                     "uploading needs a token with write access: set HF_TOKEN or --token-file");
    if (rc == HF_OK)
        rc = hf_upload_hash(&r->files, err);
    if (rc == HF_OK)
        rc = find_head(o, r, err);
    if (rc == HF_OK && o->parent_commit && strcmp(o->parent_commit, r->head) != 0)
        rc = hf_fail(err, HF_ECONFLICT,
                     "%s@%s is at %s, not at --parent-commit %s: nothing was sent", o->repo->id,
                     o->revision, r->head[0] ? r->head : "(nothing)", o->parent_commit);
    if (rc == HF_OK && r->head[0])
        rc = hf_api_tree(o->client, o->repo, r->head, o->revision, NULL, true, &tree, err);
    if (rc == HF_OK) /* hf_api_tree gives it sorted and checked */
        rc = settle_card(o, r, &tree, err);
    if (rc == HF_OK)
        rc = compare(o, r, &tree, err);
    hf_entries_free(&tree);
    size_t changed = 0;
    for (size_t i = 0; i < r->files.n; i++)
        changed += !r->files.v[i].unchanged;
    if (rc != HF_OK)
        return rc;
    if (changed == 0 && r->n_deleted == 0)
        return o->dry_run ? HF_OK : make_manifest(o, r, r->head, o->revision, err);
    if (changed && r->head[0])
        rc = hf_hub_preupload(o->client, o->repo, o->revision, &r->files, err);
    if (rc != HF_OK || o->dry_run)
        return rc;

    const hf_upload_file **lfs = calloc(changed ? changed : 1, sizeof *lfs);
    size_t n_lfs = 0;
    if (!lfs)
        return hf_fail(err, HF_EOTHER, "out of memory");
    for (size_t i = 0; i < r->files.n; i++)
        if (!r->files.v[i].unchanged && r->files.v[i].lfs)
            lfs[n_lfs++] = &r->files.v[i];
    hf_lfs_upload_opts lo = {o->client, o->repo,     o->revision,
                             o->jobs,   o->progress, o->progress_ctx};
    if (n_lfs)
        rc = hf_lfs_upload(&lo, lfs, n_lfs, &r->lfs_sent, &r->lfs_bytes, err);
    free(lfs);
    int body = rc == HF_OK ? body_file() : -1;
    long long body_len = 0;
    if (rc == HF_OK && body < 0)
        rc = hf_fail(err, HF_EIO, "cannot make a temporary file for the commit body: %s",
                     strerror(errno));
    if (rc == HF_OK)
        rc = commit_body(o, r, changed, body, &body_len, err);
    if (rc == HF_OK)
        rc = hf_hub_commit(o->client, o->repo, o->revision, o->pr, body, (size_t)body_len,
                           &r->answer, err);
    if (body >= 0)
        close(body);
    if (rc == HF_ECONFLICT && !o->pr && r->head[0]) {
        hf_error why = *err, quiet = {0};
        bool yes = false;
        if (landed(o, r, &yes, &quiet) == HF_OK && yes) {
            hf_log(hf_client_logger(o->client), HF_LOG_WARN,
                   "the answer to the commit was lost, but %s@%s holds this upload at %s",
                   o->repo->id, o->revision, r->answer.commit);
            rc = HF_OK;
        } else {
            *err = why;
        }
    }
    if (rc != HF_OK)
        return rc;
    r->committed = true;
    char rev[64];
    const char *n = r->answer.pr_url ? strrchr(r->answer.pr_url, '/') : NULL;
    if (o->pr && n && n[1])
        snprintf(rev, sizeof rev, "refs/pr/%.20s", n + 1);
    else
        snprintf(rev, sizeof rev, "%.63s", o->revision);
    return make_manifest(o, r, r->answer.commit, rev, err);
}

void hf_upload_result_free(hf_upload_result *r) {
    hf_upload_files_free(&r->files);
    for (size_t i = 0; i < r->n_deleted; i++)
        free(r->deleted[i]);
    free(r->deleted);
    hf_commit_answer_free(&r->answer);
    free(r->card);
    free(r->card_kept);
    hf_manifest_free(&r->manifest);
    memset(r, 0, sizeof *r);
}
