/* The hash writer: gathering, writing, and handing buffers to the hash pipe. */
#include "hashwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "hashpipe.h"

/* Four buffers of 512 KiB: 2 MiB and a hash thread for each large download in flight (at
 * most --jobs of them), and 2,048 writes a GiB instead of libcurl's 65,536 pieces of 16 KiB. */
#define SLOTS 4
#define SLOT (512u << 10)
/* The disk's writeback is started every 32 MiB, so a final fsync has little left to do. */
#define WRITEBACK_SHIFT 25

struct hf_hashwriter {
    int fd;
    hf_hashpipe *pipe;
    unsigned char *buf; /* the buffer being gathered, NULL when none is taken yet */
    size_t fill;
    long long written; /* bytes in the file */
};

hf_hashwriter *hf_hashwriter_new(int fd, hf_hasher *h, long long have) {
    hf_hashwriter *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (!(w->pipe = hf_hashpipe_new(SLOTS, SLOT))) {
        free(w);
        return NULL;
    }
    w->fd = fd;
    w->written = have;
    hf_hashpipe_begin(w->pipe, h);
    return w;
}

/* Writes the gathered buffer to the file and hands it to the hash thread. */
static bool flush(hf_hashwriter *w) {
    if (!w->fill)
        return true;
    if (!hf_write_all(w->fd, w->buf, w->fill))
        return false;
    long long before = w->written;
    w->written += (long long)w->fill;
    hf_hashpipe_push(w->pipe, w->fill);
    w->buf = NULL;
    w->fill = 0;
    if ((before >> WRITEBACK_SHIFT) != (w->written >> WRITEBACK_SHIFT)) {
        long long end = w->written >> WRITEBACK_SHIFT << WRITEBACK_SHIFT;
        sync_file_range(w->fd, end - (1LL << WRITEBACK_SHIFT), 1LL << WRITEBACK_SHIFT,
                        SYNC_FILE_RANGE_WRITE);
    }
    return true;
}

bool hf_hashwriter_append(hf_hashwriter *w, const void *data, size_t len) {
    const unsigned char *p = data;
    while (len > 0) {
        if (!w->buf)
            w->buf = hf_hashpipe_buffer(w->pipe);
        size_t n = SLOT - w->fill < len ? SLOT - w->fill : len;
        memcpy(w->buf + w->fill, p, n);
        w->fill += n;
        p += n;
        len -= n;
        if (w->fill == SLOT && !flush(w))
            return false;
    }
    return true;
}

void hf_hashwriter_reset(hf_hashwriter *w, hf_hasher *fresh) {
    w->buf = NULL; /* not handed over: the pipe gives the same buffer again */
    w->fill = 0;
    w->written = 0;
    hf_hasher_free(hf_hashpipe_end(w->pipe));
    hf_hashpipe_begin(w->pipe, fresh);
}

static hf_hasher *end(hf_hashwriter *w) {
    hf_hasher *h = hf_hashpipe_end(w->pipe);
    hf_hashpipe_free(w->pipe);
    free(w);
    return h;
}

bool hf_hashwriter_finish(hf_hashwriter *w, hf_hasher **h) {
    bool ok = flush(w);
    int saved = errno;
    *h = end(w);
    errno = saved;
    return ok;
}

hf_hasher *hf_hashwriter_cancel(hf_hashwriter *w) {
    return w ? end(w) : NULL;
}
