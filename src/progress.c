/* Progress display. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_EVERY_MS 5000
#define BAR_EVERY_MS 200

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hf_progress_parse(const char *s, hf_progress_mode *mode) {
    static const char *const names[] = {"auto", "bar", "log", "none"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *mode = (hf_progress_mode)i;
            return true;
        }
    return false;
}

void hf_progress_init(hf_progress *p, hf_progress_mode mode, const char *prog) {
    memset(p, 0, sizeof *p);
    if (mode == HF_PROGRESS_AUTO)
        mode = isatty(STDERR_FILENO) ? HF_PROGRESS_BAR : HF_PROGRESS_LOG;
    p->mode = mode;
    p->prog = prog;
    p->started_ms = p->last_ms = now_ms();
}

void hf_format_bytes(long long n, char out[32]) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void hf_progress_update(void *ctx, const hf_fetch_stats *s, bool final) {
    hf_progress *p = ctx;
    if (p->mode == HF_PROGRESS_NONE)
        return;
    long long now = now_ms();
    long long every = p->mode == HF_PROGRESS_BAR ? BAR_EVERY_MS : LOG_EVERY_MS;
    if (!final && now - p->last_ms < every)
        return;
    p->last_ms = now;
    double secs = (double)(now - p->started_ms) / 1000.0;
    char done[32], total[32], rate[32];
    hf_format_bytes(s->bytes_done, done);
    hf_format_bytes(s->bytes_total, total);
    hf_format_bytes(secs > 0 ? (long long)((double)s->bytes_done / secs) : 0, rate);
    int pct =
        s->bytes_total > 0 ? (int)(100.0 * (double)s->bytes_done / (double)s->bytes_total) : 100;
    if (p->mode == HF_PROGRESS_BAR) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %s/%s %s/s %zu/%zu files\033[K%s", bar, pct, done, total,
                rate, s->files_done, s->files_total, final ? "\n" : "");
        p->drew = true;
    } else {
        fprintf(stderr, "%s: %d%% %s of %s, %zu of %zu files, %s/s\n", p->prog, pct, done, total,
                s->files_done, s->files_total, rate);
    }
    fflush(stderr);
}
