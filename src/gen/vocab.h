/*
 * vocab.h — what generated chat says: words, emotes, usernames, badges.
 *
 * The traffic model (generator.c) decides when a message is sent, by whom
 * and in what situation (a `style`: ordinary chat, a reply, a hype or fail
 * reaction, greetings at a stream's start, "gn" waves, raid spam, a bot …);
 * this file turns that into text.  Words are taken from the shipped
 * lexicons (hits), from near misses that look like sentiment but are in
 * neither lexicon, and from neutral chat, with Zipf-like popularity; all
 * strings are already JSON-escaped.  Pure and deterministic: draws only from
 * the struct rng it is given.
 */
#ifndef TELEMETRA_GEN_VOCAB_H
#define TELEMETRA_GEN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "gen/rng.h"

struct word {
	const char *s;
	unsigned char len;
	unsigned char ascii; /* letters only: may be upper-cased */
};

/* What a message is reacting to.  See vocab.c for the words of each. */
enum gen_style {
	STY_NORMAL,     /* ordinary chat, tone from the stream's mood */
	STY_REPLY,      /* an answer to an earlier message (self-excitation) */
	STY_WALL,       /* copies the emote of an earlier message (emote wall) */
	STY_GREET,      /* stream start: "hi", HeyGuys */
	STY_GN,         /* stream end: "gn", "o7", "ty for the stream" */
	STY_HYPE,       /* a true moment: a great play */
	STY_FUNNY,      /* a true moment: something funny */
	STY_FAIL,       /* a true moment: a fail */
	STY_RAID_IN,    /* raiders arriving */
	STY_RAID_OUT,   /* the stream raids another: copy-pasted raid message */
	STY_AD_RETURN,  /* chat coming back after an ad break */
	STY_GIFT,       /* a sub-gift train: "gifted a sub to …" */
	STY_SPAM,       /* one spammer's copypasta */
	STY_BOT,        /* a bot's announcement */
	STY_COUNT
};

#define VOCAB_MAX_EMOTES 8

struct vocab;

/* Build the Zipf tables; the caller owns the result (vocab_free()). */
struct vocab *vocab_new(void);
void vocab_free(struct vocab *v);

/* Write one message of the given style into *m (reset first) and its
 * emotes into emo[0 .. return value) (pointers to static words).  mood in
 * [-1, 1] tilts ordinary chat; `variant` selects the copypasta (SPAM), the
 * counter (BOT), the recipient's id (GIFT) or the emote index (WALL). */
size_t vocab_message(const struct vocab *v, struct rng *r, enum gen_style style, double mood,
                     uint64_t variant, struct buf *m, const struct word **emo);

/* Number of emotes an emote wall can copy (the popular ones). */
size_t vocab_wall_emotes(void);

/* The username of user id `uid` (deterministic), appended to *b. */
void vocab_username(struct buf *b, uint64_t uid);

/* `,"badges":[…]` of user uid on a stream with salt `salt`, appended. */
void vocab_badges(struct buf *b, uint64_t uid, uint32_t salt);

#endif
