/* What a binary says of itself with --version: its version and, verbose, the libraries it
 * runs with and the Debian source versions a static build was made from. */
#ifndef HF_VERSION_H
#define HF_VERSION_H

#include <stdio.h>

/* "PROG VERSION"; with verbose, one line per library and a "built from:" line. */
void hf_version_print(FILE *out, const char *prog, int verbose);

#endif
