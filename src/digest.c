/*
 * digest.c
 *		SHA-256 of a short message: what booking.booking keeps of a hold token.
 *
 * A hold token is 16 bytes, and its digest is computed at every hold and every confirm or
 * release.  PostgreSQL's sha256() reaches it through a generic hashing context (with OpenSSL, an
 * EVP context allocated, initialised and freed per call), which costs several times the hashing
 * itself.  A message of at most 55 bytes fits one 64-byte block with its padding, so the digest
 * here is one run of the compression function over one block, with nothing allocated.  The
 * result is the standard SHA-256 (FIPS 180-4); the regression tests compare it with sha256().
 */
#include "postgres.h"

#include "digest.h"

/* the first 32 bits of the fractional parts of the cube roots of the first 64 primes */
static const uint32 round_constants[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

/* the first 32 bits of the fractional parts of the square roots of the first 8 primes */
static const uint32 initial_state[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static inline uint32
rotr32(uint32 x, int n)
{
	return (x >> n) | (x << (32 - n));
}

void
digest_sha256_short(const uint8 *message, int len, uint8 out[DIGEST_SHA256_LEN])
{
	uint8		block[64];
	uint32		w[64];
	uint32		s[8];
	uint64		bits = (uint64) len * 8;
	int			i;

	if (len < 0 || len > DIGEST_SHA256_MAX_SHORT)
		elog(ERROR, "message of %d bytes is too long for one SHA-256 block", len);

	/* the message, the 1 bit after it, zeros, and its length in bits in the last 8 bytes */
	memset(block, 0, sizeof(block));
	memcpy(block, message, len);
	block[len] = 0x80;
	for (i = 0; i < 8; i++)
		block[63 - i] = (uint8) (bits >> (8 * i));

	for (i = 0; i < 16; i++)
		w[i] = ((uint32) block[4 * i] << 24) | ((uint32) block[4 * i + 1] << 16) |
			((uint32) block[4 * i + 2] << 8) | (uint32) block[4 * i + 3];
	for (i = 16; i < 64; i++)
	{
		uint32		s0 = rotr32(w[i - 15], 7) ^ rotr32(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32		s1 = rotr32(w[i - 2], 17) ^ rotr32(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}

	memcpy(s, initial_state, sizeof(s));
	for (i = 0; i < 64; i++)
	{
		uint32		a = s[0],
					e = s[4];
		uint32		sum1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
		uint32		choose = (e & s[5]) ^ (~e & s[6]);
		uint32		t1 = s[7] + sum1 + choose + round_constants[i] + w[i];
		uint32		sum0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
		uint32		majority = (a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]);
		uint32		t2 = sum0 + majority;

		s[7] = s[6];
		s[6] = s[5];
		s[5] = s[4];
		s[4] = s[3] + t1;
		s[3] = s[2];
		s[2] = s[1];
		s[1] = s[0];
		s[0] = t1 + t2;
	}

	for (i = 0; i < 8; i++)
	{
		uint32		h = initial_state[i] + s[i];

		out[4 * i] = (uint8) (h >> 24);
		out[4 * i + 1] = (uint8) (h >> 16);
		out[4 * i + 2] = (uint8) (h >> 8);
		out[4 * i + 3] = (uint8) h;
	}
}
