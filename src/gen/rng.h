/*
 * rng.h — deterministic arithmetic and random numbers for `telemetra gen`.
 *
 * The generator promises the same bytes for the same options on every
 * IEEE-754 platform, not just on one libm.  So everything random comes from
 * a private PRNG (xoshiro256** seeded through splitmix64) and every
 * transcendental function is our own, built from + - * / sqrt and exact
 * helpers (floor, frexp, ldexp) only; no fused multiply-add (see rng.c).
 * The distributions the traffic model needs (uniform, normal, exponential,
 * Poisson, Zipf ranks) live here too, so the model reads as a model.
 *
 * Pure: no I/O, no clock, no global state.  A struct rng is a value the
 * caller owns (usually embedded in its own state); nothing is allocated.
 */
#ifndef TELEMETRA_GEN_RNG_H
#define TELEMETRA_GEN_RNG_H

#include <stdbool.h>
#include <stdint.h>

/* e^x (~1 ulp; 0 below -700, e^700 above 700). */
double det_exp(double x);
/* ln x for x > 0; -745 for x <= 0. */
double det_log(double x);
/* a^b = e^(b ln a), a > 0. */
double det_pow(double a, double b);

static inline double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

struct rng {
	uint64_t s[4];
};

/* One step of splitmix64 on *x. */
static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A stateless mix of one word, for ids derived from (seed, stream, n). */
static inline uint64_t mix64(uint64_t x) { return splitmix64(&x); }

/* Seed *r from (seed, stream): distinct streams give independent sequences. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static inline double rng_unif(struct rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
/* Uniform in (0, 1). */
static inline double rng_unif_pos(struct rng *r) { return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }
static inline double rng_range(struct rng *r, double lo, double hi) { return lo + (hi - lo) * rng_unif(r); }
/* Uniform integer in [0, n), n >= 1. */
static inline uint64_t rng_below(struct rng *r, uint64_t n) { return (uint64_t)(rng_unif(r) * (double)n); }
static inline bool rng_chance(struct rng *r, double p) { return rng_unif(r) < p; }
/* Exponential deviate with mean 1. */
static inline double rng_exp(struct rng *r) { return -det_log(rng_unif_pos(r)); }

/* Standard normal deviate (Marsaglia's polar method). */
double rng_normal(struct rng *r);

/* Poisson deviate with mean lambda >= 0; exp_neg_lambda = det_exp(-lambda)
 * (passed in so that a hot loop with a fixed mean computes it once).
 * Inversion: meant for small means (the branching ratio, < 1). */
unsigned rng_poisson_small(struct rng *r, double lambda, double exp_neg_lambda);

/* Truncated Zipf ranks 0 .. n-1 with exponent s != 1, by inverting the
 * continuous approximation of the CDF.  Fill with zipf_init(), draw with
 * zipf_draw(). */
struct zipf {
	double a, inv;
	uint32_t n;
};
void zipf_init(struct zipf *z, uint32_t n, double s);
uint32_t zipf_draw(const struct zipf *z, struct rng *r);

#endif
