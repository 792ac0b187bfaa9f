/* Path safety: the one check that keeps server-given paths inside the target folder. */
#include "pathsafe.h"

#include <string.h>

/* Length of the UTF-8 sequence at p, or 0 when it is not well-formed (overlong,
 * surrogate or out of range sequences included). */
static size_t utf8_len(const unsigned char *p) {
    if (p[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if ((p[0] & 0xe0) == 0xc0) {
        n = 2, cp = p[0] & 0x1f, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        n = 3, cp = p[0] & 0x0f, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        n = 4, cp = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool hf_path_is_safe(const char *path, const char **why) {
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!path || !*path)
        return *why = "empty path", false;
    if (path[0] == '/')
        return *why = "absolute path", false;
    size_t len = strlen(path);
    if (len > 4096)
        return *why = "path too long", false;
    const unsigned char *p = (const unsigned char *)path;
    const unsigned char *seg = p;
    for (;;) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0)
                return *why = "empty path segment", false;
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return *why = "'.' or '..' path segment", false;
            if (n > 255)
                return *why = "path segment too long", false;
            if (*p == '\0')
                break;
            seg = ++p;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f)
            return *why = "control character in path", false;
        if (*p == '\\')
            return *why = "backslash in path", false;
        size_t n = utf8_len(p);
        if (n == 0)
            return *why = "path is not valid UTF-8", false;
        p += n;
    }
    return true;
}
