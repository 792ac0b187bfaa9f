/* Which CA certificates verify HTTPS: probed, never skipped. */
#ifndef HF_CABUNDLE_H
#define HF_CABUNDLE_H

/* The first of $CURL_CA_BUNDLE, $SSL_CERT_FILE and the usual distribution bundle paths that
 * is a readable file, or NULL. */
const char *hf_ca_file(void);
/* $SSL_CERT_DIR when it names a folder, or NULL. */
const char *hf_ca_dir(void);

#endif
