/* crypto.c - AES-256-GCM sealing and constant-time comparison. */
#include "engine/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CRYPTO_NONCE 12
#define CRYPTO_TAG 16

static void crypto_set_id(struct crypto_key *k)
{
	unsigned char digest[32];
	unsigned len = 0;
	EVP_Digest(k->key, CRYPTO_KEY_LEN, digest, &len, EVP_sha256(), NULL);
	k->id = digest[0];
	OPENSSL_cleanse(digest, sizeof(digest));
}

static int crypto_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_key_parse(const char *text, struct crypto_key *k, char *err, size_t errlen)
{
	size_t len = strlen(text);
	unsigned char raw[64];
	int n;

	if (len == 2 * CRYPTO_KEY_LEN) {
		for (size_t i = 0; i < CRYPTO_KEY_LEN; i++) {
			int hi = crypto_hex(text[2 * i]), lo = crypto_hex(text[2 * i + 1]);
			if (hi < 0 || lo < 0)
				goto bad;
			k->key[i] = (unsigned char)(hi * 16 + lo);
		}
		crypto_set_id(k);
		return 0;
	}
	if (len == 44) {
		n = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len);
		/* 44 base64 characters with one '=' decode to 33 bytes, the last padding */
		if (n == 33 && text[43] == '=' && text[42] != '=') {
			memcpy(k->key, raw, CRYPTO_KEY_LEN);
			OPENSSL_cleanse(raw, sizeof(raw));
			crypto_set_id(k);
			return 0;
		}
		OPENSSL_cleanse(raw, sizeof(raw));
	}
bad:
	OPENSSL_cleanse(k, sizeof(*k));
	snprintf(err, errlen, "the encryption key must be 32 bytes written as 64 "
		"hex digits or 44 base64 characters (e.g. from `openssl rand -hex 32`)");
	return -1;
}

int crypto_key_from_env(const char *env, struct crypto_key *k, char *err, size_t errlen)
{
	const char *v = getenv(env);
	if (v == NULL || *v == '\0') {
		snprintf(err, errlen, "the environment variable %s (encryption_key_env) "
			"is not set; set it to the key, e.g. %s=$(openssl rand -hex 32)",
			env, env);
		return -1;
	}
	if (crypto_key_parse(v, k, err, errlen) != 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (in %s)", env);
		return -1;
	}
	return 0;
}

int crypto_is_sealed(const char *text)
{
	return strncmp(text, CRYPTO_PREFIX, strlen(CRYPTO_PREFIX)) == 0;
}

int crypto_seal(const struct crypto_key *k, const char *plain, size_t len,
	struct buf *out)
{
	size_t raw_len = 1 + CRYPTO_NONCE + len + CRYPTO_TAG;
	unsigned char *raw = malloc(raw_len);
	char *b64 = malloc(4 * ((raw_len + 2) / 3) + 1);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, m = 0, rc = -1;

	if (raw == NULL || b64 == NULL || ctx == NULL || len > (size_t)1 << 30)
		goto out;
	raw[0] = k->id;
	if (RAND_bytes(raw + 1, CRYPTO_NONCE) != 1)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw + 1) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + 1 + CRYPTO_NONCE, &n,
		(const unsigned char *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + 1 + CRYPTO_NONCE + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG,
		raw + 1 + CRYPTO_NONCE + n + m) != 1)
		goto out;
	n = EVP_EncodeBlock((unsigned char *)b64, raw, (int)raw_len);
	if (buf_adds(out, CRYPTO_PREFIX) || buf_add(out, b64, (size_t)n))
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	free(b64);
	return rc;
}

int crypto_open(const struct crypto_key *k, const char *text, struct buf *out,
	char *err, size_t errlen)
{
	const char *b64 = text + strlen(CRYPTO_PREFIX);
	size_t b64_len = strlen(b64), raw_len, pad = 0;
	unsigned char *raw = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	char *plain = NULL;
	int n = 0, m = 0, rc = -1;

	if (!crypto_is_sealed(text) || b64_len % 4 != 0 || b64_len == 0) {
		snprintf(err, errlen, "not a sealed value");
		return -1;
	}
	pad = (b64[b64_len - 1] == '=') + (b64[b64_len - 2] == '=');
	raw = malloc(b64_len / 4 * 3 + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (raw == NULL || ctx == NULL)
		goto oom;
	n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len);
	if (n < 0 || (size_t)n < pad + 1 + CRYPTO_NONCE + CRYPTO_TAG) {
		snprintf(err, errlen, "a sealed value is damaged");
		goto out;
	}
	raw_len = (size_t)n - pad;
	if (raw[0] != k->id) {
		snprintf(err, errlen, "a value was sealed with key id %u, but the "
			"configured key has id %u: set the key it was sealed with, or "
			"run blueflow db rekey", raw[0], k->id);
		goto out;
	}
	plain = malloc(raw_len);
	if (plain == NULL)
		goto oom;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, k->key, raw + 1) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, raw + 1 + CRYPTO_NONCE,
		(int)(raw_len - 1 - CRYPTO_NONCE - CRYPTO_TAG)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG,
		raw + raw_len - CRYPTO_TAG) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &m) != 1) {
		snprintf(err, errlen, "a sealed value does not open with the "
			"configured key: the key is wrong or the value was altered");
		goto out;
	}
	if (buf_add(out, plain, (size_t)(n + m)) != 0) {
		snprintf(err, errlen, "a sealed value is too large");
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (plain)
		OPENSSL_cleanse(plain, raw_len);
	free(plain);
	free(raw);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}
