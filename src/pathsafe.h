/* Whether a repository path from a server may be used as a local relative path. */
#ifndef HF_PATHSAFE_H
#define HF_PATHSAFE_H

#include <stdbool.h>

/* True for a relative path of valid UTF-8 with no empty, "." or ".." segment, no backslash
 * and no control character. When false, *why (if given) says what is wrong. */
bool hf_path_is_safe(const char *path, const char **why);

#endif
