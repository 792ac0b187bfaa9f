/* Progress on stderr for the mains: a bar on a terminal, a log line every few seconds
 * elsewhere (a Galaxy job's stderr), or nothing. */
#ifndef HF_PROGRESS_H
#define HF_PROGRESS_H

#include <stdbool.h>

#include "fetch.h"

typedef enum {
    HF_PROGRESS_AUTO,
    HF_PROGRESS_BAR,
    HF_PROGRESS_LOG,
    HF_PROGRESS_NONE
} hf_progress_mode;

typedef struct {
    hf_progress_mode mode; /* AUTO is settled by hf_progress_init */
    const char *prog;
    long long started_ms;
    long long last_ms;
    bool drew;
} hf_progress;

/* "auto", "bar", "log", "none"; false for anything else. */
bool hf_progress_parse(const char *s, hf_progress_mode *mode);
void hf_progress_init(hf_progress *p, hf_progress_mode mode, const char *prog);
/* An hf_fetch_progress_fn. */
void hf_progress_update(void *ctx, const hf_fetch_stats *s, bool final);

/* "1.5 MiB" */
void hf_format_bytes(long long n, char out[32]);

#endif
