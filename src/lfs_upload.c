/* LFS uploads: batch, parallel PUTs, completion, verify. */
#include "lfs_upload.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_write.h"
#include "log.h"
#include "part_upload.h"
#include "transfer.h"

#define BATCH_MAX 100

/* One PUT: an object (basic) or one part of it. */
typedef struct {
    size_t object; /* index in the batch */
    size_t part;   /* 0-based; 0 for basic */
    hf_part put;
    char what[256];
} put_job;

typedef struct {
    const hf_lfs_upload_opts *o;
    put_job *jobs;
    size_t n_jobs, next;
    char ***etags; /* [object][part] */
    pthread_mutex_t mu;
    hf_code rc;
    hf_error err;
    bool refused; /* the first failure was the storage host refusing its URL (401/403) */
    hf_fetch_stats stats;
} pool;

static void on_sent(void *ctx, long long delta) {
    pool *p = ctx;
    pthread_mutex_lock(&p->mu);
    p->stats.bytes_done += delta;
    if (p->o->progress)
        p->o->progress(p->o->progress_ctx, &p->stats, false);
    pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (p->rc != HF_OK || p->next >= p->n_jobs) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        put_job *j = &p->jobs[p->next++];
        pthread_mutex_unlock(&p->mu);
        hf_error err = {0};
        char *etag = NULL;
        bool refused = false;
        hf_code rc = hf_part_put(p->o->client, &j->put, &etag, &refused, &err);
        pthread_mutex_lock(&p->mu);
        if (rc == HF_OK) {
            p->etags[j->object][j->part] = etag;
        } else if (p->rc == HF_OK) {
            p->rc = rc;
            p->err = err;
            p->refused = refused;
        }
        pthread_mutex_unlock(&p->mu);
    }
}

/* The PUTs of one batch, then its completions and verifications; *refused is set when the
 * storage host refused a pre-signed URL (fresh ones may be asked for). */
static hf_code upload_batch(const hf_lfs_upload_opts *o, const hf_upload_file *const *files,
                            size_t n, hf_lfs_objects *objs, bool *refused, hf_error *err) {
    size_t n_jobs = 0;
    for (size_t i = 0; i < n; i++)
        if (!objs->v[i].present)
            n_jobs += objs->v[i].chunk_size ? objs->v[i].n_parts : 1;
    if (n_jobs == 0)
        return HF_OK;
    pool p = {.o = o, .rc = HF_OK};
    int *fds = calloc(n, sizeof *fds);
    p.jobs = calloc(n_jobs, sizeof *p.jobs);
    p.etags = calloc(n, sizeof *p.etags);
    hf_code rc = fds && p.jobs && p.etags ? HF_OK : hf_fail(err, HF_EOTHER, "out of memory");
    for (size_t i = 0; i < n && fds; i++)
        fds[i] = -1;
    for (size_t i = 0; rc == HF_OK && i < n; i++) {
        const hf_lfs_object *x = &objs->v[i];
        if (x->present)
            continue;
        size_t parts = x->chunk_size ? x->n_parts : 1;
        p.etags[i] = calloc(parts, sizeof **p.etags);
        if (!files[i]->local) {
            rc = hf_fail(err, HF_EOTHER, "the Hub wants %s in LFS, but it is made in memory",
                         files[i]->path);
            break;
        }
        fds[i] = open(files[i]->local, O_RDONLY | O_CLOEXEC);
        if (!p.etags[i] || fds[i] < 0) {
            rc = hf_fail(err, HF_EIO, "cannot read %s", files[i]->local);
            break;
        }
        p.stats.bytes_total += x->size;
        p.stats.files_total++;
        for (size_t k = 0; k < parts; k++) {
            put_job *j = &p.jobs[p.n_jobs++];
            j->object = i;
            j->part = k;
            long long off = x->chunk_size * (long long)k;
            long long len = x->chunk_size ? x->size - off : x->size;
            if (x->chunk_size && len > x->chunk_size)
                len = x->chunk_size;
            if (x->chunk_size)
                snprintf(j->what, sizeof j->what, "%.150s (part %zu of %zu)", files[i]->path, k + 1,
                         parts);
            else
                snprintf(j->what, sizeof j->what, "%.150s", files[i]->path);
            j->put = (hf_part){x->chunk_size ? x->parts[k] : x->upload_href,
                               fds[i],
                               off,
                               len,
                               j->what,
                               on_sent,
                               &p};
        }
    }
    if (rc == HF_OK) {
        pthread_mutex_init(&p.mu, NULL);
        int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
        if ((size_t)jobs > p.n_jobs)
            jobs = (int)p.n_jobs;
        pthread_t tid[64];
        int started = 0;
        for (; started < jobs - 1; started++)
            if (pthread_create(&tid[started], NULL, worker, &p) != 0)
                break;
        worker(&p); /* this thread works too */
        for (int t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        pthread_mutex_destroy(&p.mu);
        rc = p.rc;
        *refused = p.refused;
        if (rc != HF_OK && err)
            *err = p.err;
    }
    for (size_t i = 0; rc == HF_OK && i < n; i++) {
        const hf_lfs_object *x = &objs->v[i];
        if (x->present)
            continue;
        if (x->chunk_size)
            rc = hf_lfs_complete(o->client, x, p.etags[i], err);
        if (rc == HF_OK && x->verify_href)
            rc = hf_lfs_verify(o->client, x, err);
    }
    for (size_t i = 0; i < n; i++) {
        if (fds && fds[i] >= 0)
            close(fds[i]);
        size_t parts = objs->v[i].chunk_size ? objs->v[i].n_parts : 1;
        for (size_t k = 0; p.etags && p.etags[i] && k < parts; k++)
            free(p.etags[i][k]);
        if (p.etags)
            free(p.etags[i]);
    }
    free(p.etags);
    free(p.jobs);
    free(fds);
    return rc;
}

static size_t count_present(const hf_lfs_objects *objs) {
    size_t n = 0;
    for (size_t i = 0; i < objs->n; i++)
        n += objs->v[i].present;
    return n;
}

hf_code hf_lfs_upload(const hf_lfs_upload_opts *o, const hf_upload_file *const *files, size_t n,
                      size_t *sent, long long *bytes, hf_error *err) {
    *sent = 0;
    *bytes = 0;
    hf_code rc = HF_OK;
    for (size_t at = 0; rc == HF_OK && at < n; at += BATCH_MAX) {
        size_t k = n - at < BATCH_MAX ? n - at : BATCH_MAX;
        /* what the first answer lacks is what this run sends (a later answer, after fresh
         * URLs, holds as present what an earlier round got in place) */
        bool *needed = calloc(k, sizeof *needed);
        if (!needed)
            return hf_fail(err, HF_EOTHER, "out of memory");
        /* a refused pre-signed URL (expired, say) is replaced by asking the batch API again,
         * as downloads ask resolve again; a few times in a row without an object more in
         * place */
        size_t in_place = 0;
        for (int round = 0, refusals = 0;; round++) {
            hf_lfs_objects objs;
            rc = hf_lfs_batch(o->client, o->repo, o->revision, files + at, k, &objs, err);
            if (rc != HF_OK)
                break;
            for (size_t i = 0; round == 0 && i < objs.n && i < k; i++)
                needed[i] = !objs.v[i].present;
            if (count_present(&objs) > in_place)
                refusals = 0;
            in_place = count_present(&objs);
            bool refused = false;
            rc = upload_batch(o, files + at, k, &objs, &refused, err);
            hf_lfs_objects_free(&objs);
            if (rc == HF_OK || !refused)
                break;
            if (++refusals > HF_XFER_MAX_REFRESHES) {
                char was[sizeof err->msg];
                snprintf(was, sizeof was, "%s", err->msg);
                rc = hf_fail(err, HF_ENETWORK, "%.400s, after %d fresh URLs from the Hub", was,
                             HF_XFER_MAX_REFRESHES);
                break;
            }
            hf_log(hf_client_logger(o->client), HF_LOG_INFO,
                   "%s; asking the Hub for fresh upload URLs (%d of %d)", err->msg, refusals,
                   HF_XFER_MAX_REFRESHES);
            hf_error_clear(err);
        }
        for (size_t i = 0; rc == HF_OK && i < k; i++)
            if (needed[i]) {
                (*sent)++;
                *bytes += files[at + i]->size;
            }
        free(needed);
    }
    return rc;
}
