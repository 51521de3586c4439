/*
 * lexicon.c — lexicon sentiment (core/lexicon.h, SPEC §3): the word
 * lists in a hash table built once, a message cut into tokens and scored by
 * its distinct positive and negative hits as an exact scaled integer.
 */
#include "config.h"

#include "core/lexicon.h"

#include <stdlib.h>
#include <string.h>

/* Longest word we keep; longer lines are rejected as configuration errors. */
#define MAX_WORD 63 /* so that a length fits a 64-bit mask */

struct entry {
	uint64_t hash;
	uint64_t head; /* the word's first 8 bytes, zero-padded: most words are whole here */
	char *word; /* NUL-terminated, lower-case */
	uint32_t len;
	int32_t polarity;
	uint32_t id; /* 1-based; 0 marks an empty slot */
	uint32_t line;
	const char *list; /* name of the list it came from (static or owned below) */
};

struct lexicon {
	struct entry *slots; /* open addressing, linear probing, power-of-two size */
	size_t mask;
	size_t count;
	size_t count_by_pol[2];
	size_t max_len;
	/* Bit L of lengths_by_first[b]: some word starts with byte b and is L
	 * bytes long.  Most message tokens fail this test and are never hashed. */
	uint64_t lengths_by_first[256];
	/* Token bytes (ASCII letters, digits, '_', '\'' and every byte >= 0x80)
	 * map to their lower-case form, all other bytes to 0. */
	unsigned char token_map[256];
	char **names; /* owned copies of the list names */
	size_t n_names;
};

struct lexicon *lexicon_new(void)
{
	struct lexicon *lex = xcalloc(1, sizeof(*lex));
	for (int c = 0; c < 256; c++) {
		bool token = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		             c == '\'' || c >= 0x80;
		lex->token_map[c] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : token ? c : 0);
	}
	lex->mask = 255;
	lex->slots = xcalloc(lex->mask + 1, sizeof(*lex->slots));
	return lex;
}

void lexicon_free(struct lexicon *lex)
{
	if (!lex)
		return;
	for (size_t i = 0; i <= lex->mask; i++)
		free(lex->slots[i].word);
	for (size_t i = 0; i < lex->n_names; i++)
		free(lex->names[i]);
	free(lex->names);
	free(lex->slots);
	free(lex);
}

/*
 * Words are looked up from a buffer padded with zeros to a multiple of 8
 * bytes past their end (WORD_BUF), so that they are hashed and compared a
 * 64-bit word at a time, inline: the lookup of a message's tokens was a
 * call to hash_bytes and one to memcmp per candidate token.
 */
#define WORD_BUF (MAX_WORD + 1 + 8)

static inline uint64_t word_at(const char *w, size_t i)
{
	uint64_t x;
	memcpy(&x, w + i, 8);
	return x;
}

/* w[0..n) followed by zeros up to the next multiple of 8. */
static inline uint64_t word_hash(const char *w, size_t n)
{
	uint64_t h = (uint64_t)n * UINT64_C(0x9E3779B97F4A7C15);
	for (size_t i = 0; i < n; i += 8) {
		h = (h ^ word_at(w, i)) * UINT64_C(0xBF58476D1CE4E5B9);
		h ^= h >> 31;
	}
	return h ^ (h >> 29);
}

static inline void pad_word(char *w, size_t n)
{
	memset(w + n, 0, 8);
}

static const struct entry *find(const struct lexicon *lex, const char *w, size_t n, uint64_t h)
{
	uint64_t head = word_at(w, 0);
	for (size_t i = h & lex->mask;; i = (i + 1) & lex->mask) {
		const struct entry *e = &lex->slots[i];
		if (!e->id)
			return NULL;
		if (e->hash == h && e->len == n && e->head == head &&
		    (n <= 8 || memcmp(e->word + 8, w + 8, n - 8) == 0))
			return e;
	}
}

static void insert(struct lexicon *lex, struct entry e)
{
	if ((lex->count + 1) * 2 > lex->mask + 1) {
		size_t old_size = lex->mask + 1;
		struct entry *old = lex->slots;
		lex->mask = old_size * 2 - 1;
		lex->slots = xcalloc(lex->mask + 1, sizeof(*lex->slots));
		for (size_t i = 0; i < old_size; i++) {
			if (!old[i].id)
				continue;
			size_t j = old[i].hash & lex->mask;
			while (lex->slots[j].id)
				j = (j + 1) & lex->mask;
			lex->slots[j] = old[i];
		}
		free(old);
	}
	size_t j = e.hash & lex->mask;
	while (lex->slots[j].id)
		j = (j + 1) & lex->mask;
	lex->slots[j] = e;
	lex->count++;
}

bool lexicon_add_list(struct lexicon *lex, enum polarity pol, const char *text, size_t len,
                      const char *name, struct error *err)
{
	lex->names = xrealloc(lex->names, (lex->n_names + 1) * sizeof(*lex->names));
	char *list = lex->names[lex->n_names++] = xstrdup(name);

	const char *p = text, *end = text + len;
	for (unsigned line = 1; p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *a = p, *b = eol;
		p = eol + 1;
		while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		if (a == b || *a == '#')
			continue;
		size_t n = (size_t)(b - a);
		if (n > MAX_WORD) {
			error_set(err, "%s:%u: word longer than %d bytes", list, line, MAX_WORD);
			return false;
		}
		char w[WORD_BUF];
		for (size_t i = 0; i < n; i++) {
			unsigned char c = lex->token_map[(unsigned char)a[i]];
			if (!c) {
				error_set(err,
				          "%s:%u: \"%.*s\" is not a single token (letters, digits, _ and ' only), "
				          "so it could never match",
				          list, line, (int)n, a);
				return false;
			}
			w[i] = (char)c;
		}
		pad_word(w, n);
		uint64_t h = word_hash(w, n);
		const struct entry *old = find(lex, w, n, h);
		if (old) {
			if (old->polarity != (int)pol) {
				error_set(err,
				          "\"%s\" is in both lexicons (%s:%u and %s:%u); a word must be "
				          "positive or negative, not both",
				          w, old->list, old->line, list, line);
				return false;
			}
			continue; /* repeated in the same polarity: harmless */
		}
		insert(lex, (struct entry){h, word_at(w, 0), xstrndup(w, n), (uint32_t)n, pol,
		                           (uint32_t)lex->count + 1, line, list});
		lex->count_by_pol[pol == POLARITY_POSITIVE]++;
		lex->lengths_by_first[(unsigned char)w[0]] |= UINT64_C(1) << n;
		if (n > lex->max_len)
			lex->max_len = n;
	}
	return true;
}

size_t lexicon_count(const struct lexicon *lex, enum polarity pol)
{
	return lex->count_by_pol[pol == POLARITY_POSITIVE];
}

void sentiment_count(const struct lexicon *lex, const char *msg, size_t len, unsigned *pos,
                     unsigned *neg)
{
	/* Distinctness: the ids of lexicon words matched so far in this
	 * message.  Messages match few words, so a linear check of a small
	 * array is cheapest; a message with more distinct lexicon words than
	 * it holds switches to a bitmap over all lexicon ids. */
	uint32_t seen[32];
	size_t n_seen = 0;
	unsigned char *bitmap = NULL;
	const unsigned char *p = (const unsigned char *)msg, *end = p + len;
	unsigned P = 0, N = 0;
	char w[WORD_BUF];

	const unsigned char *map = lex->token_map;
	while (p < end) {
		while (p < end && !map[*p])
			p++;
		/* Find the token's end first: most tokens fail the length test
		 * and need not be copied (lower-cased) at all. */
		const unsigned char *t = p;
		while (p < end && map[*p])
			p++;
		size_t n = (size_t)(p - t);
		if (n == 0 || n > lex->max_len || !(lex->lengths_by_first[map[*t]] >> n & 1))
			continue;
		for (size_t i = 0; i < n; i++)
			w[i] = (char)map[t[i]];
		pad_word(w, n);
		const struct entry *e = find(lex, w, n, word_hash(w, n));
		if (!e)
			continue;
		if (!bitmap && n_seen == sizeof(seen) / sizeof(seen[0])) {
			bitmap = xcalloc(lex->count / 8 + 1, 1);
			for (size_t i = 0; i < n_seen; i++)
				bitmap[seen[i] / 8] |= (unsigned char)(1u << seen[i] % 8);
		}
		bool repeat = false;
		if (bitmap) {
			repeat = bitmap[e->id / 8] >> (e->id % 8) & 1;
			bitmap[e->id / 8] |= (unsigned char)(1u << e->id % 8);
		} else {
			for (size_t i = 0; i < n_seen && !repeat; i++)
				repeat = seen[i] == e->id;
			if (!repeat)
				seen[n_seen++] = e->id;
		}
		if (repeat)
			continue;
		if (e->polarity > 0)
			P++;
		else
			N++;
	}
	free(bitmap);
	*pos = P;
	*neg = N;
}

int64_t sentiment_score_scaled(unsigned pos, unsigned neg)
{
	if (pos + neg == 0)
		return 0;
	int64_t num = ((int64_t)pos - (int64_t)neg) * SCORE_SCALE;
	int64_t den = (int64_t)pos + (int64_t)neg;
	int64_t half = den / 2;
	return num >= 0 ? (num + half) / den : -((-num + half) / den);
}
