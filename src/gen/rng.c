/*
 * rng.c — the deterministic arithmetic and distributions of rng.h.
 *
 * exp() and log() are polynomial after an exact range reduction, so their
 * results depend only on IEEE-754 basic operations; contraction into fused
 * multiply-add is turned off because it would round differently on machines
 * that have it.
 */
#include "config.h"

#include "gen/rng.h"

#include <math.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;

/* A degree-13 Taylor polynomial after reduction to |r| <= ln2 / 2. */
double det_exp(double x)
{
	if (x > 700.0)
		x = 700.0;
	if (x < -700.0)
		return 0.0;
	double k = floor(x * 1.44269504088896340736 + 0.5);
	double r = (x - k * LN2_HI) - k * LN2_LO;
	double p = 1.0 / 6227020800.0;
	p = p * r + 1.0 / 479001600.0;
	p = p * r + 1.0 / 39916800.0;
	p = p * r + 1.0 / 3628800.0;
	p = p * r + 1.0 / 362880.0;
	p = p * r + 1.0 / 40320.0;
	p = p * r + 1.0 / 5040.0;
	p = p * r + 1.0 / 720.0;
	p = p * r + 1.0 / 120.0;
	p = p * r + 1.0 / 24.0;
	p = p * r + 1.0 / 6.0;
	p = p * r + 0.5;
	p = p * r + 1.0;
	p = p * r + 1.0;
	return ldexp(p, (int)k);
}

/* x = m·2^e, ln m = 2·atanh((m−1)/(m+1)). */
double det_log(double x)
{
	if (!(x > 0.0))
		return -745.0;
	int e;
	double m = frexp(x, &e);
	if (m < 0.70710678118654752440) {
		m *= 2.0;
		e--;
	}
	double s = (m - 1.0) / (m + 1.0);
	double s2 = s * s;
	double p = 1.0 / 21.0;
	p = p * s2 + 1.0 / 19.0;
	p = p * s2 + 1.0 / 17.0;
	p = p * s2 + 1.0 / 15.0;
	p = p * s2 + 1.0 / 13.0;
	p = p * s2 + 1.0 / 11.0;
	p = p * s2 + 1.0 / 9.0;
	p = p * s2 + 1.0 / 7.0;
	p = p * s2 + 1.0 / 5.0;
	p = p * s2 + 1.0 / 3.0;
	p = p * s2 + 1.0;
	double fe = (double)e;
	return fe * LN2_HI + (fe * LN2_LO + 2.0 * s * p);
}

double det_pow(double a, double b) { return det_exp(b * det_log(a)); }

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ mix64(stream * UINT64_C(0xD1B54A32D192ED03) + 0x51);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

double rng_normal(struct rng *r)
{
	double u, v, s;
	do {
		u = 2.0 * rng_unif(r) - 1.0;
		v = 2.0 * rng_unif(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * det_log(s) / s);
}

unsigned rng_poisson_small(struct rng *r, double lambda, double exp_neg_lambda)
{
	double u = rng_unif(r), p = exp_neg_lambda, c = p;
	unsigned k = 0;
	while (u >= c && k < 64) {
		k++;
		p *= lambda / (double)k;
		c += p;
	}
	return k;
}

void zipf_init(struct zipf *z, uint32_t n, double s)
{
	z->n = n ? n : 1;
	z->a = 1.0 - det_pow((double)z->n + 1.0, 1.0 - s);
	z->inv = 1.0 / (1.0 - s);
}

uint32_t zipf_draw(const struct zipf *z, struct rng *r)
{
	double u = rng_unif(r);
	double x = det_exp(z->inv * det_log(1.0 - u * z->a));
	uint64_t rank = (uint64_t)x;
	rank = rank > 0 ? rank - 1 : 0;
	return rank >= z->n ? z->n - 1 : (uint32_t)rank;
}
