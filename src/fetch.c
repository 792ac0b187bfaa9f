/* The transfer engine: libcurl multi, up to `jobs` files at once, each a small state machine
 * (lock, resume from the .incomplete file, redirects by hand, stream to disk while hashing,
 * verify, move into place), with retries that resume from the byte reached. */
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
#include "hashworker.h"
#include "lockfile.h"
#include "resume.h"
#include "retry.h"
#include "url.h"

#define MAX_HOPS 10
#define LOCK_POLL_MS 50
#define ERROR_BODY_MAX 65536
/* Resumes that made progress do not count as failed tries; this many end it all the same
 * (a server that sends a few bytes per connection forever). */
#define MAX_RESUMES 100
/* Files at least this large are hashed on the worker thread, overlapping the transfer. */
#define THREAD_HASH_MIN (8LL << 20)

typedef enum { J_PENDING, J_WAITING, J_ACTIVE, J_DONE } job_state;
typedef enum { BODY_UNKNOWN, BODY_FILE, BODY_DISCARD, BODY_ERROR } body_kind;

typedef struct {
    hf_entry *e;
    job_state state;
    long long not_before; /* ms, monotonic */
    bool told_waiting;
    hf_lock lock;
    char *incomplete;
    int fd;
    hf_hasher *hasher;    /* NULL while the hash worker holds it through `track` */
    hf_hashtrack *track;  /* large files: hashed on the worker thread */
    long long have;       /* bytes on disk (hashed, or handed to the worker) */
    long long progress; /* `have` at the last failure: a retry that moved on starts afresh */
    int tries;
    int resumes;
    int redos; /* downloads started over because another writer touched the file */
    CURL *easy;
    hf_response resp;
    char *url;
    int hops;
    body_kind body;
    hf_buf errbody;
    char errbuf[CURL_ERROR_SIZE];
    hf_code local_rc; /* a failure found inside the write callback */
    hf_error local_err;
} job;

typedef struct {
    const hf_fetch_opts *o;
    CURLM *multi;
    job *jobs;
    size_t n;
    size_t active;
    hf_hashworker *hasher; /* started with the first large file */
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

/* Ends the job's transfer and closes what it holds; the .incomplete file stays unless
 * discard is set (its bytes are known to be wrong). */
static void job_close(engine *g, job *j, bool discard) {
    if (j->easy) {
        curl_multi_remove_handle(g->multi, j->easy);
        curl_easy_cleanup(j->easy);
        j->easy = NULL;
        g->active--;
    }
    if (j->track) {
        j->hasher = hf_hashtrack_cancel(j->track);
        j->track = NULL;
    }
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
    if (discard && j->incomplete)
        hf_store_discard_incomplete(g->o->store, j->e);
    hf_hasher_free(j->hasher);
    j->hasher = NULL;
    hf_response_clear(&j->resp);
    hf_buf_free(&j->errbody);
    free(j->url);
    j->url = NULL;
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
    if (j->track) {
        hf_hasher *fresh = new_hasher(j->e);
        hf_hashtrack_reset(j->track, fresh);
        return fresh != NULL;
    }
    hf_hasher_free(j->hasher);
    j->hasher = new_hasher(j->e);
    return j->hasher != NULL;
}

static void decide_body(job *j) {
    long st = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &st);
    if (st >= 300 && st < 400) {
        j->body = BODY_DISCARD;
    } else if (st == 200 || st == 206) {
        j->body = BODY_FILE;
        hf_resume_action a = hf_resume_decide(st, j->resp.content_range, j->have, j->e->size);
        if (a == HF_RESUME_RESTART && !restart(j))
            j->local_rc = hf_fail(&j->local_err, HF_EIO, "cannot restart %s: %s", j->incomplete,
                                  strerror(errno));
        else if (a == HF_RESUME_BAD)
            j->local_rc = hf_fail(&j->local_err, HF_EINTEGRITY,
                                  "the server answered the range request for '%s' with the "
                                  "wrong range (%s; wanted bytes %lld- of %lld)",
                                  j->e->path, j->resp.content_range ? j->resp.content_range : "none",
                                  j->have, j->e->size);
    } else {
        j->body = BODY_ERROR;
    }
}

static size_t on_body(char *data, size_t size, size_t n, void *userp) {
    job *j = userp;
    size_t len = size * n;
    if (j->body == BODY_UNKNOWN)
        decide_body(j);
    if (j->local_rc != HF_OK)
        return 0;
    if (j->body == BODY_DISCARD)
        return len;
    if (j->body == BODY_ERROR) {
        if (j->errbody.len < ERROR_BODY_MAX)
            hf_buf_add(&j->errbody, data, len < ERROR_BODY_MAX ? len : ERROR_BODY_MAX);
        return len;
    }
    if (j->have + (long long)len > j->e->size) {
        j->local_rc = hf_fail(&j->local_err, HF_EINTEGRITY,
                              "the server sent more than the %lld bytes listed for '%s'",
                              j->e->size, j->e->path);
        return 0;
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(j->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            j->local_rc = hf_fail(&j->local_err, HF_EIO, "cannot write %s: %s", j->incomplete,
                                  strerror(w < 0 ? errno : ENOSPC));
            return 0;
        }
        off += (size_t)w;
    }
    long long before = j->have;
    j->have += (long long)len;
    if (j->track) {
        /* the hash worker takes the bytes from memory where it can; the disk's writeback
         * starts every 32 MiB, so the final sync has little left to do */
        hf_hashtrack_feed(j->track, data, len);
        if ((before >> 25) != (j->have >> 25))
            sync_file_range(j->fd, (j->have >> 25 << 25) - (32LL << 20), 32LL << 20,
                            SYNC_FILE_RANGE_WRITE);
    } else
        hf_hasher_update(j->hasher, data, len);
    return len;
}

/* Sends the next request of the job (first hop, a redirect, or a resumed retry). */
static hf_code issue(engine *g, job *j, const char *url) {
    if (url != j->url) {
        char *copy = strdup(url);
        free(j->url);
        j->url = copy;
        if (!copy)
            return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
    }
    if (j->easy) {
        curl_multi_remove_handle(g->multi, j->easy);
        curl_easy_reset(j->easy);
    } else {
        if (!(j->easy = curl_easy_init()))
            return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
        g->active++;
    }
    hf_response_clear(&j->resp);
    hf_buf_free(&j->errbody);
    j->body = BODY_UNKNOWN;
    j->errbuf[0] = '\0';
    hf_code rc = hf_client_setup(g->o->client, j->easy, j->url, HF_REQ_FILE, &j->resp, g->err);
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    char range[64];
    if (j->have > 0) {
        snprintf(range, sizeof range, "%lld-", j->have);
        curl_easy_setopt(j->easy, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
    curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(j->easy, CURLOPT_BUFFERSIZE, 512L * 1024);
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

/* The bytes are all there: check them, then move the file into place. */
static hf_code finish(engine *g, job *j) {
    char sha256[65], sha1[41];
    if (j->track) {
        bool read_back = false;
        hf_hashtrack_written(j->track, j->have);
        j->hasher = hf_hashtrack_finish(j->track, &read_back);
        j->track = NULL;
        if (!read_back)
            return fail(g, j,
                        hf_fail(g->err, HF_EIO, "cannot read back %s to hash it", j->incomplete),
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
    bool changed = false;
    hf_code rc = hf_store_commit(g->o->store, e, j->fd, &changed, g->err);
    j->fd = -1; /* closed by the store */
    if (rc != HF_OK)
        return fail(g, j, rc, false);
    if (changed) /* another writer touched the file: nothing moved; start it over */
        return redo(g, j);
    memcpy(e->sha256, sha256, 65);
    hf_log(logger(g), HF_LOG_DEBUG, "%s: verified (sha256 %s)", e->path, sha256);
    job_close(g, j, false);
    j->state = J_DONE;
    return HF_OK;
}

/* A transient failure: wait, then resume from the byte reached. */
static hf_code retry_later(engine *g, job *j, hf_code rc, const char *retry_after,
                           const char *ratelimit) {
    if (j->have > j->progress) {
        j->tries = 0; /* it moved on: this is a new failure, not the same one again */
        j->resumes++;
    }
    j->progress = j->have;
    if (j->tries >= HF_MAX_RETRIES || j->resumes > MAX_RESUMES)
        return fail(g, j, rc, false);
    long wait = hf_retry_delay_ms(j->tries++, retry_after, ratelimit);
    hf_log(logger(g), HF_LOG_INFO, "%s; retrying in %.1f s from byte %lld", g->err->msg,
           wait / 1000.0, j->have);
    hf_error_clear(g->err);
    curl_multi_remove_handle(g->multi, j->easy);
    curl_easy_cleanup(j->easy);
    j->easy = NULL;
    g->active--;
    j->state = J_WAITING;
    j->not_before = now_ms() + wait;
    return HF_OK;
}

static bool is_redirect(long st) {
    return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* A transfer of the job ended: decide what comes next. */
static hf_code on_done(engine *g, job *j, CURLcode cc) {
    if (j->body == BODY_UNKNOWN && cc == CURLE_OK)
        decide_body(j); /* an empty body never reached the write callback */
    if (j->local_rc != HF_OK) {
        memcpy(g->err, &j->local_err, sizeof *g->err);
        return fail(g, j, j->local_rc, j->local_rc == HF_EINTEGRITY);
    }
    if (cc != CURLE_OK) {
        hf_code rc = hf_curl_error(cc, j->url, j->errbuf, g->err);
        return hf_curl_retryable(cc) ? retry_later(g, j, rc, NULL, NULL) : fail(g, j, rc, false);
    }
    long st = 0;
    curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &st);
    if (is_redirect(st)) {
        char *next = NULL;
        curl_easy_getinfo(j->easy, CURLINFO_REDIRECT_URL, &next);
        if (++j->hops > MAX_HOPS)
            return fail(g, j, hf_fail(g->err, HF_EINTEGRITY, "too many redirects for '%s'",
                                      j->e->path), false);
        if (!next || !hf_url_is_http(next))
            return fail(g, j, hf_fail(g->err, HF_EINTEGRITY,
                                      "refusing a redirect to a non-HTTP URL for '%s'",
                                      j->e->path), false);
        if (j->resp.repo_commit && strcmp(j->resp.repo_commit, g->o->commit) != 0)
            hf_log(logger(g), HF_LOG_WARN, "'%s': the server names commit %s, not %s",
                   j->e->path, j->resp.repo_commit, g->o->commit);
        char *copy = strdup(next);
        hf_code rc = copy ? issue(g, j, copy) : hf_fail(g->err, HF_EOTHER, "out of memory");
        free(copy);
        return rc;
    }
    if (st == 200 || st == 206) {
        if (j->have == j->e->size)
            return finish(g, j);
        if (st == 206 && j->have < j->e->size) /* a partial range answer: ask for the rest */
            return issue(g, j, j->url);
        return fail(g, j,
                    hf_fail(g->err, HF_EINTEGRITY,
                            "'%s': the server sent %lld bytes, the listing says %lld",
                            j->e->path, j->have, j->e->size),
                    true);
    }
    if (st == 416) {
        if (hf_resume_decide(st, j->resp.content_range, j->have, j->e->size) ==
            HF_RESUME_COMPLETE)
            return finish(g, j);
        if (!restart(j))
            return fail(g, j, hf_fail(g->err, HF_EIO, "cannot restart %s", j->incomplete), false);
        return issue(g, j, j->url);
    }
    hf_req_ctx ctx = {g->o->repo->id, g->o->revision, j->e->path,
                      hf_client_sends_token(g->o->client, j->url)};
    hf_hub_answer a = {st, j->resp.error_code, j->resp.error_message, j->resp.request_id,
                       j->errbody.data, j->errbody.len};
    hf_code rc = hf_hub_error(&a, &ctx, g->err);
    if (hf_retry_status(st))
        return retry_later(g, j, rc, j->resp.retry_after, j->resp.ratelimit);
    return fail(g, j, rc, false);
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
    j->progress = j->have;
    if (j->e->size - j->have >= THREAD_HASH_MIN) {
        if (!g->hasher)
            g->hasher = hf_hashworker_new();
        if (g->hasher && (j->track = hf_hashworker_track(g->hasher, j->fd, j->hasher, j->have)))
            j->hasher = NULL;
    }
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
    if (!retry && (!g->o->force || j->told_waiting) && done_if_present(g, j))
        return g->rc;
    if (!retry) {
        hf_code rc = open_incomplete(g, j);
        if (rc != HF_OK)
            return rc;
        if (j->have == j->e->size)
            return finish(g, j); /* all bytes were there already (or the file is empty) */
    }
    /* every try starts at the Hub: a CDN URL from an earlier try may have expired */
    char *url = hf_url_resolve(hf_client_endpoint(g->o->client), g->o->repo, g->o->commit,
                               j->e->path);
    if (!url)
        return fail(g, j, hf_fail(g->err, HF_EOTHER, "out of memory"), false);
    j->hops = 0;
    hf_code rc = issue(g, j, url);
    free(url);
    return rc;
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
    hf_hashworker_free(g.hasher);
    if (g.rc == HF_OK) {
        hf_store_sync(o->store);
        report(&g, true);
    }
    curl_multi_cleanup(g.multi);
    free(g.jobs);
    return g.rc;
}
