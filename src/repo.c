/* Repository identity checks. */
#include "repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

bool hf_repo_type_parse(const char *s, hf_repo_type *out) {
    static const struct {
        const char *name;
        hf_repo_type type;
    } names[] = {{"model", HF_MODEL},      {"models", HF_MODEL}, {"dataset", HF_DATASET},
                 {"datasets", HF_DATASET}, {"space", HF_SPACE},  {"spaces", HF_SPACE}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].type;
            return true;
        }
    }
    return false;
}

const char *hf_repo_type_name(hf_repo_type t) {
    return t == HF_DATASET ? "dataset" : t == HF_SPACE ? "space" : "model";
}

const char *hf_repo_type_api(hf_repo_type t) {
    return t == HF_DATASET ? "datasets" : t == HF_SPACE ? "spaces" : "models";
}

const char *hf_repo_type_url_prefix(hf_repo_type t) {
    return t == HF_DATASET ? "datasets/" : t == HF_SPACE ? "spaces/" : "";
}

static bool id_part_ok(const char *s, size_t n) {
    if (n == 0)
        return false;
    if (s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok)
            return false;
        if (i > 0 && (c == '-' || c == '.') && s[i - 1] == c)
            return false; /* "--" or ".." */
    }
    return true;
}

hf_code hf_repo_id_check(const char *id, hf_error *err) {
    if (!id || !*id)
        return hf_fail(err, HF_EUSAGE, "empty repository id");
    size_t n = strlen(id);
    const char *slash = strchr(id, '/');
    bool ok = n <= 96;
    if (ok && slash)
        ok = strchr(slash + 1, '/') == NULL && id_part_ok(id, (size_t)(slash - id)) &&
             id_part_ok(slash + 1, n - (size_t)(slash - id) - 1);
    else if (ok)
        ok = id_part_ok(id, n);
    if (!ok) {
        /* Quote at most a printable prefix: the id may hold anything. */
        char shown[100];
        size_t k = 0;
        for (size_t i = 0; id[i] && k < sizeof shown - 1; i++)
            shown[k++] = ((unsigned char)id[i] < 0x20 || id[i] == 0x7f) ? '?' : id[i];
        shown[k] = '\0';
        return hf_fail(err, HF_EUSAGE,
                       "invalid repository id '%s%s': expected 'name' or 'owner/name' of letters, "
                       "digits, '-', '_', '.' (at most 96 characters, no '--' or '..', not "
                       "starting or ending with '-' or '.')",
                       shown, n > k ? "..." : "");
    }
    return HF_OK;
}

hf_code hf_revision_check(const char *rev, hf_error *err) {
    if (!rev || !*rev)
        return hf_fail(err, HF_EUSAGE, "empty revision");
    size_t n = strlen(rev);
    if (n > 255)
        return hf_fail(err, HF_EUSAGE, "revision too long (%zu characters, at most 255)", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rev[i];
        if (c < 0x20 || c == 0x7f)
            return hf_fail(err, HF_EUSAGE, "revision contains a control character (byte %zu)",
                           i + 1);
        if (strchr(" ~^:?*[\\", c))
            return hf_fail(err, HF_EUSAGE, "invalid revision '%s': '%c' is not allowed in a ref",
                           rev, c);
    }
    if (rev[0] == '/' || rev[n - 1] == '/' || rev[n - 1] == '.' || strstr(rev, "//") ||
        strstr(rev, "..") || strstr(rev, "@{") || strcmp(rev, "@") == 0 || strstr(rev, "/.") ||
        rev[0] == '.' || (n >= 5 && strcmp(rev + n - 5, ".lock") == 0))
        return hf_fail(err, HF_EUSAGE, "invalid revision '%s': not a valid branch, tag or commit",
                       rev);
    return HF_OK;
}

bool hf_is_hex(const char *s, int n) {
    int i = 0;
    for (; s && s[i]; i++)
        if (i >= n || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == n;
}

bool hf_is_commit(const char *s) {
    return hf_is_hex(s, 40);
}

char *hf_repo_cache_name(const hf_repo *repo) {
    hf_buf b = {0};
    hf_buf_adds(&b, hf_repo_type_api(repo->type));
    hf_buf_adds(&b, "--");
    for (const char *p = repo->id; *p; p++) {
        if (*p == '/')
            hf_buf_adds(&b, "--");
        else
            hf_buf_add(&b, p, 1);
    }
    return hf_buf_take(&b);
}
