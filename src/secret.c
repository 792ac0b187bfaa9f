/* The process's secrets and the one way messages are masked: mask first, then shorten. */
#include "secret.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRETS 4
#define MASK "***"

static char *secrets[MAX_SECRETS];

void hf_secret_add(const char *s) {
    if (!s || !*s)
        return;
    for (int i = 0; i < MAX_SECRETS; i++) {
        if (secrets[i] && strcmp(secrets[i], s) == 0)
            return;
        if (!secrets[i]) {
            secrets[i] = strdup(s);
            return;
        }
    }
}

void hf_secret_clear(void) {
    for (int i = 0; i < MAX_SECRETS; i++)
        if (secrets[i]) {
            explicit_bzero(secrets[i], strlen(secrets[i]));
            free(secrets[i]);
            secrets[i] = NULL;
        }
}

/* The longest secret that starts at p (n bytes left), or NULL. */
static const char *secret_at(const char *p, size_t n) {
    const char *best = NULL;
    for (int i = 0; i < MAX_SECRETS && secrets[i]; i++) {
        size_t k = strlen(secrets[i]);
        if (k <= n && memcmp(p, secrets[i], k) == 0 && (!best || k > strlen(best)))
            best = secrets[i];
    }
    return best;
}

bool hf_secret_in(const char *text, size_t len) {
    if (!text || !secrets[0])
        return false;
    for (size_t i = 0; i < len; i++) {
        const char *s = secret_at(text + i, len - i);
        /* a token too short to be one would make ordinary data look like an echo of it */
        if (s && strlen(s) >= HF_SECRET_MIN_IN_DATA)
            return true;
    }
    return false;
}

bool hf_secret_in_json(const json_t *v) {
    if (!secrets[0] || !v)
        return false;
    json_t *item;
    if (json_is_string(v))
        return hf_secret_in(json_string_value(v), json_string_length(v));
    if (json_is_array(v)) {
        size_t i;
        json_array_foreach((json_t *)v, i, item) {
            if (hf_secret_in_json(item))
                return true;
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_object_foreach((json_t *)v, key, item) {
            if (hf_secret_in(key, strlen(key)) || hf_secret_in_json(item))
                return true;
        }
    }
    return false;
}

void hf_secret_mask(const char *in, char *out, size_t cap) {
    if (cap == 0)
        return;
    size_t n = in ? strlen(in) : 0, k = 0;
    bool cut = false;
    for (size_t i = 0; i < n;) {
        const char *s = secret_at(in + i, n - i);
        const char *piece = s ? MASK : in + i;
        size_t len = s ? strlen(MASK) : 1;
        if (k + len > cap - 1) {
            cut = true;
            break;
        }
        for (size_t j = 0; j < len; j++)
            out[k++] = ((unsigned char)piece[j] < 0x20 || piece[j] == 0x7f) ? ' ' : piece[j];
        i += s ? strlen(s) : 1;
    }
    out[k] = '\0';
    if (cut && cap > 4)
        memcpy(out + (k > cap - 4 ? cap - 4 : k), "...", 4);
}
