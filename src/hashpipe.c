/* The hash pipe: a ring of buffers between the copying thread and one hashing thread. */
#include "hashpipe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct hf_hashpipe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a buffer was handed over, or stop */
    pthread_cond_t done; /* a buffer was hashed */
    unsigned char **bufs;
    size_t *lens;
    size_t slots, size;
    unsigned long long pushed, hashed; /* buffers handed over and hashed so far */
    hf_hasher *hasher;
    bool stop;
};

static void *run(void *arg) {
    hf_hashpipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->hashed == p->pushed)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->hashed == p->pushed) /* stopped, nothing left */
            break;
        size_t slot = (size_t)(p->hashed % p->slots);
        hf_hasher *h = p->hasher;
        pthread_mutex_unlock(&p->mu);
        hf_hasher_update(h, p->bufs[slot], p->lens[slot]);
        pthread_mutex_lock(&p->mu);
        p->hashed++;
        pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pipe_free(hf_hashpipe *p) {
    for (size_t i = 0; p->bufs && i < p->slots; i++)
        free(p->bufs[i]);
    free(p->bufs);
    free(p->lens);
    free(p);
}

hf_hashpipe *hf_hashpipe_new(size_t slots, size_t size) {
    hf_hashpipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->slots = slots;
    p->size = size;
    p->bufs = calloc(slots, sizeof *p->bufs);
    p->lens = calloc(slots, sizeof *p->lens);
    bool ok = p->bufs && p->lens;
    for (size_t i = 0; ok && i < slots; i++)
        ok = (p->bufs[i] = malloc(size)) != NULL;
    if (!ok) {
        pipe_free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pipe_free(p);
        return NULL;
    }
    return p;
}

void hf_hashpipe_free(hf_hashpipe *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pipe_free(p);
}

size_t hf_hashpipe_size(const hf_hashpipe *p) {
    return p->size;
}

void hf_hashpipe_begin(hf_hashpipe *p, hf_hasher *h) {
    pthread_mutex_lock(&p->mu);
    p->hasher = h;
    pthread_mutex_unlock(&p->mu);
}

unsigned char *hf_hashpipe_buffer(hf_hashpipe *p) {
    pthread_mutex_lock(&p->mu);
    /* a free slot: fewer than `slots` handed over and not hashed yet */
    while (p->pushed - p->hashed >= p->slots)
        pthread_cond_wait(&p->done, &p->mu);
    unsigned char *b = p->bufs[p->pushed % p->slots];
    pthread_mutex_unlock(&p->mu);
    return b;
}

void hf_hashpipe_push(hf_hashpipe *p, size_t n) {
    pthread_mutex_lock(&p->mu);
    p->lens[p->pushed % p->slots] = n;
    p->pushed++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

hf_hasher *hf_hashpipe_end(hf_hashpipe *p) {
    pthread_mutex_lock(&p->mu);
    while (p->hashed != p->pushed)
        pthread_cond_wait(&p->done, &p->mu);
    hf_hasher *h = p->hasher;
    p->hasher = NULL;
    pthread_mutex_unlock(&p->mu);
    return h;
}
