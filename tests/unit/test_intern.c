/*
 * test_intern.c — the reference-counted string interner (core/intern.h)
 * and the id containers of pane aggregates (core/idmap.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/idmap.h"
#include "core/intern.h"
#include "unit.h"

static uint32_t intern_s(struct interner *in, const char *s)
{
	return interner_intern(in, s, strlen(s));
}

START_TEST(same_string_same_id)
{
	struct interner *in = interner_new();
	ck_assert_uint_eq(interner_count(in), 0);
	ck_assert_uint_eq(interner_id_limit(in), 0);
	uint32_t a = intern_s(in, "alice"), b = intern_s(in, "bob");
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(intern_s(in, "alice"), a);
	ck_assert_uint_eq(interner_count(in), 2);
	ck_assert_uint_eq(interner_id_limit(in), 2); /* dense */
	ck_assert_uint_lt(a, 2);
	ck_assert_uint_lt(b, 2);
	ck_assert_sv_eq(interner_str(in, a), "alice");
	ck_assert_sv_eq(interner_str(in, b), "bob");
	/* lengths, not C strings: prefixes, embedded NUL, the empty string */
	uint32_t al = interner_intern(in, "alice", 2);
	ck_assert_uint_ne(al, a);
	ck_assert_sv_eq(interner_str(in, al), "al");
	uint32_t n1 = interner_intern(in, "a\0b", 3), n2 = interner_intern(in, "a\0c", 3);
	ck_assert_uint_ne(n1, n2);
	ck_assert_sv_bytes(interner_str(in, n1), "a\0b", 3);
	uint32_t e = interner_intern(in, "", 0);
	ck_assert_uint_eq(interner_intern(in, "", 0), e);
	ck_assert_uint_eq(interner_str(in, e).len, 0);
	ck_assert_uint_eq(interner_count(in), 6);
	interner_free(in);
}
END_TEST

START_TEST(reference_counts)
{
	struct interner *in = interner_new();
	uint32_t a = intern_s(in, "alice");
	ck_assert_uint_eq(interner_refs(in, a), 0); /* new entries have no reference */
	interner_retain(in, a);
	interner_retain(in, a);
	ck_assert_uint_eq(interner_refs(in, a), 2);
	interner_release(in, a);
	ck_assert_uint_eq(interner_refs(in, a), 1);
	ck_assert_uint_eq(interner_count(in), 1);
	ck_assert_sv_eq(interner_str(in, a), "alice"); /* still alive */
	ck_assert_uint_eq(intern_s(in, "alice"), a);
	interner_release(in, a);
	ck_assert_uint_eq(interner_count(in), 0); /* dropped at zero */
	interner_free(in);
}
END_TEST

START_TEST(ids_recycled_after_release)
{
	struct interner *in = interner_new();
	uint32_t a = intern_s(in, "a"), b = intern_s(in, "b"), c = intern_s(in, "c");
	interner_retain(in, a);
	interner_retain(in, b);
	interner_retain(in, c);
	ck_assert_uint_eq(interner_id_limit(in), 3);
	interner_release(in, b);
	ck_assert_uint_eq(interner_count(in), 2);
	/* The next new string takes b's id: the limit does not grow. */
	uint32_t d = intern_s(in, "d");
	ck_assert_uint_eq(d, b);
	interner_retain(in, d);
	ck_assert_uint_eq(interner_id_limit(in), 3);
	ck_assert_sv_eq(interner_str(in, d), "d");
	ck_assert_uint_eq(interner_refs(in, d), 1);
	/* "b" is gone: interning it again makes a new entry, with a new id. */
	uint32_t b2 = intern_s(in, "b");
	ck_assert_uint_ne(b2, a);
	ck_assert_uint_ne(b2, c);
	ck_assert_uint_ne(b2, d);
	ck_assert_uint_eq(interner_refs(in, b2), 0);
	ck_assert_uint_eq(interner_id_limit(in), 4);
	/* Others are untouched. */
	ck_assert_uint_eq(intern_s(in, "a"), a);
	ck_assert_uint_eq(intern_s(in, "c"), c);
	ck_assert_uint_eq(intern_s(in, "d"), d);
	interner_free(in);
}
END_TEST

START_TEST(many_strings_release_half)
{
	/* Enough strings to grow the table several times, then deletions all
	 * over it (backward-shift deletion must keep every survivor findable). */
	enum { N = 3000 };
	struct interner *in = interner_new();
	uint32_t *id = malloc(N * sizeof(*id));
	char s[32];
	for (int i = 0; i < N; i++) {
		snprintf(s, sizeof(s), "s%d", i);
		id[i] = intern_s(in, s);
		interner_retain(in, id[i]);
	}
	ck_assert_uint_eq(interner_count(in), N);
	ck_assert_uint_eq(interner_id_limit(in), N);
	for (int i = 1; i < N; i += 2)
		interner_release(in, id[i]);
	ck_assert_uint_eq(interner_count(in), N / 2);
	for (int i = 0; i < N; i += 2) {
		snprintf(s, sizeof(s), "s%d", i);
		ck_assert_uint_eq(intern_s(in, s), id[i]);
		ck_assert_sv_eq(interner_str(in, id[i]), s);
	}
	ck_assert_uint_eq(interner_count(in), N / 2);
	/* New strings reuse the freed ids: the limit stays at N. */
	for (int i = 0; i < N / 2; i++) {
		snprintf(s, sizeof(s), "t%d", i);
		uint32_t t = intern_s(in, s);
		interner_retain(in, t);
		ck_assert_uint_lt(t, N);
	}
	ck_assert_uint_eq(interner_id_limit(in), N);
	ck_assert_uint_eq(interner_count(in), N);
	for (int i = 0; i < N / 2; i++) {
		snprintf(s, sizeof(s), "t%d", i);
		interner_release(in, intern_s(in, s));
	}
	for (int i = 0; i < N; i += 2)
		interner_release(in, id[i]);
	ck_assert_uint_eq(interner_count(in), 0);
	free(id);
	interner_free(in);
}
END_TEST

START_TEST(random_against_model)
{
	/* Random interning and releasing of strings of 0 to 23 bytes (some
	 * held in the table whole, some not; some with NULs, many sharing
	 * prefixes or lengths) against a plain model: a live string keeps its
	 * id, and a string is found exactly when it is live. */
	struct interner *nul = interner_new();
	/* Trailing NULs and the length tell strings apart, short or long. */
	static const char zeros[12] = "a";
	uint32_t seen[12];
	for (size_t n = 0; n < 12; n++) {
		seen[n] = interner_intern(nul, zeros, n);
		interner_retain(nul, seen[n]);
		for (size_t m = 0; m < n; m++)
			ck_assert_uint_ne(seen[m], seen[n]);
	}
	for (size_t n = 0; n < 12; n++)
		ck_assert_uint_eq(interner_intern(nul, zeros, n), seen[n]);
	interner_free(nul);

	enum { K = 600 };
	char str[K][24];
	size_t len[K];
	uint32_t id[K], refs[K] = {0};
	uint64_t r = 7;
	for (int k = 0; k < K; k++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		len[k] = (size_t)(r >> 40) % 24;
		for (size_t i = 0; i < len[k]; i++) /* few letters: many near misses */
			str[k][i] = "ab\0c"[(r >> (2 * i % 40)) & 3];
	}
	/* A repeat of an earlier string is marked and skipped: the model
	 * wants distinct strings. */
	for (int k = 0; k < K; k++)
		for (int j = 0; j < k; j++)
			if (len[j] == len[k] && !memcmp(str[j], str[k], len[k]))
				len[k] = 30;
	struct interner *in = interner_new();
	for (int step = 0; step < 200000; step++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		int k = (int)((r >> 33) % K);
		if (len[k] == 30)
			continue;
		if (refs[k] && (r >> 20) % 2) {
			interner_release(in, id[k]);
			refs[k]--;
			continue;
		}
		uint32_t got = interner_intern(in, str[k], len[k]);
		if (refs[k])
			ck_assert_uint_eq(got, id[k]);
		id[k] = got;
		interner_retain(in, got);
		refs[k]++;
		struct strview v = interner_str(in, got);
		ck_assert_uint_eq(v.len, len[k]);
		ck_assert(!memcmp(v.ptr, str[k], len[k]));
	}
	uint32_t live = 0;
	for (int k = 0; k < K; k++)
		live += refs[k] > 0;
	ck_assert_uint_eq(interner_count(in), live);
	interner_free(in);
}
END_TEST

START_TEST(idset_membership)
{
	struct idset s = {0};
	ck_assert(idset_add(&s, 7));
	ck_assert(!idset_add(&s, 7));
	ck_assert(idset_add(&s, 0));
	ck_assert_uint_eq(s.n, 2);
	/* grow well past the first table; members stay dense, in order */
	for (uint32_t i = 100; i < 1100; i++)
		ck_assert(idset_add(&s, i * 3));
	for (uint32_t i = 100; i < 1100; i++)
		ck_assert(!idset_add(&s, i * 3));
	ck_assert_uint_eq(s.n, 1002);
	ck_assert_uint_eq(s.ids[0], 7);
	ck_assert_uint_eq(s.ids[1], 0);
	ck_assert_uint_eq(s.ids[1001], 1099 * 3);
	idset_free(&s);
	ck_assert_uint_eq(s.n, 0);
	ck_assert(idset_add(&s, 7)); /* usable again after free */
	idset_free(&s);
}
END_TEST

START_TEST(idcount_counts)
{
	struct idcount m;
	memset(&m, 0, sizeof(m)); /* a zeroed struct is an empty container */
	ck_assert(idcount_add(&m, 5, 1));
	ck_assert(!idcount_add(&m, 5, 2));
	ck_assert(idcount_add(&m, 9, 4));
	for (uint32_t i = 10; i < 200; i++)
		ck_assert(idcount_add(&m, i, i));
	ck_assert(!idcount_add(&m, 9, 1));
	ck_assert_uint_eq(m.keys.n, 192);
	ck_assert_uint_eq(m.keys.ids[0], 5);
	ck_assert_uint_eq(m.counts[0], 3);
	ck_assert_uint_eq(m.keys.ids[1], 9);
	ck_assert_uint_eq(m.counts[1], 5);
	ck_assert_uint_eq(m.keys.ids[191], 199);
	ck_assert_uint_eq(m.counts[191], 199);
	idcount_free(&m);
}
END_TEST

Suite *intern_suite(void)
{
	Suite *s = suite_create("intern");
	TCase *tc = tcase_create("interner");
	tcase_add_test(tc, same_string_same_id);
	tcase_add_test(tc, reference_counts);
	tcase_add_test(tc, ids_recycled_after_release);
	tcase_add_test(tc, many_strings_release_half);
	tcase_add_test(tc, random_against_model);
	suite_add_tcase(s, tc);
	tc = tcase_create("idmap");
	tcase_add_test(tc, idset_membership);
	tcase_add_test(tc, idcount_counts);
	suite_add_tcase(s, tc);
	return s;
}
