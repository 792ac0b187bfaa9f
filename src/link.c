/* Link header parsing: `<uri>; rel="next"; ..., <uri>; rel=last`. */
#include "link.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* True when the space-separated relation list [v, v+n) holds "next". */
static bool rel_has_next(const char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t start = i;
        while (i < n && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i - start == 4 && strncasecmp(v + start, "next", 4) == 0)
            return true;
    }
    return false;
}

char *hf_link_next(const char *header) {
    const char *p = header;
    while (p && *p) {
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '<')
            return NULL;
        const char *uri = p + 1;
        const char *end = strchr(uri, '>');
        if (!end)
            return NULL;
        size_t uri_len = (size_t)(end - uri);
        p = end + 1;
        bool next = false;
        /* parameters: ; name[=value] where value is a token or a quoted string */
        for (;;) {
            p = skip_ws(p);
            if (*p != ';')
                break;
            p = skip_ws(p + 1);
            const char *name = p;
            while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            size_t name_len = (size_t)(p - name);
            p = skip_ws(p);
            const char *val = p;
            size_t val_len = 0;
            if (*p == '=') {
                p = skip_ws(p + 1);
                if (*p == '"') {
                    val = ++p;
                    while (*p && *p != '"') {
                        if (*p == '\\' && p[1])
                            p++;
                        p++;
                    }
                    val_len = (size_t)(p - val);
                    if (*p == '"')
                        p++;
                } else {
                    val = p;
                    while (*p && *p != ';' && *p != ',' && *p != ' ' && *p != '\t')
                        p++;
                    val_len = (size_t)(p - val);
                }
            }
            if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(val, val_len))
                next = true;
        }
        if (next && uri_len > 0)
            return strndup(uri, uri_len);
        p = skip_ws(p);
        if (*p && *p != ',')
            return NULL; /* malformed: stop rather than guess */
    }
    return NULL;
}
