/* Messages from the library to whoever runs it: the library never prints itself. */
#ifndef HF_LOG_H
#define HF_LOG_H

typedef enum { HF_LOG_WARN = 0, HF_LOG_INFO = 1, HF_LOG_DEBUG = 2 } hf_log_level;

typedef void (*hf_log_fn)(void *ctx, hf_log_level level, const char *msg);

typedef struct {
    hf_log_fn fn; /* may be NULL: then nothing is said */
    void *ctx;
} hf_logger;

void hf_log(const hf_logger *lg, hf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
