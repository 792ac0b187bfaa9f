/* Parallel downloads: libcurl multi, up to `jobs` files at once, each a small state machine
 * (lock, resume from the .incomplete file, stream to disk while hashing, verify, move into
 * place) over one transfer of the engine (transfer.h: redirects, retries, resumes). */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "hash.h"
#include "hashwriter.h"
#include "lockfile.h"
#include "retry.h"
#include "transfer.h"
#include "url.h"

#define LOCK_POLL_MS 50
/* Files at least this large are hashed on a second thread, overlapping the transfer. */
#define THREAD_HASH_MIN (8LL << 20)

/* J_VERIFIED: the bytes are all there and verified; the file waits (with its lock) for the
 * batch's one syncfs before it gets its name (see publish_verified). */
typedef enum { J_PENDING, J_WAITING, J_ACTIVE, J_VERIFIED, J_DONE } job_state;

/* Small files in the durable cache are made durable together: one syncfs for up to this many
 * (an fsync each is a journal commit each: 300 files of 8 KiB took 0.66 s on ext4 against
 * 0.12 s on tmpfs), and no later than this long after the first of them was verified. */
#define PUBLISH_BATCH 64
#define PUBLISH_WAIT_MS 500
#define PUBLISH_SMALL (1LL << 20)

typedef struct {
    hf_entry *e;
    job_state state;
    long long not_before; /* ms, monotonic */
    bool told_waiting;
    hf_lock lock;
    char *incomplete;
    int fd;
    hf_hasher *hasher;     /* NULL while the hash writer holds it */
    hf_hashwriter *writer; /* large files: written in batches, hashed on a second thread */
    long long have;        /* bytes taken from the body (on disk, or gathered to be) */
    int redos;             /* downloads started over because another writer touched the file */
    CURL *easy;
    hf_xfer x; /* the transfer, once the .incomplete file is open */
    bool xfer_live;
    char sha256[65]; /* J_VERIFIED: the digest found */
} job;

typedef struct {
    const hf_fetch_opts *o;
    CURLM *multi;
    job *jobs;
    size_t n;
    size_t active;
    size_t verified;          /* jobs in J_VERIFIED */
    long long verified_since; /* ms: when the first of them was verified */
    hf_error *err;
    hf_code rc;
} engine;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const hf_logger *logger(engine *g) {
    return hf_client_logger(g->o->client);
}

/* Lets the job's connection go (the slot is free for another transfer). */
static void end_transfer(engine *g, job *j) {
    if (j->easy) {
        curl_multi_remove_handle(g->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        g->active--;
    }
    if (j->xfer_live)
        hf_xfer_free(&j->x);
    j->xfer_live = false;
}

/* Ends the job's transfer and closes what it holds; the .incomplete file stays unless
 * discard is set (its bytes are known to be wrong). */
static void job_close(engine *g, job *j, bool discard) {
    end_transfer(g, j);
    if (j->writer) {
        j->hasher = hf_hashwriter_cancel(j->writer);
        j->writer = NULL;
    }
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
    if (discard && j->incomplete)
        hf_store_discard_incomplete(g->o->store, j->e);
    hf_hasher_free(j->hasher);
    j->hasher = NULL;
    free(j->incomplete);
    j->incomplete = NULL;
    hf_lock_release(&j->lock);
}

static hf_code fail(engine *g, job *j, hf_code rc, bool discard) {
    job_close(g, j, discard);
    j->state = J_DONE;
    if (g->rc == HF_OK)
        g->rc = rc;
    return rc;
}

/* LFS files are checked by their sha256 alone; the others by their git oid too. */
static hf_hasher *new_hasher(const hf_entry *e) {
    return e->lfs ? hf_hasher_new_sha256(e->size) : hf_hasher_new(e->size);
}

/* Starts the file over from byte 0 (the server ignored or refused our range). */
static bool restart(job *j) {
    if (ftruncate(j->fd, 0) != 0 || lseek(j->fd, 0, SEEK_SET) != 0)
        return false;
    j->have = 0;
    if (j->writer) {
        hf_hasher *fresh = new_hasher(j->e);
        hf_hashwriter_reset(j->writer, fresh);
        return fresh != NULL;
    }
    hf_hasher_free(j->hasher);
    j->hasher = new_hasher(j->e);
    return j->hasher != NULL;
}

/* The engine's sink: the body's next bytes, to the .incomplete file and the hash. */
static hf_code write_file(void *ctx, const void *data, size_t len, hf_error *err) {
    job *j = ctx;
    bool written =
        j->writer ? hf_hashwriter_append(j->writer, data, len) : hf_write_all(j->fd, data, len);
    if (written && !j->writer)
        hf_hasher_update(j->hasher, data, len); /* a failure shows as a wrong digest */
    if (!written)
        return hf_fail(err, HF_EIO, "cannot write %s: %s", j->incomplete, strerror(errno));
    j->have += (long long)len;
    return HF_OK;
}

static hf_code restart_file(void *ctx, hf_error *err) {
    job *j = ctx;
    return restart(j)
               ? HF_OK
               : hf_fail(err, HF_EIO, "cannot restart %s: %s", j->incomplete, strerror(errno));
}

/* Sends the job's next request (first hop, a redirect, a retry, a fresh storage URL). */
static hf_code send_next(engine *g, job *j) {
    if (j->easy) {
        curl_multi_remove_handle(g->multi, j->easy);
    } else {
        if (!(j->easy = curl_easy_init()))
            return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
        g->active++;
    }
    hf_code rc = hf_xfer_setup(&j->x, j->easy, g->err);
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    if (curl_multi_add_handle(g->multi, j->easy) != CURLM_OK)
        return fail(g, j, hf_fail(g->err, HF_EOTHER, "cannot start a transfer"), false);
    j->state = J_ACTIVE;
    return HF_OK;
}

/* What was verified is not what is at the temporary name any more: that file is removed and
 * the download starts over, under the lock again (a few times at most). */
static hf_code redo(engine *g, job *j) {
    if (++j->redos > HF_MAX_RETRIES)
        return fail(g, j, HF_EINTEGRITY, true);
    hf_log(logger(g), HF_LOG_WARN, "%s; fetching it again", g->err->msg);
    hf_error_clear(g->err);
    job_close(g, j, true);
    j->have = 0;
    j->state = J_WAITING;
    j->not_before = now_ms();
    return HF_OK;
}

/* Moves the verified file into place (synced: a batch's syncfs made its bytes durable). */
static hf_code publish(engine *g, job *j, bool synced) {
    hf_entry *e = j->e;
    bool changed = false;
    hf_code rc = hf_store_commit(g->o->store, e, j->fd, synced, &changed, g->err);
    j->fd = -1; /* closed by the store */
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    if (changed) /* another writer touched the file: nothing moved; start it over */
        return redo(g, j);
    memcpy(e->sha256, j->sha256, 65);
    hf_log(logger(g), HF_LOG_DEBUG, "%s: verified (sha256 %s)", e->path, j->sha256);
    job_close(g, j, false);
    j->state = J_DONE;
    return HF_OK;
}

/* The bytes are all there: check them, then move the file into place (small files in the
 * durable cache after the batch's syncfs). */
static hf_code finish(engine *g, job *j) {
    char sha256[65], sha1[41];
    if (j->writer) {
        bool written = hf_hashwriter_finish(j->writer, &j->hasher);
        j->writer = NULL;
        if (!written)
            return fail(
                g, j,
                hf_fail(g->err, HF_EIO, "cannot write %s: %s", j->incomplete, strerror(errno)),
                false);
    }
    bool sized = hf_hasher_final(j->hasher, sha256, sha1);
    hf_entry *e = j->e;
    if (!sized)
        return fail(g, j,
                    hf_fail(g->err, HF_EINTEGRITY, "'%s': got %lld bytes, the listing says %lld",
                            e->path, j->have, e->size),
                    true);
    if (e->sha256[0] && strcmp(sha256, e->sha256) != 0)
        return fail(g, j,
                    hf_fail(g->err, HF_EINTEGRITY,
                            "'%s' is corrupt: sha256 %s, expected %s (nothing was written)",
                            e->path, sha256, e->sha256),
                    true);
    if (!e->lfs && strcmp(sha1, e->git_oid) != 0)
        return fail(g, j,
                    hf_fail(g->err, HF_EINTEGRITY,
                            "'%s' is corrupt: git blob sha1 %s, expected %s (nothing was written)",
                            e->path, sha1, e->git_oid),
                    true);
    memcpy(j->sha256, sha256, 65);
    if (hf_store_publishes_durably(g->o->store) && e->size < PUBLISH_SMALL) {
        end_transfer(g, j);
        if (g->verified++ == 0)
            g->verified_since = now_ms();
        j->state = J_VERIFIED;
        return HF_OK;
    }
    return publish(g, j, false);
}

/* The small verified files: one syncfs makes them all durable, then each gets its name (an
 * fsync each if that syncfs failed). */
static void publish_verified(engine *g) {
    bool synced = hf_store_sync_batch(g->o->store);
    for (size_t i = 0; i < g->n && g->rc == HF_OK; i++)
        if (g->jobs[i].state == J_VERIFIED)
            publish(g, &g->jobs[i], synced);
    g->verified = 0; /* each one published, or the run ends with the failure */
}

/* A request of the job ended: the engine says what comes next. */
static hf_code on_done(engine *g, job *j, CURLcode cc) {
    switch (hf_xfer_after(&j->x, j->easy, cc, g->err)) {
    case HF_XFER_SEND:
        return send_next(g, j);
    case HF_XFER_WAIT:
        /* the connection is dropped; the other transfers go on meanwhile */
        curl_multi_remove_handle(g->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        g->active--;
        j->state = J_WAITING;
        j->not_before = now_ms() + j->x.wait_ms;
        return HF_OK;
    case HF_XFER_DONE:
        return finish(g, j);
    case HF_XFER_FAILED:
    default:
        /* bytes found wrong on the way are not kept for a later resume */
        return fail(g, j, g->err->code != HF_OK ? g->err->code : HF_EOTHER,
                    j->x.stop == HF_EINTEGRITY);
    }
}

/* Opens the .incomplete file and hashes what an earlier run left in it. */
static hf_code open_incomplete(engine *g, job *j) {
    j->incomplete = hf_store_incomplete_path(g->o->store, j->e);
    if (!j->incomplete)
        return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
    hf_code rc = hf_store_open_incomplete(g->o->store, j->e, &j->fd, g->err);
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    struct stat st;
    if (fstat(j->fd, &st) != 0)
        return fail(g, j,
                    hf_fail(g->err, HF_EIO, "cannot write %s: %s", j->incomplete, strerror(errno)),
                    false);
    j->hasher = new_hasher(j->e);
    if (!j->hasher)
        return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
    j->have = 0;
    if (st.st_size > j->e->size && ftruncate(j->fd, 0) != 0)
        return fail(g, j, hf_fail(g->err, HF_EIO, "cannot truncate %s", j->incomplete), false);
    if (st.st_size > 0 && st.st_size <= j->e->size) {
        static char buf[1 << 17];
        long long left = st.st_size;
        while (left > 0) {
            ssize_t r = read(j->fd, buf, left < (long long)sizeof buf ? (size_t)left : sizeof buf);
            if (r <= 0)
                break;
            hf_hasher_update(j->hasher, buf, (size_t)r);
            j->have += r;
            left -= r;
        }
        if (left > 0 && !restart(j))
            return fail(g, j, hf_fail(g->err, HF_EIO, "cannot read %s", j->incomplete), false);
        if (lseek(j->fd, j->have, SEEK_SET) != j->have)
            return fail(g, j, hf_fail(g->err, HF_EIO, "cannot seek in %s", j->incomplete), false);
        if (j->have > 0)
            hf_log(logger(g), HF_LOG_INFO, "%s: resuming from byte %lld", j->e->path, j->have);
    }
    if (j->e->size - j->have >= THREAD_HASH_MIN &&
        (j->writer = hf_hashwriter_new(j->fd, j->hasher, j->have)))
        j->hasher = NULL;
    return HF_OK;
}

/* Whether the file is present (trusted or verified): the job is then done. */
static bool done_if_present(engine *g, job *j) {
    bool present = false;
    char sha[65];
    hf_code rc = hf_store_check(g->o->store, j->e, &present, sha, g->err);
    if (rc != HF_OK) {
        fail(g, j, rc, false);
        return true;
    }
    if (present) {
        memcpy(j->e->sha256, sha, 65);
        hf_log(logger(g), HF_LOG_DEBUG, "%s: present and verified", j->e->path);
        job_close(g, j, false);
        j->state = J_DONE;
    }
    return present;
}

/* Takes the job's lock, skips it when present, or sends its first request. */
static hf_code start(engine *g, job *j) {
    bool retry = j->state == J_WAITING && j->fd >= 0;
    /* what is present needs no lock: a final name is only ever given to verified bytes */
    if (!retry && !j->lock.held && !j->told_waiting && !g->o->force && done_if_present(g, j))
        return g->rc;
    if (!retry && !j->lock.held) {
        bool taken = false;
        hf_code rc = hf_store_lock(g->o->store, j->e, &j->lock, &taken, g->err);
        if (rc != HF_OK)
            return fail(g, j, rc, false);
        if (!taken) {
            if (!j->told_waiting)
                hf_log(logger(g), HF_LOG_INFO, "%s: another process is fetching it; waiting",
                       j->e->path);
            j->told_waiting = true;
            j->state = J_WAITING;
            j->not_before = now_ms() + LOCK_POLL_MS;
            return HF_OK;
        }
    }
    /* looked at again under the lock only after waiting for it: the other process may have
     * put the file in place (checked a moment ago otherwise; a changed file is hashed once) */
    if (!retry && j->told_waiting && done_if_present(g, j))
        return g->rc;
    if (!retry) {
        hf_code rc = open_incomplete(g, j);
        if (rc != HF_OK)
            return rc;
        if (j->have == j->e->size)
            return finish(g, j); /* all bytes were there already (or the file is empty) */
    }
    if (retry)
        return send_next(g, j); /* from the byte reached, where the last try stopped */
    char *url =
        hf_url_resolve(hf_client_endpoint(g->o->client), g->o->repo, g->o->commit, j->e->path);
    if (!url)
        return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
    hf_req_ctx ctx = {g->o->repo->id, g->o->revision, j->e->path, false};
    hf_xfer_opts xo = {.client = g->o->client,
                       .url = url,
                       .kind = HF_REQ_FILE,
                       .size = j->e->size,
                       .have = j->have,
                       .ctx = &ctx,
                       .commit = g->o->commit,
                       .what = j->e->path,
                       .sink = {write_file, restart_file, j}};
    hf_code rc = hf_xfer_init(&j->x, &xo, g->err);
    free(url);
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    j->xfer_live = true;
    return send_next(g, j);
}

static void report(engine *g, bool final) {
    if (!g->o->progress)
        return;
    hf_fetch_stats s = {0};
    s.files_total = g->n;
    for (size_t i = 0; i < g->n; i++) {
        job *j = &g->jobs[i];
        s.bytes_total += j->e->size;
        if (j->state == J_DONE) {
            s.files_done++;
            s.bytes_done += j->e->size;
        } else {
            s.bytes_done += j->have;
            if (j->state == J_ACTIVE)
                s.files_active++;
        }
    }
    g->o->progress(g->o->progress_ctx, &s, final);
}

hf_code hf_fetch_run(const hf_fetch_opts *o, hf_entries *files, hf_error *err) {
    engine g = {.o = o,
                .multi = curl_multi_init(),
                .jobs = calloc(files->n ? files->n : 1, sizeof(job)),
                .n = files->n,
                .err = err,
                .rc = HF_OK};
    if (!g.multi || !g.jobs) {
        curl_multi_cleanup(g.multi);
        free(g.jobs);
        return hf_fail(err, HF_EOTHER, "out of memory");
    }
    int jobs = o->jobs > 0 ? o->jobs : 1;
    curl_multi_setopt(g.multi, CURLMOPT_MAXCONNECTS, (long)jobs * 2);
    for (size_t i = 0; i < g.n; i++) {
        g.jobs[i].e = &files->v[i];
        g.jobs[i].fd = -1;
    }
    long long last_report = 0;
    size_t next = 0; /* jobs before it have all been started at least once */
    while (g.rc == HF_OK) {
        long long now = now_ms();
        size_t done = 0;
        long long wake = now + 1000;
        for (size_t i = 0; i < g.n && g.rc == HF_OK; i++) {
            job *j = &g.jobs[i];
            if (j->state == J_DONE) {
                done++;
                continue;
            }
            bool ready = j->state == J_WAITING && j->not_before <= now;
            if (j->state == J_WAITING && !ready && j->not_before < wake)
                wake = j->not_before;
            if ((ready || (j->state == J_PENDING && i >= next)) && g.active < (size_t)jobs) {
                if (j->state == J_PENDING)
                    next = i + 1;
                start(&g, j);
                if (j->state == J_DONE)
                    done++;
            }
            if (j->lock.held)
                hf_lock_refresh(&j->lock);
        }
        if (g.rc != HF_OK || done == g.n)
            break;
        int running = 0;
        curl_multi_perform(g.multi, &running);
        CURLMsg *msg;
        int left;
        while (g.rc == HF_OK && (msg = curl_multi_info_read(g.multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            job *j = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            on_done(&g, j, msg->data.result);
        }
        if (g.rc != HF_OK)
            break;
        if (g.verified > 0 && (g.verified >= PUBLISH_BATCH || g.active == 0 ||
                               now_ms() - g.verified_since >= PUBLISH_WAIT_MS))
            publish_verified(&g);
        if (g.rc != HF_OK)
            break;
        bool all_done = true;
        for (size_t i = 0; i < g.n && all_done; i++)
            all_done = g.jobs[i].state == J_DONE;
        if (all_done)
            break;
        now = now_ms();
        if (now - last_report >= 200) {
            report(&g, false);
            last_report = now;
        }
        for (size_t i = 0; i < g.n; i++) /* a retry just scheduled (at once, maybe) */
            if (g.jobs[i].state == J_WAITING && g.jobs[i].not_before < wake)
                wake = g.jobs[i].not_before;
        long timeout = (long)(wake - now);
        if (timeout > 200)
            timeout = 200;
        if (timeout < 0)
            timeout = 0;
        bool startable = false;
        for (size_t i = next; i < g.n && !startable; i++)
            startable = g.jobs[i].state == J_PENDING;
        if (startable && g.active < (size_t)jobs)
            timeout = 0;
        if (g.active > 0)
            curl_multi_poll(g.multi, NULL, 0, (int)timeout, NULL);
        else if (timeout > 0)
            hf_sleep_ms(timeout);
    }
    for (size_t i = 0; i < g.n; i++)
        if (g.jobs[i].state != J_DONE || g.jobs[i].easy || g.jobs[i].fd >= 0)
            job_close(&g, &g.jobs[i], false);
    if (g.rc == HF_OK) {
        hf_store_sync(o->store);
        report(&g, true);
    }
    curl_multi_cleanup(g.multi);
    free(g.jobs);
    return g.rc;
}
