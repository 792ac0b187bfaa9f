/* A repository's files at a commit, written as TSV or as the JSON object that hf-fetch's
 * manifest extends. */
#ifndef HF_LISTING_H
#define HF_LISTING_H

#include <jansson.h>
#include <stdio.h>

#include "compact.h"
#include "repo.h"
#include "tree.h"

typedef struct {
    hf_repo repo;
    const char *revision; /* as asked */
    const char *commit;   /* what it resolved to */
    const char *endpoint;
    const hf_entries *entries; /* sorted; or NULL, and then: */
    const hf_compact *compact; /* sorted */
} hf_listing;

/* {"repo_id","repo_type","revision","commit","endpoint","files":[...]} with two-space
 * indentation and a final newline, as jansson's JSON_INDENT(2) writes it, one entry at a
 * time: one object per entry {"path","size","lfs","sha256","git_oid"} (sha256 null for
 * regular files; folders end in '/'). Returns 0, or -1 on a write error or a string that is
 * not UTF-8. */
int hf_listing_write_json(FILE *f, const hf_listing *l);

/* The header line "# repo_id=..\trepo_type=..\trevision=..\tcommit=..", the column line and a
 * line per entry. Returns 0, or -1 on a write error. */
int hf_listing_write_tsv(FILE *f, const hf_listing *l);

/* Writes a JSON value with two-space indentation and a final newline; 0 or -1. */
int hf_json_write(FILE *f, json_t *v);
/* hf_json_write of a new value, which it releases; -1 for NULL (out of memory). */
int hf_json_put(FILE *f, json_t *v);

#endif
