/*
 * vocab.c — the words of generated chat (see vocab.h).
 *
 * Ordinary messages mix lexicon hits (positive / negative, weighted by the
 * stream's mood), near misses ("loool", "goated"), neutral words,
 * punctuation, non-ASCII tokens, emotes and the occasional JSON escape.
 * Situational styles (moments, stream start and end, raids, ad returns, gift
 * trains, spam, bots) draw from their own short lists, so that a true
 * moment reads like one (hype is positive, a fail negative) and a decoy
 * reads like what it is.
 */
#include "config.h"

#include "gen/vocab.h"

#include <stdlib.h>
#include <string.h>

#include "core/common.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define W(x) {x, (unsigned char)(sizeof(x) - 1), 1}
#define X(x) {x, (unsigned char)(sizeof(x) - 1), 0}
#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))
#define ADDL(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

/* Hits of src/lexicon/positive.txt, most frequent first. */
static const struct word POS_WORDS[] = {
	W("lol"), W("gg"), W("pog"), W("nice"), W("lmao"), W("love"), W("good"), W("hype"),
	W("insane"), W("wow"), W("haha"), W("great"), W("clutch"), W("poggers"), W("awesome"),
	W("cool"), W("best"), W("clean"), W("ggwp"), W("epic"), W("based"), W("goat"), W("fire"),
	W("amazing"), W("funny"), W("sick"), W("wp"), W("ty"), W("thanks"), W("lit"), W("yay"),
	W("king"), W("perfect"), W("legendary"), W("win"), W("fun"), W("cute"), W("wholesome"),
	W("congrats"), W("respect"), W("genius"), W("happy"), W("beautiful"), W("hahaha"),
	W("incredible"), W("wins"), W("lovely"), W("better"), W("hero"), W("blessed"),
};

/* Hits of src/lexicon/negative.txt, most frequent first. */
static const struct word NEG_WORDS[] = {
	W("rip"), W("wtf"), W("bad"), W("cringe"), W("lag"), W("trash"), W("fail"), W("boring"),
	W("throw"), W("yikes"), W("ff"), W("sucks"), W("noob"), W("worst"), W("mid"), W("smh"),
	W("choke"), W("lost"), W("sad"), W("ew"), W("terrible"), W("rigged"), W("dumb"),
	W("garbage"), W("toxic"), W("awful"), W("laggy"), W("broken"), W("stupid"), W("hate"),
	W("annoying"), W("lose"), W("buggy"), W("throwing"), W("choked"), W("scam"), W("worse"),
	W("overrated"), W("horrible"), W("bored"),
};

/* Near misses: look like sentiment, are in neither lexicon. */
static const struct word MISS_WORDS[] = {
	W("loool"), W("lolol"), W("nicee"), W("goated"), W("ggs"), W("pogg"), W("hyyype"),
	W("gooood"), W("awsome"), W("winner"), W("greeeat"), W("badd"), W("trashh"),
	W("cringy"), W("boooring"), W("ripp"), W("sucked"), W("failing"), W("lagging"),
	W("hateful"), W("noobs"), W("clutched"),
};

static const struct word NEUTRAL_WORDS[] = {
	W("the"), W("is"), W("i"), W("this"), W("that"), W("you"), W("a"), W("he"), W("chat"),
	W("it"), W("what"), W("to"), W("so"), W("and"), W("no"), W("just"), W("why"), W("yes"),
	W("bro"), W("of"), W("in"), W("we"), W("not"), W("was"), W("game"), W("now"), W("did"),
	W("they"), W("on"), W("how"), W("he's"), W("stream"), W("do"), W("can"), W("go"),
	W("play"), W("boss"), W("one"), W("again"), W("me"), W("my"), W("got"), W("ok"),
	W("yeah"), W("guys"), W("wait"), W("run"), W("streamer"), W("look"), W("with"),
	W("don't"), W("it's"), W("that's"), W("i'm"), W("dude"), W("time"), W("next"),
	W("first"), W("last"), W("there"), W("here"), W("watch"), W("see"), W("really"),
	W("actually"), W("literally"), W("still"), W("right"), W("left"), W("shot"), W("kill"),
	W("died"), W("round"), W("map"), W("team"), W("level"), W("score"), W("build"),
	W("item"), W("loot"), W("chest"), W("push"), W("lane"), W("jungle"), W("top"),
	W("bot"), W("hp"), W("ult"), W("gank"), W("can't"), W("what's"), W("where"),
	W("when"), W("who"), W("would"), W("should"), W("could"), W("will"), W("be"), W("up"),
	W("down"), W("back"), W("out"), W("hmm"), W("huh"), W("man"), W("every"), W("two"),
	W("three"), W("points"), W("playing"), W("going"), W("mods"), W("sub"), W("prime"),
	W("clip"), W("replay"), W("settings"), W("song"), W("music"), W("camera"), W("mic"),
	W("audio"), W("today"), W("tomorrow"), W("yesterday"), W("hours"), W("minutes"),
	W("fps"), W("ping"), W("patch"), W("nerf"), W("buff"), W("meta"), W("strat"), W("xd"),
	X("café"), X("über"), X("jajaja"), X("kkkkk"), X("やばい"), X("草"), X("ㅋㅋㅋ"),
	X("😂"), X("🔥"), X("❤️"), X("👀"), X("?"), X("??"), X("!!"), X("..."), X(":)"),
	X(":D"), X("<3"), X("o7"), X("\\\\o/"), X("¯\\\\_(ツ)_/¯"), X("\\\"clip"), X("it\\\""),
	X("@mod"), X("#1"), X("1v1"), X("100%"), X("2-0"),
};

/* One-word reactions without sentiment. */
static const struct word REACT_WORDS[] = {
	W("W"), W("L"), X("?"), W("hi"), W("F"), W("what"), W("true"), W("same"), W("bruh"),
	W("o7"), W("yes"), W("no"), W("hello"), W("oof"), W("sheesh"), X("??"), W("facts"),
	W("nah"), W("yep"), W("real"), W("xd"), W("hmm"), W("ayy"), W("first"), W("wait"),
	X("!!"), X("..."), X("😂"),
};

static const struct word HYPE_WORDS[] = {
	W("LETS"), W("GOOO"), W("POGGERS"), W("W"), W("OMG"), W("NO"), W("WAY"), W("CLIP"),
	W("IT"), W("INSANE"), W("HOLY"), W("HYPE"), W("GG"), W("WHAT"), W("EZ"), W("CLUTCH"),
	W("GOAT"), W("LMAO"), W("POG"), W("WOW"),
};

static const struct word RAID_WORDS[] = {
	W("RAID"), W("raid"), W("welcome"), W("raiders"), W("hello"), W("hi"), W("from"),
	W("love"), W("hype"), W("hey"), W("chat"), W("thanks"), W("for"), W("the"), W("GG"),
	X("<3"), W("squad"), W("family"),
};

static const struct word PUNCT[] = {
	X("!"), X("?"), X("!!!"), X("..."), X(","), X("?!"), X("!!"),
};

/* Emotes by tone, most popular first. */
static const struct word EMOTES_NEU[] = {
	W("Kappa"), W("monkaS"), W("4Head"), W("Pepega"), W("TriHard"), W("HeyGuys"),
	W("CoolStoryBob"), W("Jebaited"), W("SMOrc"), W("VoHiYo"), W("CoolCat"), W("PJSalt"),
	W("HotPokket"), W("TwitchUnity"), W("BloodTrail"), W("MrDestructoid"),
};
static const struct word EMOTES_POS[] = {
	W("KEKW"), W("LUL"), W("PogChamp"), W("OMEGALUL"), W("Pog"), W("PogU"), W("catJAM"),
	W("Kreygasm"), W("EZ"), W("FeelsGoodMan"), W("SeemsGood"), X("<3"),
};
static const struct word EMOTES_NEG[] = {
	W("Sadge"), W("BibleThump"), W("NotLikeThis"), W("ResidentSleeper"), W("PepeHands"),
	W("FeelsBadMan"), W("WutFace"), W("DansGame"),
};
static const struct word EMOTES_HYPE[] = {
	W("PogChamp"), W("KEKW"), W("Pog"), W("PogU"), W("OMEGALUL"), W("LUL"), W("catJAM"),
	W("Kreygasm"), W("EZ"),
};
static const struct word EMOTES_RAID[] = {
	W("TwitchUnity"), W("BloodTrail"), W("HeyGuys"), W("VoHiYo"), X("<3"), W("GivePLZ"),
	W("TakeNRG"), W("PogChamp"),
};

static const char *const USER_ADJ[32] = {
	"Crispy", "Silent", "Lucky", "Salty", "Cosmic", "Sleepy", "Turbo", "Fuzzy", "Mighty",
	"Rusty", "Shiny", "Grumpy", "Happy", "Frozen", "Wild", "Quiet", "Pixel", "Neon",
	"Retro", "Spicy", "Clever", "Lazy", "Brave", "Tiny", "Epic", "Dark", "Golden",
	"Iron", "Sneaky", "Jolly", "Mystic", "Atomic",
};
static const char *const USER_NOUN[32] = {
	"Noodle", "Panda", "Ninja", "Potato", "Falcon", "Wizard", "Otter", "Goblin", "Knight",
	"Toaster", "Badger", "Dragon", "Pickle", "Gamer", "Raccoon", "Cactus", "Viking",
	"Pirate", "Muffin", "Tiger", "Walrus", "Robot", "Ghost", "Llama", "Waffle", "Shark",
	"Penguin", "Cobra", "Moose", "Sloth", "Phoenix", "Yeti",
};

static const struct word FUNNY_WORDS[] = {
	W("LMAO"), W("lmao"), W("lol"), W("LOL"), W("haha"), W("hahaha"), W("dead"), W("im"),
	W("crying"), W("bro"), W("what"), W("funny"), W("LUL"), W("no"), W("way"), W("xd"),
	X("😂"), X("💀"), W("clip"), W("it"),
};
static const struct word FAIL_WORDS[] = {
	W("F"), W("rip"), W("noooo"), W("wtf"), W("NO"), W("choke"), W("throw"), W("bad"),
	W("sad"), W("oof"), W("yikes"), W("L"), W("why"), W("unlucky"), W("fail"), W("ff"),
	W("what"), W("was"), W("that"), W("lost"),
};
static const struct word GREET_WORDS[] = {
	W("hi"), W("hello"), W("hey"), W("chat"), W("hiii"), W("yo"), W("good"), W("morning"),
	W("evening"), W("everyone"), W("first"), W("back"), W("finally"), W("live"), W("o7"),
	W("whats"), W("up"), X("<3"),
};
static const struct word GN_WORDS[] = {
	W("gn"), W("goodnight"), W("bye"), W("o7"), W("cya"), W("ty"), W("for"), W("the"),
	W("stream"), W("see"), W("you"), W("tomorrow"), W("chat"), W("night"), W("byebye"),
	X("<3"), W("gg"),
};
static const struct word AD_WORDS[] = {
	W("back"), W("ads"), W("ad"), W("finally"), W("we're"), W("over"), W("what"), W("did"),
	W("i"), W("miss"), W("again"), W("why"), W("so"), W("many"), W("hi"), W("wb"),
};
static const struct word EMOTES_FUNNY[] = {
	W("KEKW"), W("LUL"), W("OMEGALUL"), W("LULW"), W("4Head"), W("Kappa"), W("ICANT"),
};
static const struct word EMOTES_GREET[] = {
	W("HeyGuys"), W("VoHiYo"), W("KonCha"), X("<3"), W("PogChamp"), W("catJAM"),
};
static const struct word EMOTES_GN[] = {
	W("HeyGuys"), X("<3"), W("BibleThump"), W("PeepoLeave"), W("Sadge"), W("o7"),
};
static const struct word EMOTES_AD[] = {
	W("DansGame"), W("ResidentSleeper"), W("NotLikeThis"), W("PogChamp"), W("Kappa"),
};

/* One copypasta per spammer (the variant picks it). */
static const char *const COPYPASTAS[] = {
	"can you say hi to me please i have been watching for 3 years",
	"FIRST TIME CHATTER HERE PLEASE NOTICE ME",
	"\\u2588\\u2588\\u2588 follow me for free subs \\u2588\\u2588\\u2588",
	"YOU ARE GOING TO LOSE THIS ONE TRUST ME",
	"play the other game play the other game play the other game",
	"hello? hello? hello? can anyone hear me",
};

static const char *const BOT_LINES[] = {
	"Follow the stream and turn on notifications! Giveaway entry #",
	"Remember to stay hydrated! Reminder #",
	"Join the Discord: discord.gg/example | message #",
	"!points: you have earned channel points, round ",
};

static const char *const RAID_OUT_LINES[] = {
	"TwitchUnity RAID TwitchUnity RAID TwitchUnity",
	"GivePLZ we come in peace TakeNRG",
	"OUR STREAMER SENT US BloodTrail BloodTrail",
	"raid raid raid PogChamp",
};

/* Cumulative Zipf weights over n ranks (exponent s). */
struct cdf {
	const struct word *w;
	size_t n;
	double *c;
};

static void cdf_init(struct cdf *d, const struct word *w, size_t n, double s)
{
	d->w = w;
	d->n = n;
	d->c = xmalloc(n * sizeof(double));
	double acc = 0.0;
	for (size_t i = 0; i < n; i++) {
		acc += det_exp(-s * det_log((double)(i + 1)));
		d->c[i] = acc;
	}
}

static const struct word *cdf_pick(const struct cdf *d, struct rng *r)
{
	double u = rng_unif(r) * d->c[d->n - 1];
	size_t lo = 0, hi = d->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (d->c[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &d->w[lo];
}

enum list {
	V_POS,
	V_NEG,
	V_MISS,
	V_NEUTRAL,
	V_HYPE,
	V_RAID,
	V_PUNCT,
	V_REACT,
	V_EMO_NEU,
	V_EMO_POS,
	V_EMO_NEG,
	V_EMO_HYPE,
	V_EMO_RAID,
	V_FUNNY,
	V_FAIL,
	V_GREET,
	V_GN,
	V_AD,
	V_EMO_FUNNY,
	V_EMO_GREET,
	V_EMO_GN,
	V_EMO_AD,
	V_COUNT
};

struct vocab {
	struct cdf l[V_COUNT];
};

struct vocab *vocab_new(void)
{
	static const struct {
		const struct word *w;
		size_t n;
		double s;
	} lists[V_COUNT] = {
		[V_POS] = {POS_WORDS, NWORDS(POS_WORDS), 0.9},
		[V_NEG] = {NEG_WORDS, NWORDS(NEG_WORDS), 0.9},
		[V_MISS] = {MISS_WORDS, NWORDS(MISS_WORDS), 0.7},
		[V_NEUTRAL] = {NEUTRAL_WORDS, NWORDS(NEUTRAL_WORDS), 0.9},
		[V_HYPE] = {HYPE_WORDS, NWORDS(HYPE_WORDS), 0.6},
		[V_RAID] = {RAID_WORDS, NWORDS(RAID_WORDS), 0.6},
		[V_PUNCT] = {PUNCT, NWORDS(PUNCT), 1.0},
		[V_REACT] = {REACT_WORDS, NWORDS(REACT_WORDS), 0.8},
		[V_EMO_NEU] = {EMOTES_NEU, NWORDS(EMOTES_NEU), 1.1},
		[V_EMO_POS] = {EMOTES_POS, NWORDS(EMOTES_POS), 1.1},
		[V_EMO_NEG] = {EMOTES_NEG, NWORDS(EMOTES_NEG), 1.1},
		[V_EMO_HYPE] = {EMOTES_HYPE, NWORDS(EMOTES_HYPE), 0.8},
		[V_EMO_RAID] = {EMOTES_RAID, NWORDS(EMOTES_RAID), 0.8},
		[V_FUNNY] = {FUNNY_WORDS, NWORDS(FUNNY_WORDS), 0.7},
		[V_FAIL] = {FAIL_WORDS, NWORDS(FAIL_WORDS), 0.7},
		[V_GREET] = {GREET_WORDS, NWORDS(GREET_WORDS), 0.8},
		[V_GN] = {GN_WORDS, NWORDS(GN_WORDS), 0.8},
		[V_AD] = {AD_WORDS, NWORDS(AD_WORDS), 0.8},
		[V_EMO_FUNNY] = {EMOTES_FUNNY, NWORDS(EMOTES_FUNNY), 0.8},
		[V_EMO_GREET] = {EMOTES_GREET, NWORDS(EMOTES_GREET), 0.8},
		[V_EMO_GN] = {EMOTES_GN, NWORDS(EMOTES_GN), 0.8},
		[V_EMO_AD] = {EMOTES_AD, NWORDS(EMOTES_AD), 0.8},
	};
	struct vocab *v = xcalloc(1, sizeof(*v));
	for (int i = 0; i < V_COUNT; i++)
		cdf_init(&v->l[i], lists[i].w, lists[i].n, lists[i].s);
	return v;
}

void vocab_free(struct vocab *v)
{
	if (!v)
		return;
	for (int i = 0; i < V_COUNT; i++)
		free(v->l[i].c);
	free(v);
}

size_t vocab_wall_emotes(void) { return NWORDS(EMOTES_HYPE); }

static void add_word(struct buf *b, const struct word *w, int casing)
{
	if (casing == 0 || !w->ascii) {
		buf_add(b, w->s, w->len);
		return;
	}
	char tmp[64];
	size_t n = w->len < sizeof(tmp) ? w->len : sizeof(tmp);
	memcpy(tmp, w->s, n);
	for (size_t i = 0; i < n; i++) {
		if (casing == 2 && i > 0)
			break;
		if (tmp[i] >= 'a' && tmp[i] <= 'z')
			tmp[i] = (char)(tmp[i] - 'a' + 'A');
	}
	buf_add(b, tmp, n);
}

static void add_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_add(b, tmp + i, sizeof(tmp) - i);
}

void vocab_username(struct buf *b, uint64_t uid)
{
	uint64_t h = mix64(uid * UINT64_C(0x9E3779B97F4A7C15));
	const char *adj = USER_ADJ[h & 31], *noun = USER_NOUN[(h >> 5) & 31];
	unsigned style = (unsigned)((h >> 10) & 7);
	char tmp[64];
	size_t n = 0;
	size_t la = strlen(adj), ln = strlen(noun);
	memcpy(tmp, adj, la);
	n = la;
	if (style == 0)
		tmp[n++] = '_';
	memcpy(tmp + n, noun, ln);
	n += ln;
	if (style >= 5) { /* lower-case login style */
		for (size_t i = 0; i < n; i++)
			if (tmp[i] >= 'A' && tmp[i] <= 'Z')
				tmp[i] = (char)(tmp[i] - 'A' + 'a');
	}
	if (style != 3) {
		uint64_t num = (h >> 16) % (style & 1 ? 100 : 10000);
		char d[8];
		size_t i = sizeof(d);
		do {
			d[--i] = (char)('0' + num % 10);
			num /= 10;
		} while (num);
		memcpy(tmp + n, d + i, sizeof(d) - i);
		n += sizeof(d) - i;
	}
	buf_add(b, tmp, n);
}

void vocab_badges(struct buf *b, uint64_t uid, uint32_t salt)
{
	uint64_t h = mix64(uid ^ ((uint64_t)salt << 40) ^ UINT64_C(0xB4D9E5));
	bool first = true;
	ADDL(b, ",\"badges\":[");
#define BADGE(cond, name)                                                                          \
	if (cond) {                                                                                \
		if (!first)                                                                        \
			buf_addc(b, ',');                                                          \
		ADDL(b, "\"" name "\"");                                                           \
		first = false;                                                                     \
	}
	BADGE((h >> 16) % 1000 < 5, "moderator")
	BADGE((h >> 26) % 100 < 2, "vip")
	BADGE(h % 100 < 30, "subscriber")
	BADGE((h >> 36) % 100 < 10, "premium")
	BADGE((h >> 46) % 100 < 3, "bits")
#undef BADGE
	buf_addc(b, ']');
}

/* Build the message of a chat event into g->msg, emote indices into emo[]. */

#define MAX_TOKENS 24

/* Situational styles: 1–4 words of the style's list, emotes from its
 * emote list, sometimes shouted. */
static size_t situational(const struct vocab *v, struct rng *r, enum list words, enum list emotes,
                          double p_emote, struct buf *m, const struct word **emo)
{
	size_t ntok = 1 + (size_t)rng_below(r, 4);
	size_t nemo = 0;
	if (rng_chance(r, p_emote)) {
		nemo = 1;
		while (nemo < 5 && rng_chance(r, 0.4))
			nemo++;
		for (size_t i = 0; i < nemo; i++)
			emo[i] = cdf_pick(&v->l[emotes], r);
		if (rng_chance(r, 0.4))
			ntok = 0; /* an emote-only message */
	}
	int casing = rng_chance(r, 0.3) ? 1 : 0;
	for (size_t i = 0; i < ntok; i++) {
		if (i)
			buf_addc(m, ' ');
		add_word(m, cdf_pick(&v->l[words], r), casing);
	}
	for (size_t i = 0; i < nemo; i++) {
		if (m->len)
			buf_addc(m, ' ');
		buf_add(m, emo[i]->s, emo[i]->len);
	}
	if (!m->len) /* nothing drawn: one word */
		add_word(m, cdf_pick(&v->l[words], r), casing);
	return nemo;
}

/* Ordinary chat (NORMAL, REPLY) and the reactions that use the full
 * vocabulary with a tilt (HYPE, RAID_IN). */
static size_t ordinary(const struct vocab *v, struct rng *r, enum gen_style style, double mood, struct buf *m,
                       const struct word **emo)
{
	bool hype = style == STY_HYPE;
	bool raid = style == STY_RAID_IN;
	if (hype)
		mood = 0.9;
	else if (raid)
		mood = 0.7;

	/* tone of the message */
	double p_pos = 0.25 + 0.2 * mood, p_neg = 0.12 - 0.1 * mood;
	double u = rng_unif(r);
	int tone = u < p_pos ? 1 : u < p_pos + p_neg ? -1 : 0;

	/* number of tokens: a quarter are one-word messages, the rest geometric;
	 * replies are shorter */
	size_t ntok = 1;
	if (!rng_chance(r, style == STY_REPLY ? 0.45 : 0.25)) {
		ntok = 1 + (size_t)(rng_exp(r) * (style == STY_REPLY ? 3.0 : 5.0));
		if (ntok > MAX_TOKENS)
			ntok = MAX_TOKENS;
	}

	/* emotes */
	size_t nemo = 0;
	double p_emo = hype ? 0.85 : raid ? 0.7 : 0.35;
	if (rng_chance(r, p_emo)) {
		nemo = 1;
		while (nemo < 6 && rng_chance(r, hype ? 0.5 : 0.3))
			nemo++;
		enum list cat;
		for (size_t i = 0; i < nemo; i++) {
			if (hype && rng_chance(r, 0.8))
				cat = V_EMO_HYPE;
			else if (raid && rng_chance(r, 0.7))
				cat = V_EMO_RAID;
			else {
				double e = rng_unif(r);
				double pe = 0.35 + 0.2 * mood, ne = 0.15 - 0.12 * mood;
				cat = e < pe ? V_EMO_POS : e < pe + ne ? V_EMO_NEG : V_EMO_NEU;
			}
			emo[i] = cdf_pick(&v->l[cat], r);
		}
		if (nemo > 1 && rng_chance(r, 0.15)) /* spam the same emote */
			for (size_t i = 1; i < nemo; i++)
				emo[i] = emo[0];
		if (ntok == 1 && rng_chance(r, 0.5))
			ntok = 0; /* an emote-only message */
	}

	/* where the emotes go: mostly at the end */
	size_t at[VOCAB_MAX_EMOTES];
	for (size_t i = 0; i < nemo; i++)
		at[i] = rng_chance(r, 0.6) ? ntok : (size_t)rng_below(r, ntok + 1);
	/* keep emotes in text order */
	for (size_t i = 1; i < nemo; i++)
		for (size_t j = i; j > 0 && at[j - 1] > at[j]; j--) {
			size_t ta = at[j];
			at[j] = at[j - 1];
			at[j - 1] = ta;
			const struct word *tw = emo[j];
			emo[j] = emo[j - 1];
			emo[j - 1] = tw;
		}

	size_t e = 0;
	bool first = true;
	for (size_t i = 0; i <= ntok; i++) {
		while (e < nemo && at[e] == i) {
			if (!first)
				buf_addc(m, ' ');
			buf_add(m, emo[e]->s, emo[e]->len);
			first = false;
			e++;
		}
		if (i == ntok)
			break;
		enum list l = V_NEUTRAL;
		double x = rng_unif(r);
		if (ntok == 1 && !hype && !raid) { /* a one-word reaction */
			if (tone > 0)
				l = x < 0.85 ? V_POS : V_MISS;
			else if (tone < 0)
				l = x < 0.85 ? V_NEG : V_MISS;
			else
				l = x < 0.9 ? V_REACT : V_MISS;
		} else if (hype && x < 0.45) {
			l = x < 0.25 ? V_HYPE : V_POS;
		} else if (raid && x < 0.45) {
			l = V_RAID;
		} else if (tone > 0) {
			l = x < 0.30 ? V_POS : x < 0.35 ? V_MISS : x < 0.37 ? V_NEG : V_NEUTRAL;
		} else if (tone < 0) {
			l = x < 0.30 ? V_NEG : x < 0.35 ? V_MISS : x < 0.38 ? V_POS : V_NEUTRAL;
		} else {
			l = x < 0.03 ? V_POS : x < 0.05 ? V_NEG : x < 0.08 ? V_MISS : V_NEUTRAL;
		}
		const struct word *w = cdf_pick(&v->l[l], r);
		int casing = 0;
		double c = rng_unif(r);
		if (c < 0.06)
			casing = 1;
		else if (c < 0.10)
			casing = 2;
		if (!first)
			buf_addc(m, ' ');
		add_word(m, w, casing);
		first = false;
		if (rng_chance(r, 0.05)) {
			const struct word *p = cdf_pick(&v->l[V_PUNCT], r);
			buf_add(m, p->s, p->len);
		}
	}
	return nemo;
}

size_t vocab_message(const struct vocab *v, struct rng *r, enum gen_style style, double mood,
                     uint64_t variant, struct buf *m, const struct word **emo)
{
	buf_reset(m);
	switch (style) {
	case STY_WALL: { /* the same emote, one to four times */
		const struct word *w = &EMOTES_HYPE[variant % NWORDS(EMOTES_HYPE)];
		size_t n = 1 + (size_t)rng_below(r, 4);
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_addc(m, ' ');
			buf_add(m, w->s, w->len);
			emo[i] = w;
		}
		return n;
	}
	case STY_GREET: return situational(v, r, V_GREET, V_EMO_GREET, 0.5, m, emo);
	case STY_GN: return situational(v, r, V_GN, V_EMO_GN, 0.4, m, emo);
	case STY_FUNNY: return situational(v, r, V_FUNNY, V_EMO_FUNNY, 0.8, m, emo);
	case STY_FAIL: return situational(v, r, V_FAIL, V_EMO_NEG, 0.6, m, emo);
	case STY_AD_RETURN: return situational(v, r, V_AD, V_EMO_AD, 0.3, m, emo);
	case STY_RAID_OUT: {
		const char *s = RAID_OUT_LINES[variant % NWORDS(RAID_OUT_LINES)];
		buf_adds(m, s);
		return 0; /* typed out, not emote tokens */
	}
	case STY_GIFT:
		ADDL(m, "gifted a Tier 1 sub to ");
		vocab_username(m, variant);
		buf_addc(m, '!');
		return 0;
	case STY_SPAM: buf_adds(m, COPYPASTAS[variant % NWORDS(COPYPASTAS)]); return 0;
	case STY_BOT:
		buf_adds(m, BOT_LINES[(variant >> 32) % NWORDS(BOT_LINES)]);
		add_u64(m, variant & 0xFFFFFFFF);
		return 0;
	case STY_NORMAL:
	case STY_REPLY:
	case STY_HYPE:
	case STY_RAID_IN:
	case STY_COUNT: break;
	}
	if (style == STY_NORMAL && rng_chance(r, 0.001))
		return 0; /* an empty message: allowed by the contract */
	return ordinary(v, r, style, mood, m, emo);
}
