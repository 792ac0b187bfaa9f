/* Model card front matter: libyaml's document loader, turned into JSON. */
#include "bundle_card.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Lines end with \n, \r\n or \r, as in huggingface_hub's pattern
 * ^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$)). */
static bool is_nl(char c) {
    return c == '\n' || c == '\r';
}

bool hf_card_front_matter(const char *text, size_t len, const char **start, size_t *n) {
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || is_nl(text[i]) || text[i] == '\f' ||
                       text[i] == '\v'))
        i++;
    if (len - i < 3 || memcmp(text + i, "---", 3) != 0)
        return false;
    i += 3;
    if (i >= len || !is_nl(text[i]))
        return false;
    while (i < len && is_nl(text[i]))
        i++;
    size_t body = i;
    /* the first run of line ends followed by "---" and a line end (or the end) */
    for (size_t j = body; j < len; j++) {
        if (!is_nl(text[j]))
            continue;
        size_t k = j;
        while (k < len && is_nl(text[k]))
            k++;
        if (len - k >= 3 && memcmp(text + k, "---", 3) == 0 &&
            (k + 3 == len || text[k + 3] == '\n' ||
             (text[k + 3] == '\r' && k + 4 < len && text[k + 4] == '\n'))) {
            *start = text + body;
            *n = j - body;
            return true;
        }
        j = k - 1;
    }
    /* the empty front matter "---\n---" */
    return false;
}

typedef struct {
    yaml_document_t *doc;
    size_t nodes;
    hf_error *err;
    hf_code rc;
} conv;

static bool match_all(const char *s, const char *const *words) {
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return true;
    return false;
}

static bool all_in(const char *s, size_t n, const char *set) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]))
            return false;
    return true;
}

/* YAML 1.2 core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s) {
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    size_t a = strspn(p, "0123456789");
    p += a;
    size_t b = 0;
    if (*p == '.') {
        p++;
        b = strspn(p, "0123456789");
        p += b;
    } else if (a == 0) {
        return false;
    }
    if (a == 0 && b == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        size_t c = strspn(p, "0123456789");
        if (c == 0)
            return false;
        p += c;
    }
    return *p == '\0';
}

static json_t *plain_scalar(const char *s, size_t n) {
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    if (strlen(s) != n) /* a NUL inside: only a quoted scalar can hold one, but be safe */
        return json_stringn(s, n);
    if (match_all(s, nulls))
        return json_null();
    if (match_all(s, trues))
        return json_true();
    if (match_all(s, falses))
        return json_false();
    const char *digits = s + (s[0] == '-' || s[0] == '+');
    int base = 0;
    if (all_in(digits, strlen(digits), "0123456789"))
        base = 10;
    else if (strncmp(s, "0o", 2) == 0 && all_in(s + 2, n - 2, "01234567"))
        base = 8;
    else if (strncmp(s, "0x", 2) == 0 && all_in(s + 2, n - 2, "0123456789abcdefABCDEF"))
        base = 16;
    if (base) {
        errno = 0;
        long long v = strtoll(base == 10 ? s : s + 2, NULL, base);
        if (errno == 0)
            return json_integer((json_int_t)v);
        return json_stringn(s, n); /* too large for an integer: keep the text */
    }
    if (is_float(s)) {
        double d = strtod(s, NULL);
        return isfinite(d) ? json_real(d) : json_stringn(s, n);
    }
    /* .inf, .nan and friends: not JSON numbers, kept as text */
    return json_stringn(s, n);
}

static json_t *node_json(conv *c, int id, int depth) {
    yaml_node_t *node = yaml_document_get_node(c->doc, id);
    if (!node) {
        c->rc = hf_fail(c->err, HF_EUSAGE, "YAML: a reference to a missing node");
        return NULL;
    }
    if (depth > HF_CARD_MAX_DEPTH) {
        c->rc = hf_fail(c->err, HF_EUSAGE, "YAML nested more than %d levels (or an alias cycle)",
                        HF_CARD_MAX_DEPTH);
        return NULL;
    }
    if (++c->nodes > HF_CARD_MAX_NODES) {
        c->rc =
            hf_fail(c->err, HF_EUSAGE, "YAML makes more than %d values (aliases expanded): refused",
                    HF_CARD_MAX_NODES);
        return NULL;
    }
    json_t *out = NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *s = (const char *)node->data.scalar.value;
        size_t n = node->data.scalar.length;
        out = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s, n)
                                                                 : json_stringn(s, n);
        break;
    }
    case YAML_SEQUENCE_NODE:
        out = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             out && it < node->data.sequence.items.top; it++) {
            json_t *v = node_json(c, *it, depth + 1);
            if (!v || json_array_append_new(out, v) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        break;
    case YAML_MAPPING_NODE:
        out = json_object();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
             out && p < node->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE)
                continue; /* a complex key: JSON has no place for it */
            json_t *v = node_json(c, p->value, depth + 1);
            if (!v || json_object_setn_new(out, (const char *)k->data.scalar.value,
                                           k->data.scalar.length, v) != 0) {
                json_decref(out);
                return NULL;
            }
        }
        break;
    default:
        out = json_null();
        break;
    }
    if (!out && c->rc == HF_OK)
        c->rc = hf_fail(c->err, HF_EOTHER, "out of memory (or invalid UTF-8) converting YAML");
    return out;
}

hf_code hf_card_yaml_to_json(const char *yaml, size_t len, json_t **out, hf_error *err) {
    *out = NULL;
    if (len > HF_CARD_MAX_YAML)
        return hf_fail(err, HF_EUSAGE, "YAML front matter larger than %u bytes: not read",
                       HF_CARD_MAX_YAML);
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return hf_fail(err, HF_EOTHER, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        hf_code rc = hf_fail(err, HF_EUSAGE, "invalid YAML at line %zu, column %zu: %s%s%s",
                             parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                             parser.problem ? parser.problem : "error", parser.context ? " " : "",
                             parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    conv c = {&doc, 0, err, HF_OK};
    if (yaml_document_get_root_node(&doc))
        *out = node_json(&c, 1, 0);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (c.rc != HF_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return c.rc;
}

hf_code hf_card_parse(const char *readme, size_t len, json_t **out, hf_error *err) {
    const char *fm;
    size_t n;
    *out = NULL;
    if (!hf_card_front_matter(readme, len, &fm, &n))
        return HF_OK;
    return hf_card_yaml_to_json(fm, n, out, err);
}

/* A non-empty string without NUL bytes. */
static bool usable(const json_t *v) {
    return json_is_string(v) && json_string_length(v) > 0 &&
           strlen(json_string_value(v)) == json_string_length(v);
}

size_t hf_card_licenses(const json_t *card, const char **out, size_t max) {
    json_t *l = json_object_get(card, "license");
    size_t k = 0;
    if (usable(l)) {
        if (max > 0)
            out[k++] = json_string_value(l);
    } else if (json_is_array(l)) {
        size_t i;
        json_t *v;
        json_array_foreach(l, i, v) {
            if (k < max && usable(v))
                out[k++] = json_string_value(v);
        }
    }
    return k;
}

const char *hf_card_name(const json_t *card) {
    static const char *const keys[] = {"pretty_name", "model_name"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(card, keys[i]);
        if (usable(v))
            return json_string_value(v);
    }
    json_t *idx = json_array_get(json_object_get(card, "model-index"), 0);
    json_t *v = json_object_get(idx, "name");
    return usable(v) ? json_string_value(v) : NULL;
}
