/* crypto.h - sealing values at rest with AES-256-GCM (OpenSSL EVP), and
 * comparing secrets in constant time.
 *
 * A sealed value is text: "bf1:" + base64(key id | 96-bit nonce |
 * ciphertext | 128-bit tag). The key id is the first byte of the key's
 * SHA-256, so a value sealed under another key is told apart from a
 * damaged one, and keys can be rotated (blueflow db rekey). */
#ifndef BLUEFLOW_CRYPTO_H
#define BLUEFLOW_CRYPTO_H

#include <stddef.h>

#include "engine/buf.h"

#define CRYPTO_KEY_LEN 32
#define CRYPTO_PREFIX "bf1:"

struct crypto_key {
	unsigned char key[CRYPTO_KEY_LEN];
	unsigned char id;
};

/* Reads a key written as 64 hex digits or as base64 of 32 bytes.
 * Returns 0, or -1 with the reason in err. */
int crypto_key_parse(const char *text, struct crypto_key *k, char *err, size_t errlen);

/* Reads the key from the environment variable env. Returns 0, or -1 with
 * the reason in err (unset, empty, malformed). */
int crypto_key_from_env(const char *env, struct crypto_key *k, char *err, size_t errlen);

/* Appends len bytes of plain, sealed, to out. Returns 0, or -1 when out
 * is full or the cipher failed. */
int crypto_seal(const struct crypto_key *k, const char *plain, size_t len,
	struct buf *out);

/* Whether text is a sealed value. */
int crypto_is_sealed(const char *text);

/* Appends the plaintext of sealed text to out. Returns 0; -1 when it was
 * sealed under another key (err says which), or is damaged. */
int crypto_open(const struct crypto_key *k, const char *text, struct buf *out,
	char *err, size_t errlen);

/* Compares two byte strings in constant time (for secrets); 1 if equal. */
int crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
