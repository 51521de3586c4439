/*
 * lexicon.h — lexicon sentiment (SPEC §3).
 *
 * A message is split into tokens: maximal runs of ASCII letters, digits,
 * '_', '\'' or bytes >= 0x80, ASCII letters lower-cased.  P and N count the
 * *distinct* tokens found in the positive and negative word lists, and the
 * message scores (P - N) / (P + N), or 0 when nothing matched.
 *
 * Scores are carried as integers scaled by SCORE_SCALE = lcm(1..16) * 4096.
 * Every score of a message with up to 16 lexicon hits is then an exact
 * integer, and a window's score sum is an integer sum, so avg_sentiment
 * does not depend on the order in which events were added (floating-point
 * addition would make it depend on how lanes interleave).
 */
#ifndef TELEMETRA_LEXICON_H
#define TELEMETRA_LEXICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

#define SCORE_SCALE INT64_C(2952069120) /* 720720 * 4096 */

enum polarity { POLARITY_NEGATIVE = -1, POLARITY_POSITIVE = 1 };

struct lexicon;

/* An empty lexicon; the caller owns it and frees it with lexicon_free(). */
struct lexicon *lexicon_new(void);
void lexicon_free(struct lexicon *lex);

/*
 * Add the words of one word-list file's text (one word per line, '#'
 * comments, blank lines ignored; surrounding blanks trimmed) with the given
 * polarity.  `name` names the list in messages.  Fails, saying which line,
 * on a word that is not a single token (it could never match) or that is
 * already in the other list.
 */
bool lexicon_add_list(struct lexicon *lex, enum polarity pol, const char *text, size_t len,
                      const char *name, struct error *err);

size_t lexicon_count(const struct lexicon *lex, enum polarity pol);

/* Count distinct positive and negative lexicon tokens of a message. */
void sentiment_count(const struct lexicon *lex, const char *msg, size_t len, unsigned *pos,
                     unsigned *neg);

/* (P - N) / (P + N) in SCORE_SCALE units, rounded half away from zero. */
int64_t sentiment_score_scaled(unsigned pos, unsigned neg);

/* The built-in default lists (generated at build time from src/lexicon/). */
extern const char lexicon_default_positive[];
extern const char lexicon_default_negative[];

#endif
