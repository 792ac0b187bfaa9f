/* The hash worker: one thread, any number of tracked files, taken in turn a chunk at a time.
 * Bytes fed to a track are kept in its ring (when it has one and there is room) and hashed
 * from memory; what did not fit is read back from the file (the page cache). */
#include "hashworker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)
/* Each ring holds this much; at most RINGS tracks have one (peak memory stays bounded
 * whatever --jobs says). */
#define RING (4 << 20)
#define RINGS 2

struct hf_hashtrack {
    hf_hashtrack *next;
    struct hf_hashworker *owner;
    int fd;
    hf_hasher *hasher;
    long long hashed;    /* bytes hashed so far */
    long long written;   /* bytes in the file */
    unsigned gen;        /* bumped by a reset: a chunk read before it is thrown away */
    unsigned char *ring; /* RING bytes: file bytes [ring_from, ring_to) at offset % RING */
    long long ring_from;
    long long ring_to;
    bool busy; /* the worker is hashing a chunk of it, without the lock */
    bool failed;
};

struct hf_hashworker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* something to hash, or stop */
    pthread_cond_t idle; /* a chunk was hashed */
    hf_hashtrack *tracks;
    hf_hashtrack *cursor; /* where the next search starts, for fairness */
    bool stop;
    unsigned char *buf;
    int rings; /* tracks that have a ring */
};

/* How many of the bytes from t->hashed on can be hashed from the ring in one piece. */
static size_t in_ring(const hf_hashtrack *t, long long n) {
    if (!t->ring || t->hashed < t->ring_from || t->hashed >= t->ring_to)
        return 0;
    long long left = t->ring_to - t->hashed;
    long long to_end = RING - t->hashed % RING;
    long long m = left < to_end ? left : to_end;
    return (size_t)(m < n ? m : n);
}

/* After a chunk: the ring's bytes below hashed are free; a ring left behind by bytes read
 * back from the file starts again empty where the hash is. */
static void ring_consumed(hf_hashtrack *t) {
    if (t->hashed >= t->ring_to)
        t->ring_from = t->ring_to = t->hashed;
    else if (t->hashed > t->ring_from)
        t->ring_from = t->hashed;
}

/* A track with bytes to hash, starting after the last one served; NULL when none. */
static hf_hashtrack *next_work(hf_hashworker *w) {
    hf_hashtrack *start = w->cursor && w->cursor->next ? w->cursor->next : w->tracks;
    for (int pass = 0; pass < 2; pass++) {
        for (hf_hashtrack *t = pass ? w->tracks : start; t && (pass == 0 || t != start);
             t = t->next)
            if (!t->failed && t->hashed < t->written)
                return t;
    }
    return NULL;
}

static void *run(void *arg) {
    hf_hashworker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        hf_hashtrack *t = next_work(w);
        if (!t) {
            pthread_cond_wait(&w->work, &w->mu);
            continue;
        }
        w->cursor = t;
        long long off = t->hashed;
        long long n = t->written - off < CHUNK ? t->written - off : CHUNK;
        unsigned gen = t->gen;
        int fd = t->fd;
        hf_hasher *h = t->hasher;
        /* the feeder writes only outside [ring_from, ring_to), so this part stays put */
        size_t mem = in_ring(t, n);
        const unsigned char *from = mem ? t->ring + off % RING : NULL;
        if (mem)
            n = (long long)mem;
        t->busy = true;
        pthread_mutex_unlock(&w->mu);

        bool ok;
        if (from) {
            ok = hf_hasher_update(h, from, (size_t)n);
        } else {
            ssize_t got;
            do
                got = pread(fd, w->buf, (size_t)n, off);
            while (got < 0 && errno == EINTR);
            ok = got == n && hf_hasher_update(h, w->buf, (size_t)n);
        }

        pthread_mutex_lock(&w->mu);
        t->busy = false;
        if (gen == t->gen) {
            if (ok) {
                t->hashed += n;
                ring_consumed(t);
            } else {
                t->failed = true;
            }
        }
        pthread_cond_broadcast(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

hf_hashworker *hf_hashworker_new(void) {
    hf_hashworker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->buf = malloc(CHUNK);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->idle, NULL);
    if (!w->buf || pthread_create(&w->thread, NULL, run, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->work);
        pthread_cond_destroy(&w->idle);
        free(w->buf);
        free(w);
        return NULL;
    }
    return w;
}

void hf_hashworker_free(hf_hashworker *w) {
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->idle);
    free(w->buf);
    free(w);
}

hf_hashtrack *hf_hashworker_track(hf_hashworker *w, int fd, hf_hasher *h, long long hashed) {
    hf_hashtrack *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->owner = w;
    t->fd = fd;
    t->hasher = h;
    t->hashed = t->written = t->ring_from = t->ring_to = hashed;
    pthread_mutex_lock(&w->mu);
    if (w->rings < RINGS && (t->ring = malloc(RING)))
        w->rings++;
    t->next = w->tracks;
    w->tracks = t;
    pthread_mutex_unlock(&w->mu);
    return t;
}

void hf_hashtrack_written(hf_hashtrack *t, long long written) {
    hf_hashworker *w = t->owner;
    pthread_mutex_lock(&w->mu);
    t->written = written;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

void hf_hashtrack_feed(hf_hashtrack *t, const void *data, size_t len) {
    hf_hashworker *w = t->owner;
    pthread_mutex_lock(&w->mu);
    long long before = t->written;
    /* kept only when it continues the ring and fits beside what is still to hash */
    if (t->ring && !t->failed && t->ring_to == before &&
        t->ring_to + (long long)len - t->ring_from <= RING) {
        size_t at = (size_t)(t->ring_to % RING);
        size_t first = len < RING - at ? len : RING - at;
        memcpy(t->ring + at, data, first);
        memcpy(t->ring, (const char *)data + first, len - first);
        t->ring_to += (long long)len;
    }
    t->written = before + (long long)len;
    if ((before >> 20) != (t->written >> 20))
        pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
}

/* Waits (holding the lock) until the worker is not inside t. */
static void wait_not_busy(hf_hashworker *w, hf_hashtrack *t) {
    while (t->busy)
        pthread_cond_wait(&w->idle, &w->mu);
}

void hf_hashtrack_reset(hf_hashtrack *t, hf_hasher *fresh) {
    hf_hashworker *w = t->owner;
    pthread_mutex_lock(&w->mu);
    wait_not_busy(w, t);
    hf_hasher_free(t->hasher);
    t->hasher = fresh;
    t->hashed = t->written = t->ring_from = t->ring_to = 0;
    t->failed = fresh == NULL;
    t->gen++;
    pthread_mutex_unlock(&w->mu);
}

/* Unlinks t from the worker's list (lock held) and frees it; returns its hasher. */
static hf_hasher *drop(hf_hashworker *w, hf_hashtrack *t) {
    for (hf_hashtrack **p = &w->tracks; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    if (w->cursor == t)
        w->cursor = NULL;
    if (t->ring)
        w->rings--;
    free(t->ring);
    hf_hasher *h = t->hasher;
    free(t);
    return h;
}

hf_hasher *hf_hashtrack_finish(hf_hashtrack *t, bool *ok) {
    hf_hashworker *w = t->owner;
    pthread_mutex_lock(&w->mu);
    while (t->busy || (!t->failed && t->hashed < t->written)) {
        pthread_cond_signal(&w->work);
        pthread_cond_wait(&w->idle, &w->mu);
    }
    *ok = !t->failed;
    hf_hasher *h = drop(w, t);
    pthread_mutex_unlock(&w->mu);
    return h;
}

hf_hasher *hf_hashtrack_cancel(hf_hashtrack *t) {
    hf_hashworker *w = t->owner;
    pthread_mutex_lock(&w->mu);
    wait_not_busy(w, t);
    hf_hasher *h = drop(w, t);
    pthread_mutex_unlock(&w->mu);
    return h;
}
