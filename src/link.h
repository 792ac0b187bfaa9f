/* The `Link` response header (RFC 8288), for the tree's pagination. */
#ifndef HF_LINK_H
#define HF_LINK_H

/* Returns the target of the first link whose rel includes "next" (caller frees), or NULL. */
char *hf_link_next(const char *header);

#endif
