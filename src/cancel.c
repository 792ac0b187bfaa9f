/* Cancellation: registered temporaries, removed by the signal handler before it exits. */
#include "cancel.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64

enum { FREE, CLAIMED, ARMED };

/* A slot is claimed by one thread (compare-and-swap), filled, then armed: the handler reads
 * only armed slots, whose path is complete. Lock-free atomics are async-signal-safe. */
static struct {
    atomic_int state;
    int dirfd; /* AT_FDCWD, or the open folder the name is in */
    char path[PATH_MAX];
} slots[SLOTS];

static void on_signal(int sig) {
    for (int i = 0; i < SLOTS; i++)
        if (atomic_load(&slots[i].state) == ARMED)
            (void)unlinkat(slots[i].dirfd, slots[i].path, 0);
    _exit(128 + sig);
}

void hf_cancel_install(void) {
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigfillset(&sa.sa_mask); /* one handler at a time: a second signal waits for _exit */
        (void)sigaction(sigs[i], &sa, NULL);
    }
}

int hf_cancel_track(const char *path) {
    return hf_cancel_track_at(AT_FDCWD, path);
}

int hf_cancel_track_at(int dirfd, const char *path) {
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expect = FREE;
        if (atomic_compare_exchange_strong(&slots[i].state, &expect, CLAIMED)) {
            slots[i].dirfd = dirfd;
            memcpy(slots[i].path, path, n + 1);
            atomic_store(&slots[i].state, ARMED);
            return i;
        }
    }
    return -1;
}

void hf_cancel_untrack(int ticket) {
    if (ticket >= 0 && ticket < SLOTS)
        atomic_store(&slots[ticket].state, FREE);
}
