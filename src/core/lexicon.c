/*
 * lexicon.c — lexicon sentiment (core/lexicon.h, SPEC §3): the word
 * lists in a hash table built once, a message cut into tokens and scored by
 * its distinct positive and negative hits as an exact scaled integer.
 */
#include "config.h"

#include "core/lexicon.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
	/* Words of up to 8 bytes by a hash without collisions among them
	 * (build_short): a message token of up to 8 bytes is looked up with
	 * one probe and one comparison, no branch on the way (short_slot). */
	struct short_word *short_words; /* short_mask + 1 of them */
	uint64_t short_mask, short_mul;
	unsigned short_shift;
};

/* A word of 1 to 8 bytes, zero-padded: a token holds no NUL, so the head
 * alone tells its length; head 0 is an empty slot, which no token
 * matches. */
struct short_word {
	uint64_t head;
	const struct entry *e;
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
	free(lex->short_words);
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

static inline size_t short_slot(const struct lexicon *lex, uint64_t head)
{
	return (size_t)((head * lex->short_mul) >> lex->short_shift);
}

/* The short words' table: the smallest power of two of at least four
 * slots a word for which some multiplier of a few tried sends no two
 * words to one slot (the lists are a few thousand words: this takes a
 * few milliseconds, once per list). */
static void build_short(struct lexicon *lex)
{
	size_t n = 0;
	for (size_t i = 0; i <= lex->mask; i++)
		n += lex->slots[i].id && lex->slots[i].len <= 8;
	unsigned bits = 4;
	while (((size_t)1 << bits) < 4 * n)
		bits++;
	uint64_t mul = UINT64_C(0x9E3779B97F4A7C15);
	for (;;) {
		size_t size = (size_t)1 << bits;
		struct short_word *t = xcalloc(size, sizeof(*t));
		lex->short_mul = mul | 1;
		lex->short_shift = 64 - bits;
		lex->short_mask = size - 1;
		bool clash = false;
		for (size_t i = 0; i <= lex->mask && !clash; i++) {
			const struct entry *e = &lex->slots[i];
			if (!e->id || e->len > 8)
				continue;
			struct short_word *w = &t[short_slot(lex, e->head)];
			clash = w->head != 0;
			*w = (struct short_word){e->head, e};
		}
		if (!clash) {
			free(lex->short_words);
			lex->short_words = t;
			return;
		}
		free(t);
		mul = (mul ^ (mul >> 29)) * UINT64_C(0xBF58476D1CE4E5B9); /* another odd one */
		if ((mul & 15) == 0) /* now and then: a table twice the size */
			bits++;
	}
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
	build_short(lex);
	return true;
}

size_t lexicon_count(const struct lexicon *lex, enum polarity pol)
{
	return lex->count_by_pol[pol == POLARITY_POSITIVE];
}

/*
 * Which bytes of a message are token bytes, 64 at a time: bit i of the
 * mask is set when win[i] is.  The classes are those of token_map
 * (lexicon_new): ASCII letters, digits, '_', '\'' and every byte >= 0x80.
 * The window is a copy of the message, zero past its end (NUL is no token
 * byte), so that a token of up to 8 bytes can be read as one word.
 */
#ifdef __SSE2__
static inline unsigned token_bits16(__m128i x)
{
	/* Signed compares: a byte >= 0x80 is negative and fails every range
	 * test, and movemask(x) takes it by its top bit. */
	__m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20)); /* ASCII lower case */
	__m128i letter = _mm_and_si128(_mm_cmpgt_epi8(y, _mm_set1_epi8('a' - 1)),
	                               _mm_cmpgt_epi8(_mm_set1_epi8('z' + 1), y));
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
	                              _mm_cmpgt_epi8(_mm_set1_epi8('9' + 1), x));
	__m128i other = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')),
	                             _mm_cmpeq_epi8(x, _mm_set1_epi8('\'')));
	__m128i any = _mm_or_si128(_mm_or_si128(letter, digit), other);
	return (unsigned)(_mm_movemask_epi8(any) | _mm_movemask_epi8(x));
}

static inline uint64_t token_mask(const struct lexicon *lex, const unsigned char *win, size_t w)
{
	(void)lex;
	uint64_t m = 0;
	/* Only the 16-byte blocks holding message bytes: the rest are zero
	 * (most messages fit two of the four). */
	for (size_t k = 0; k < (w + 15) / 16; k++)
		m |= (uint64_t)token_bits16(
			     _mm_loadu_si128((const __m128i *)(const void *)(win + 16 * k)))
		     << (16 * k);
	return m;
}
#else
static inline uint64_t token_mask(const struct lexicon *lex, const unsigned char *win, size_t w)
{
	uint64_t m = 0;
	for (size_t i = 0; i < w; i++)
		m |= (uint64_t)(lex->token_map[win[i]] != 0) << i;
	return m;
}
#endif

/* The distinct lexicon words matched so far in one message.  Messages
 * match few words, so a linear check of a small array is cheapest; a
 * message with more distinct lexicon words than it holds switches to a
 * bitmap over all lexicon ids (owned here, freed by sentiment_count). */
struct counting {
	const struct lexicon *lex;
	uint32_t seen[32];
	size_t n_seen;
	unsigned char *bitmap;
	unsigned P, N;
};

static void counted(struct counting *c, const struct entry *e)
{
	const struct lexicon *lex = c->lex;
	if (!c->bitmap && c->n_seen == sizeof(c->seen) / sizeof(c->seen[0])) {
		c->bitmap = xcalloc(lex->count / 8 + 1, 1);
		for (size_t i = 0; i < c->n_seen; i++)
			c->bitmap[c->seen[i] / 8] |= (unsigned char)(1u << c->seen[i] % 8);
	}
	bool repeat = false;
	if (c->bitmap) {
		repeat = c->bitmap[e->id / 8] >> (e->id % 8) & 1;
		c->bitmap[e->id / 8] |= (unsigned char)(1u << e->id % 8);
	} else {
		for (size_t i = 0; i < c->n_seen && !repeat; i++)
			repeat = c->seen[i] == e->id;
		if (!repeat)
			c->seen[c->n_seen++] = e->id;
	}
	if (repeat)
		return;
	if (e->polarity > 0)
		c->P++;
	else
		c->N++;
}

/* A token of more than 8 bytes, or one across windows: as before. */
static void count_long(struct counting *c, const unsigned char *t, size_t n)
{
	const struct lexicon *lex = c->lex;
	const unsigned char *map = lex->token_map;
	if (n > lex->max_len || !(lex->lengths_by_first[map[*t]] >> n & 1))
		return;
	char w[WORD_BUF];
	for (size_t i = 0; i < n; i++)
		w[i] = (char)map[t[i]];
	pad_word(w, n);
	const struct entry *e = find(lex, w, n, word_hash(w, n));
	if (e)
		counted(c, e);
}

/* A token of n <= 8 bytes at t (all token bytes, 8 readable), as one
 * word lower-cased in place (an ASCII capital gains 0x20; a byte >= 0x80
 * stays, as in token_map): the short word it may be, or NULL. */
static inline const struct entry *short_word(const struct lexicon *lex, const unsigned char *t,
                                             size_t n)
{
	uint64_t x;
	memcpy(&x, t, 8);
	x &= UINT64_MAX >> (64 - 8 * n); /* little-endian: the first n bytes */
	const uint64_t ones = UINT64_C(0x0101010101010101), high = ones * 0x80;
	uint64_t low7 = x & ~high;
	uint64_t ge_a = (low7 + ones * (0x80 - 'A')) & high;
	uint64_t gt_z = (low7 + ones * (0x80 - 'Z' - 1)) & high;
	x |= (ge_a & ~gt_z & ~x) >> 2;
	const struct short_word *w = &lex->short_words[short_slot(lex, x)];
	return w->head == x ? w->e : NULL;
}

void sentiment_count(const struct lexicon *lex, const char *msg, size_t len, unsigned *pos,
                     unsigned *neg)
{
	struct counting c;
	c.lex = lex; /* seen[] is not cleared: only its first n_seen are read */
	c.n_seen = 0;
	c.bitmap = NULL;
	c.P = c.N = 0;
	const unsigned char *p = (const unsigned char *)msg;
	unsigned char win[64 + 8];
	/* A token may run on past a window: open is its start in msg. */
	size_t open = SIZE_MAX;
	for (size_t base = 0; base < len && lex->short_words; base += 64) {
		size_t w = len - base < 64 ? len - base : 64;
		if (w == 64) {
			memcpy(win, p + base, 64);
		} else {
			memset(win, 0, sizeof(win));
			memcpy(win, p + base, w);
		}
		uint64_t m = token_mask(lex, win, w); /* bits >= w are clear */
		if (open != SIZE_MAX) {
			if (m == UINT64_MAX)
				continue; /* the whole window is more of it */
			unsigned e = (unsigned)__builtin_ctzll(~m);
			count_long(&c, p + open, base + e - open);
			open = SIZE_MAX;
			m &= UINT64_MAX << e; /* e < 64 */
		}
		/* The short words found, counted after the window: the search
		 * itself then takes no branch on what it finds. */
		const struct entry *hit[33];
		size_t n_hit = 0;
		while (m) {
			unsigned s = (unsigned)__builtin_ctzll(m);
			uint64_t rest = ~m & (UINT64_MAX << s); /* the non-token bytes from s on */
			if (!rest) {
				open = base + s;
				break;
			}
			unsigned e = (unsigned)__builtin_ctzll(rest);
			if (e - s <= 8) {
				hit[n_hit] = short_word(lex, win + s, e - s);
				n_hit += hit[n_hit] != NULL;
			} else {
				count_long(&c, p + base + s, e - s);
			}
			m &= UINT64_MAX << e;
		}
		for (size_t i = 0; i < n_hit; i++)
			counted(&c, hit[i]);
	}
	if (open != SIZE_MAX)
		count_long(&c, p + open, len - open);
	free(c.bitmap);
	*pos = c.P;
	*neg = c.N;
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
