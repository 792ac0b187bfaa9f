/* Resume arithmetic: what an answer to "bytes=HAVE-" means for a file of SIZE bytes. */
#ifndef HF_RESUME_H
#define HF_RESUME_H

#include <stdbool.h>

typedef enum {
    HF_RESUME_APPEND,   /* the body continues the file at byte `have` (or starts it) */
    HF_RESUME_RESTART,  /* the body (or the next request) starts the file over from 0 */
    HF_RESUME_COMPLETE, /* 416 for a file we already have whole: nothing more to get */
    HF_RESUME_BAD,      /* a range we did not ask for: refuse */
} hf_resume_action;

/* "bytes FIRST-LAST/TOTAL", or "bytes * /TOTAL" (first and last -1). */
bool hf_content_range_parse(const char *h, long long *first, long long *last, long long *total);

/* 200: append when have is 0, else restart (the server ignored the range). 206: append when
 * the range starts at have and the total is size. 416: complete when we hold all of a file
 * of that size, else restart. Anything else is BAD. */
hf_resume_action hf_resume_decide(long status, const char *content_range, long long have,
                                  long long size);

#endif
