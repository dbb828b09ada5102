/*
 * philox.h - Philox4x32-10 as an inline function, for the kernels that draw
 * many blocks (dropout); frost_rng_block (rng.c) is the same function.
 */
#ifndef FROST_PHILOX_H
#define FROST_PHILOX_H

#include <stdint.h>

static inline void frost__philox(uint64_t seed, uint64_t stream, uint64_t block, uint32_t out[4])
{
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32);
    uint32_t c2 = (uint32_t)stream, c3 = (uint32_t)(stream >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Eight consecutive blocks block0 .. block0 + 7, lanes side by side
 * (structure of arrays) so the compiler can run the rounds in SIMD lanes:
 * out[w][j] is word w of block block0 + j. */
static inline __attribute__((always_inline)) void frost__philox8(uint64_t seed, uint64_t stream, uint64_t block0, uint32_t out[4][8])
{
    uint32_t c0[8], c1[8], c2[8], c3[8];
    for (int j = 0; j < 8; j++) {
        uint64_t b = block0 + (uint64_t)j;
        c0[j] = (uint32_t)b;
        c1[j] = (uint32_t)(b >> 32);
        c2[j] = (uint32_t)stream;
        c3[j] = (uint32_t)(stream >> 32);
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        for (int j = 0; j < 8; j++) {
            uint64_t p0 = (uint64_t)0xD2511F53u * c0[j];
            uint64_t p1 = (uint64_t)0xCD9E8D57u * c2[j];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
            c1[j] = (uint32_t)p1;
            c3[j] = (uint32_t)p0;
            c0[j] = n0;
            c2[j] = n2;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    for (int j = 0; j < 8; j++) {
        out[0][j] = c0[j];
        out[1][j] = c1[j];
        out[2][j] = c2[j];
        out[3][j] = c3[j];
    }
}

#endif
