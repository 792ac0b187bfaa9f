/* Where the access token comes from, in the order the official clients use. */
#ifndef HF_TOKEN_H
#define HF_TOKEN_H

#include "error.h"

/* token_file (when given), else $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, the file at $HF_TOKEN_PATH,
 * else $HF_HOME/token (HF_HOME defaults to ~/.cache/huggingface). *out is NULL when there is
 * none. A token holding characters that cannot go in a header is refused (exit 2), and the
 * message never quotes it. */
hf_code hf_token_load(const char *token_file, char **out, hf_error *err);

#endif
