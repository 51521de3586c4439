/*
 * test_lexicon.c — word lists, the tokenizer and message sentiment
 * (SPEC §3, core/lexicon.h).  Lexicons are built here from small lists so
 * that every expectation is visible in the test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/lexicon.h"
#include "unit.h"

static struct lexicon *lex;

static bool add(enum polarity pol, const char *text, const char *name, struct error *err)
{
	return lexicon_add_list(lex, pol, text, strlen(text), name, err);
}

static void setup(void)
{
	struct error err;
	lex = lexicon_new();
	ck_assert_msg(add(POLARITY_POSITIVE, "good\ngreat\ntr\xc3\xa8s\ndon't\ngg\n100\n", "pos", &err),
	              "%s", err.msg);
	ck_assert_msg(add(POLARITY_NEGATIVE, "bad\n", "neg", &err), "%s", err.msg);
}

static void teardown(void) { lexicon_free(lex); }

START_TEST(list_parsing)
{
	struct error err;
	struct lexicon *l = lexicon_new();
	const char *pos = "# a comment\n\n  good  \nGreat\r\n\tawesome\t\n  # indented comment\n"
	                  "   \n\nfine"; /* no final newline */
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, pos, strlen(pos), "p", &err));
	ck_assert_uint_eq(lexicon_count(l, POLARITY_POSITIVE), 4);
	ck_assert_uint_eq(lexicon_count(l, POLARITY_NEGATIVE), 0);
	const char *neg = "bad\r\nterrible\n";
	ck_assert(lexicon_add_list(l, POLARITY_NEGATIVE, neg, strlen(neg), "n", &err));
	ck_assert_uint_eq(lexicon_count(l, POLARITY_NEGATIVE), 2);
	unsigned p, n;
	/* "Great" was lower-cased when loaded; "fine" (last line) is in. */
	sentiment_count(l, "great FINE awesome good", 23, &p, &n);
	ck_assert_uint_eq(p, 4);
	sentiment_count(l, "Terrible bad", 12, &p, &n);
	ck_assert_uint_eq(n, 2);
	/* comment text is not a word */
	sentiment_count(l, "a comment indented", 18, &p, &n);
	ck_assert_uint_eq(p + n, 0);
	lexicon_free(l);
}
END_TEST

START_TEST(list_repeats_and_empty)
{
	struct error err;
	struct lexicon *l = lexicon_new();
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, "good\ngood\nGOOD\n", 15, "p", &err));
	ck_assert_uint_eq(lexicon_count(l, POLARITY_POSITIVE), 1);
	/* a second list of the same polarity adds to the first */
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, "nice\ngood\n", 10, "p2", &err));
	ck_assert_uint_eq(lexicon_count(l, POLARITY_POSITIVE), 2);
	ck_assert(lexicon_add_list(l, POLARITY_NEGATIVE, "", 0, "empty", &err));
	ck_assert_uint_eq(lexicon_count(l, POLARITY_NEGATIVE), 0);
	lexicon_free(l);
}
END_TEST

START_TEST(list_word_in_both)
{
	struct error err = {{0}};
	struct lexicon *l = lexicon_new();
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, "good\nnice\n", 10, "pos.txt", &err));
	ck_assert(!lexicon_add_list(l, POLARITY_NEGATIVE, "bad\n\nNice\n", 10, "neg.txt", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "nice"));
	ck_assert_ptr_nonnull(strstr(err.msg, "pos.txt:2"));
	ck_assert_ptr_nonnull(strstr(err.msg, "neg.txt:3"));
	lexicon_free(l);
}
END_TEST

START_TEST(list_bad_words)
{
	static const struct {
		const char *text;
		const char *where;
	} c[] = {
		{"good\ngood day\n", "lst:2"}, {"a-b\n", "lst:1"}, {"ok\n\ngood!\n", "lst:3"},
		{"x.y\n", "lst:1"}, {"tab\tinside\n", "lst:1"},
		/* a trailing comment is not a comment: the line is not one token */
		{"good # nice\n", "lst:1"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct error err = {{0}};
		struct lexicon *l = lexicon_new();
		ck_assert_msg(!lexicon_add_list(l, POLARITY_POSITIVE, c[i].text, strlen(c[i].text), "lst",
		                                &err),
		              "accepted %s", c[i].text);
		ck_assert_msg(strstr(err.msg, c[i].where) != NULL, "\"%s\" lacks %s", err.msg,
		              c[i].where);
		lexicon_free(l);
	}
}
END_TEST

START_TEST(list_word_length)
{
	char w[70];
	struct error err = {{0}};
	struct lexicon *l = lexicon_new();
	memset(w, 'a', 63);
	w[63] = '\n';
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, w, 64, "p", &err));
	unsigned p, n;
	sentiment_count(l, w, 63, &p, &n);
	ck_assert_uint_eq(p, 1);
	memset(w, 'a', 64); /* a 64-letter token does not match the 63-letter word */
	sentiment_count(l, w, 64, &p, &n);
	ck_assert_uint_eq(p, 0);
	w[64] = '\n';
	ck_assert(!lexicon_add_list(l, POLARITY_NEGATIVE, w, 65, "n", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "n:1"));
	lexicon_free(l);
}
END_TEST

struct count_case {
	const char *msg;
	size_t len; /* 0: strlen */
	unsigned pos, neg;
};

START_TEST(tokenizer_and_counts)
{
	static const struct count_case c[] = {
		{"", 0, 0, 0},
		{"good", 0, 1, 0},
		{"GOOD", 0, 1, 0},
		{"GoOd!!!", 0, 1, 0},
		{"good good GOOD", 0, 1, 0}, /* distinct tokens */
		{"good great", 0, 2, 0},
		{"good bad", 0, 1, 1},
		{"bad, BAD; bad", 0, 0, 1},
		{"good bad great bad good", 0, 2, 1},
		{"goodness", 0, 0, 0},   /* whole tokens only */
		{"good_times", 0, 0, 0}, /* '_' is a token byte */
		{"good's", 0, 0, 0},     /* so is '\'' */
		{"'good'", 0, 0, 0},
		{"don't", 0, 1, 0},
		{"DON'T", 0, 1, 0},
		{"don", 0, 0, 0},
		{"good123", 0, 0, 0}, /* digits are token bytes */
		{"100%", 0, 1, 0},
		{"1000", 0, 0, 0},
		{"good-bad", 0, 1, 1},
		{"good.bad", 0, 1, 1},
		{"(good)", 0, 1, 0},
		{"good\tbad\ngreat", 0, 2, 1},
		{"gg", 0, 1, 0},
		{"GG", 0, 1, 0},
		{"ggg", 0, 0, 0},
		/* bytes >= 0x80 are token bytes: an emoji glued to a word makes
		 * one token that is not the word */
		{"\xf0\x9f\x98\x80good", 0, 0, 0},
		{"good\xf0\x9f\x98\x80", 0, 0, 0},
		{"\xf0\x9f\x98\x80 good", 0, 1, 0},
		/* only ASCII letters are lower-cased */
		{"tr\xc3\xa8s", 0, 1, 0},
		{"Tr\xc3\xa8s", 0, 1, 0},
		{"TR\xc3\x88S", 0, 0, 0},
		/* the length is respected, and NUL separates tokens */
		{"good\0bad", 8, 1, 1},
		{"goodbad", 4, 1, 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned p = 99, n = 99;
		size_t len = c[i].len ? c[i].len : strlen(c[i].msg);
		sentiment_count(lex, c[i].msg, len, &p, &n);
		ck_assert_msg(p == c[i].pos && n == c[i].neg, "case %zu \"%s\": P=%u N=%u, want %u %u", i,
		              c[i].msg, p, n, c[i].pos, c[i].neg);
	}
}
END_TEST

/* The tokenizer, written plainly from SPEC §3 as an oracle: maximal runs
 * of token bytes, ASCII lower-cased, distinct ones looked up one by one. */
static bool oracle_token_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '\'' || c >= 0x80;
}

static void oracle_count(const struct lexicon *l, const char *msg, size_t len, unsigned *pos,
                         unsigned *neg)
{
	char **toks = xcalloc(len + 1, sizeof(*toks));
	size_t nt = 0;
	*pos = *neg = 0;
	for (size_t i = 0; i < len;) {
		if (!oracle_token_byte((unsigned char)msg[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && oracle_token_byte((unsigned char)msg[j]))
			j++;
		char *t = xstrndup(msg + i, j - i);
		for (char *q = t; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		bool dup = false;
		for (size_t k = 0; k < nt && !dup; k++)
			dup = strcmp(toks[k], t) == 0;
		if (dup) {
			free(t);
		} else {
			unsigned p, n;
			sentiment_count(l, t, j - i, &p, &n); /* one token alone */
			*pos += p;
			*neg += n;
			toks[nt++] = t;
		}
		i = j;
	}
	for (size_t k = 0; k < nt; k++)
		free(toks[k]);
	free(toks);
}

START_TEST(tokenizer_matches_oracle)
{
	/* Random messages of lexicon words, near misses, separators, NULs and
	 * bytes >= 0x80, long enough to cross the 64-byte windows the
	 * tokenizer works in, with tokens running across them. */
	static const char *const parts[] = {
		"good", "GOOD", "bad", "great", "gg", "100", "don't", "tr\xc3\xa8s", "goodbad", "x",
		" ", "  ", ".", ",", "\t", "\n", "\0", "_", "'", "@", "[", "`", "{", "/", ":", "\x7f",
		"\xf0\x9f\x98\x80", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const size_t part_len[] = {4, 4, 3, 5, 2, 3, 5, 5, 7, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1,
	                                  1, 1, 1, 1, 1, 1, 4, 69};
	ck_assert_uint_eq(sizeof(parts) / sizeof(parts[0]), sizeof(part_len) / sizeof(part_len[0]));
	uint64_t r = 42;
	char msg[600];
	for (int round = 0; round < 20000; round++) {
		size_t len = 0;
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t want = (size_t)(r >> 33) % 300;
		while (len < want) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t k = (size_t)(r >> 33) % (sizeof(parts) / sizeof(parts[0]));
			memcpy(msg + len, parts[k], part_len[k]);
			len += part_len[k];
		}
		unsigned p, n, op, on;
		sentiment_count(lex, msg, len, &p, &n);
		oracle_count(lex, msg, len, &op, &on);
		ck_assert_msg(p == op && n == on, "round %d (%zu bytes): P=%u N=%u, oracle %u %u", round,
		              len, p, n, op, on);
	}
}
END_TEST

START_TEST(empty_lexicon)
{
	struct lexicon *l = lexicon_new();
	unsigned p = 9, n = 9;
	sentiment_count(l, "good bad", 8, &p, &n);
	ck_assert_uint_eq(p, 0);
	ck_assert_uint_eq(n, 0);
	lexicon_free(l);
}
END_TEST

START_TEST(score_scaled)
{
	const int64_t S = SCORE_SCALE;
	ck_assert_int_eq(sentiment_score_scaled(0, 0), 0);
	ck_assert_int_eq(sentiment_score_scaled(1, 0), S);
	ck_assert_int_eq(sentiment_score_scaled(0, 1), -S);
	ck_assert_int_eq(sentiment_score_scaled(5, 0), S);
	ck_assert_int_eq(sentiment_score_scaled(1, 1), 0);
	ck_assert_int_eq(sentiment_score_scaled(2, 1), INT64_C(984023040));  /* S / 3 */
	ck_assert_int_eq(sentiment_score_scaled(1, 2), -INT64_C(984023040));
	ck_assert_int_eq(sentiment_score_scaled(3, 1), INT64_C(1476034560)); /* S / 2 */
	ck_assert_int_eq(sentiment_score_scaled(7, 9), -INT64_C(369008640)); /* -2/16 = -S / 8 */
	/* 17 hits: no longer exact.  S / 17 = 173651124 rem 12 -> rounds up;
	 * 3S / 17 = 520953374 rem 2 -> rounds down; symmetric for negatives. */
	ck_assert_int_eq(sentiment_score_scaled(9, 8), INT64_C(173651125));
	ck_assert_int_eq(sentiment_score_scaled(8, 9), -INT64_C(173651125));
	ck_assert_int_eq(sentiment_score_scaled(10, 7), INT64_C(520953374));
	ck_assert_int_eq(sentiment_score_scaled(7, 10), -INT64_C(520953374));
	/* Up to 16 hits every score is exact: score * (P + N) = (P - N) * S. */
	for (unsigned p = 0; p <= 16; p++)
		for (unsigned n = 0; p + n <= 16; n++) {
			if (p + n == 0)
				continue;
			int64_t sc = sentiment_score_scaled(p, n);
			ck_assert_msg(sc * (int64_t)(p + n) == ((int64_t)p - (int64_t)n) * S, "P=%u N=%u", p,
			              n);
		}
}
END_TEST

START_TEST(message_score_example)
{
	/* "good bad great": P = 2, N = 1, score = 1/3. */
	unsigned p, n;
	sentiment_count(lex, "good bad great", 14, &p, &n);
	ck_assert_uint_eq(p, 2);
	ck_assert_uint_eq(n, 1);
	ck_assert_double_eq_tol((double)sentiment_score_scaled(p, n) / (double)SCORE_SCALE,
	                        1.0 / 3.0, 1e-15);
}
END_TEST

START_TEST(distinct_beyond_64_words)
{
	/* SPEC §3: N is the number of *distinct* negative tokens.  After 64
	 * different positive words, "bad bad" must still count N = 1.
	 * BUG (reported): sentiment_count() remembers at most 64 matched words,
	 * so from the 65th distinct lexicon word on, repeats are counted again
	 * (here N = 2, and the score (64-2)/66 instead of (64-1)/65). */
	struct error err;
	struct lexicon *l = lexicon_new();
	struct buf words = BUF_INIT, msg = BUF_INIT;
	for (int i = 0; i < 64; i++) {
		buf_printf(&words, "w%d\n", i);
		buf_printf(&msg, "w%d ", i);
	}
	buf_adds(&msg, "bad bad w0");
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, words.data, words.len, "p", &err));
	ck_assert(lexicon_add_list(l, POLARITY_NEGATIVE, "bad", 3, "n", &err));
	unsigned p, n;
	sentiment_count(l, msg.data, msg.len, &p, &n);
	buf_free(&words);
	buf_free(&msg);
	lexicon_free(l);
	ck_assert_uint_eq(p, 64);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(every_default_word_found)
{
	/* Each word of the shipped lists, alone and upper-cased, glued to
	 * nothing, counts once in its own polarity; with a letter added it
	 * counts nothing (the short words' table holds each word, and only
	 * it). */
	struct error err;
	struct lexicon *l = lexicon_new();
	const char *lists[2] = {lexicon_default_positive, lexicon_default_negative};
	ck_assert(lexicon_add_list(l, POLARITY_POSITIVE, lists[0], strlen(lists[0]), "p", &err));
	ck_assert(lexicon_add_list(l, POLARITY_NEGATIVE, lists[1], strlen(lists[1]), "n", &err));
	size_t checked = 0;
	for (int k = 0; k < 2; k++) {
		for (const char *q = lists[k]; *q;) {
			const char *eol = strchr(q, '\n');
			size_t n = eol ? (size_t)(eol - q) : strlen(q);
			char w[80];
			if (n && n < sizeof(w) - 2 && q[0] != '#') {
				memcpy(w, q, n);
				unsigned p, m;
				sentiment_count(l, w, n, &p, &m);
				ck_assert_msg(p == (k == 0) && m == (k == 1), "\"%.*s\": P=%u N=%u", (int)n, w, p, m);
				for (size_t i = 0; i < n; i++)
					if (w[i] >= 'a' && w[i] <= 'z')
						w[i] = (char)(w[i] - 32);
				sentiment_count(l, w, n, &p, &m);
				ck_assert_msg(p == (k == 0) && m == (k == 1), "\"%.*s\": P=%u N=%u", (int)n, w, p, m);
				w[n] = 'q';
				w[n + 1] = 'q';
				sentiment_count(l, w, n + 2, &p, &m);
				ck_assert_msg(p + m == 0, "\"%.*s\": P=%u N=%u", (int)n + 2, w, p, m);
				checked++;
			}
			q = eol ? eol + 1 : q + n;
		}
	}
	ck_assert_uint_gt(checked, 20);
	lexicon_free(l);
}
END_TEST

START_TEST(default_lexicons)
{
	/* The shipped lists load together: no bad word, none in both lists. */
	struct error err = {{0}};
	struct lexicon *l = lexicon_new();
	ck_assert_msg(lexicon_add_list(l, POLARITY_POSITIVE, lexicon_default_positive,
	                               strlen(lexicon_default_positive), "positive.txt", &err),
	              "%s", err.msg);
	ck_assert_msg(lexicon_add_list(l, POLARITY_NEGATIVE, lexicon_default_negative,
	                               strlen(lexicon_default_negative), "negative.txt", &err),
	              "%s", err.msg);
	ck_assert_uint_gt(lexicon_count(l, POLARITY_POSITIVE), 10);
	ck_assert_uint_gt(lexicon_count(l, POLARITY_NEGATIVE), 10);
	lexicon_free(l);
}
END_TEST

Suite *lexicon_suite(void)
{
	Suite *s = suite_create("lexicon");
	TCase *tc = tcase_create("lists");
	tcase_add_test(tc, list_parsing);
	tcase_add_test(tc, list_repeats_and_empty);
	tcase_add_test(tc, list_word_in_both);
	tcase_add_test(tc, list_bad_words);
	tcase_add_test(tc, list_word_length);
	tcase_add_test(tc, default_lexicons);
	tcase_add_test(tc, every_default_word_found);
	suite_add_tcase(s, tc);
	tc = tcase_create("sentiment");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tokenizer_and_counts);
	tcase_add_test(tc, tokenizer_matches_oracle);
	tcase_add_test(tc, empty_lexicon);
	tcase_add_test(tc, score_scaled);
	tcase_add_test(tc, message_score_example);
	tcase_add_test(tc, distinct_beyond_64_words);
	suite_add_tcase(s, tc);
	return s;
}
