/*
 * generator.c — the synthetic traffic model of `telemetra gen`.
 *
 * Model, per stream:
 *   - a viewer level V (log-normal across streams, median 1500) around
 *     which the reported count drifts (mean-reverting random walk in log
 *     space), plus raid boosts that decay over ten minutes;
 *   - a base chat rate proportional to sqrt(V) times a per-stream
 *     "chattiness", normalized so the mean over streams is --chat-rate,
 *     modulated over time by a smooth random curve (±30 %, knots every
 *     10–30 min) and by the current viewer count, and multiplied during
 *     injected spikes; arrivals are a Poisson process with that rate;
 *   - a mood in [-1, 1] (Ornstein–Uhlenbeck around a per-stream base, time
 *     constant 10 min, spread 0.4) that
 *     tilts messages towards positive or negative words and emotes;
 *   - a chatter population of ~0.15·V users with Zipf-like activity, drawn
 *     from a global id pool so that heavy chatters show up on several
 *     streams; usernames and badges derive from the id.
 * Messages mix lexicon hits (positive / negative), near misses ("loool",
 * "goated"), neutral words, punctuation, non-ASCII tokens, emotes and the
 * occasional JSON escape.  See generator.h for the arrival order.
 *
 * Determinism: only + - * / sqrt and exact helpers on doubles, with our own
 * exp() and log(); contraction to fused multiply-add is turned off.
 */
#include "config.h"

#include "gen/generator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/timestamp.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define SEC(x) ((int64_t)((x) * 1e6))

/* Spike placement: the first WARMUP of every stream stays quiet (so the
 * detector has its history), spikes of one stream are at least GAP apart,
 * and the last TAIL of the span holds none. */
#define SPIKE_WARMUP_US SEC(300)
#define SPIKE_GAP_US SEC(300)
#define SPIKE_TAIL_US SEC(60)
/* Late events are displaced by more than D + LATE_MIN, at most
 * D + LATE_MIN + LATE_RANGE. */
#define LATE_MIN_US SEC(60)
#define LATE_RANGE_US SEC(120)

/* ------------------------------------------------------------------------ */
/* Deterministic arithmetic                                                  */

static const double LN2_HI = 6.93147180369123816490e-01;
static const double LN2_LO = 1.90821492927058770002e-10;

/* e^x to ~1 ulp with a degree-13 Taylor polynomial after range reduction. */
static double det_exp(double x)
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

/* ln x for x > 0: x = m·2^e, ln m = 2·atanh((m−1)/(m+1)). */
static double det_log(double x)
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

static double det_pow(double a, double b) { return det_exp(b * det_log(a)); }

static double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

/* ------------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded with splitmix64                                 */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* A stateless mix of one word, for ids derived from (seed, stream, n). */
static uint64_t mix64(uint64_t x) { return splitmix64(&x); }

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ mix64(stream * UINT64_C(0xD1B54A32D192ED03) + 0x51);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
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

/* Standard normal deviate (Marsaglia's polar method). */
static double rng_normal(struct rng *r)
{
	double u, v, s;
	do {
		u = 2.0 * rng_unif(r) - 1.0;
		v = 2.0 * rng_unif(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * det_log(s) / s);
}

/* Exponential deviate with mean 1. */
static inline double rng_exp(struct rng *r) { return -det_log(rng_unif_pos(r)); }

/* ------------------------------------------------------------------------ */
/* Vocabulary (already JSON-escaped)                                         */

struct word {
	const char *s;
	unsigned char len;
	unsigned char ascii; /* letters only: may be upper-cased */
};

#define W(x) {x, (unsigned char)(sizeof(x) - 1), 1}
#define X(x) {x, (unsigned char)(sizeof(x) - 1), 0}
#define NWORDS(a) (sizeof(a) / sizeof((a)[0]))

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

enum vocab {
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
	V_COUNT
};

/* ------------------------------------------------------------------------ */
/* Generator state                                                           */

enum spike_kind { SPIKE_HYPE, SPIKE_RAID };

struct spike {
	size_t stream;
	int64_t start, end; /* the chat burst [start, end) */
	enum spike_kind kind;
	double mult;        /* chat-rate multiplier during the burst */
	double raid_jump;   /* raid: viewers added at start */
	uint32_t raid_pool; /* raid: number of distinct raiders */
	uint32_t index;     /* global index, for raider ids */
};

struct stream {
	char *id;
	size_t id_len;
	char *id_json; /* JSON string literal, quotes included */
	size_t id_json_len;
	struct rng rng;
	double base_rate; /* messages/s without modulation */
	double v_level;   /* viewer level V */
	double log_v;     /* current log viewers (walk) */
	double raid_boost;
	int64_t last_tick; /* time of the previous viewer update */
	double mood_base, mood;
	int64_t knot_t0, knot_len;
	double knot_v0, knot_v1;
	double zipf_a, zipf_inv; /* chatter rank sampler */
	uint32_t chatters;
	uint32_t salt;
	struct spike **spk; /* this stream's spikes, by start */
	size_t nspk, spk_pos;
	size_t raid_seen; /* raids already applied to the viewer count */
	uint64_t last_count; /* viewer count of the last update */
	uint64_t seq;
};

struct src { /* an entry of the source heap */
	int64_t t;
	uint32_t id; /* stream * 2 + kind */
};

struct pend { /* a displaced line waiting for its arrival */
	int64_t key;
	uint64_t seq;
	char *text;
	size_t len;
	int64_t time;
	uint32_t stream;
	unsigned char kind, malformed, delay_class;
};

struct gen {
	struct gen_options o;
	uint64_t seed;
	size_t nstreams;
	struct stream *st;
	struct spike *spikes;
	size_t nspikes;
	struct gen_label *labels;
	struct cdf vocab[V_COUNT];
	uint64_t user_pool;

	struct src *heap; /* 2 * nstreams entries */
	size_t nheap;
	int64_t end_time;
	int64_t frontier;
	bool gen_done;

	struct rng arrival, broken;
	struct pend *pend;
	size_t npend, cappend;
	uint64_t pseq;
	char *owned; /* text of the last pending line returned */

	/* the event being built */
	struct buf line;
	struct buf msg;
	int64_t cur_time;
	uint32_t cur_stream;
	enum gen_kind cur_kind;
	bool cur_malformed;
	int64_t ts_sec;
	char ts[TIMESTAMP_BUFSZ];

	struct gen_stats stats;
};

void gen_options_default(struct gen_options *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->streams = 10;
	o->stream_ids = NULL;
	o->start_us = GEN_DEFAULT_START_US;
	o->duration_us = SEC(600);
	o->max_events = 0;
	o->chat_rate = 3.0;
	o->viewer_interval_us = SEC(5);
	o->spikes = 0;
	o->disorder = 0.01;
	o->late = 0.001;
	o->malformed = 0.001;
	o->watermark_delay_us = SEC(10);
}

/* Mean factor of the ±30 % smooth modulation of chat rates (about 1.01). */
#define MODULATION_MEAN 1.01

double gen_expected_rate(const struct gen_options *o)
{
	double viewer = o->viewer_interval_us > 0 ? 1e6 / (double)o->viewer_interval_us : 0.0;
	return (double)o->streams * (o->chat_rate * MODULATION_MEAN + viewer);
}

/* ------------------------------------------------------------------------ */
/* Text helpers                                                              */

static inline void add(struct buf *b, const char *s, size_t n) { buf_add(b, s, n); }
#define ADDL(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

static void add_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	add(b, tmp + i, sizeof(tmp) - i);
}

static void add_ts(struct gen *g, struct buf *b, int64_t us)
{
	int64_t sec = floor_div(us, USEC_PER_SEC);
	int64_t frac = us - sec * USEC_PER_SEC;
	if (sec != g->ts_sec) {
		timestamp_format_rfc3339(sec * USEC_PER_SEC, g->ts);
		g->ts_sec = sec;
	}
	char *f = g->ts + 20; /* "YYYY-MM-DDTHH:MM:SS." */
	for (int i = 5; i >= 0; i--) {
		f[i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	add(b, g->ts, 27);
}

static void add_uuid(struct buf *b, uint64_t a, uint64_t c)
{
	static const char hex[] = "0123456789abcdef";
	char u[36];
	a = (a & ~UINT64_C(0xF000)) | UINT64_C(0x4000);                        /* version 4 */
	c = (c & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);                  /* variant 10 */
	int k = 0;
	for (int i = 15; i >= 0; i--) {
		if (k == 8 || k == 13 || k == 18)
			u[k++] = '-';
		u[k++] = hex[(a >> (i * 4)) & 15];
	}
	for (int i = 15; i >= 0; i--) {
		if (k == 18 || k == 23)
			u[k++] = '-';
		u[k++] = hex[(c >> (i * 4)) & 15];
	}
	add(b, u, 36);
}

static void add_word(struct buf *b, const struct word *w, int casing)
{
	if (casing == 0 || !w->ascii) {
		add(b, w->s, w->len);
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
	add(b, tmp, n);
}

/* ------------------------------------------------------------------------ */
/* Stream dynamics                                                           */

static struct spike *current_spike(struct stream *s, int64_t t)
{
	while (s->spk_pos < s->nspk && s->spk[s->spk_pos]->end <= t)
		s->spk_pos++;
	if (s->spk_pos < s->nspk && s->spk[s->spk_pos]->start <= t)
		return s->spk[s->spk_pos];
	return NULL;
}

/* The next time after t at which the stream's rate jumps (spike edge). */
static int64_t next_break(struct stream *s, int64_t t)
{
	while (s->spk_pos < s->nspk && s->spk[s->spk_pos]->end <= t)
		s->spk_pos++;
	if (s->spk_pos >= s->nspk)
		return INT64_MAX;
	struct spike *k = s->spk[s->spk_pos];
	return t < k->start ? k->start : k->end;
}

static double modulation(struct stream *s, int64_t t)
{
	while (t >= s->knot_t0 + s->knot_len) {
		s->knot_t0 += s->knot_len;
		s->knot_len = SEC(rng_range(&s->rng, 600.0, 1800.0));
		s->knot_v0 = s->knot_v1;
		s->knot_v1 = rng_range(&s->rng, -0.3, 0.3);
	}
	double u = (double)(t - s->knot_t0) / (double)s->knot_len;
	double w = u * u * (3.0 - 2.0 * u);
	return det_exp(s->knot_v0 + (s->knot_v1 - s->knot_v0) * w);
}

static double chat_rate_at(struct stream *s, int64_t t)
{
	double viewers = det_exp(s->log_v) + s->raid_boost;
	double vf = clampd(sqrt(viewers / s->v_level), 0.3, 4.0);
	double rate = s->base_rate * modulation(s, t) * vf;
	struct spike *k = current_spike(s, t);
	if (k)
		rate *= k->mult;
	return rate;
}

static int64_t next_chat_time(struct stream *s, int64_t t)
{
	for (;;) {
		double lam = chat_rate_at(s, t);
		double gap = rng_exp(&s->rng) / lam;
		if (gap > 1e6)
			gap = 1e6;
		int64_t cand = t + (int64_t)(gap * 1e6);
		int64_t brk = next_break(s, t);
		if (cand >= brk) { /* memoryless: restart at the rate change */
			t = brk;
			continue;
		}
		return cand;
	}
}

/* Viewer model and mood, advanced at every viewer update. */
static uint64_t viewer_tick(struct stream *s, int64_t t)
{
	double dt = (double)(t - s->last_tick) / 1e6;
	if (dt < 0.0)
		dt = 0.0;
	s->last_tick = t;
	double sq = sqrt(dt);
	double lv = det_log(s->v_level);
	s->log_v += -0.004 * (s->log_v - lv) * dt + 0.01 * sq * rng_normal(&s->rng);
	s->raid_boost *= det_exp(-dt / 600.0);
	s->mood += (s->mood_base - s->mood) * dt / 600.0 + 0.0231 * sq * rng_normal(&s->rng);
	s->mood = clampd(s->mood, -1.0, 1.0);
	/* raids that have started since the previous tick */
	for (size_t i = 0; i < s->nspk; i++) {
		struct spike *k = s->spk[i];
		if (k->kind == SPIKE_RAID && k->start <= t && i >= s->raid_seen) {
			s->raid_boost += k->raid_jump;
			s->raid_seen = i + 1;
		}
	}
	double v = det_exp(s->log_v) + s->raid_boost;
	return (uint64_t)(v + 0.5);
}

/* ------------------------------------------------------------------------ */
/* Serialization, with optional faults                                       */

enum fault {
	F_NONE,
	F_NOT_JSON,
	F_TRUNCATED,
	F_NOT_OBJECT,
	F_NO_STREAM,
	F_NO_TIMESTAMP,
	F_NO_REQUIRED,
	F_BAD_TIMESTAMP,
	F_NEGATIVE,
	F_WRONG_TYPE,
	F_BAD_UTF8,
	F_COUNT
};

static const char *const BAD_TIMESTAMPS[] = {
	"\"2025-13-45T12:00:00Z\"", "\"2025-11-23T25:61:00Z\"", "\"2025-11-23T12:00:60Z\"",
	"\"23/11/2025 12:00:00\"",  "\"yesterday\"",            "\"\"",
	"\"2025-11-23\"",           "\"0000-01-01T00:00:00Z\"", "1e400",
	"\"2025-11-23T12:00:00.123456Zjunk\"",
};

static const char *const NOT_JSON[] = {
	"<html><head><title>502 Bad Gateway</title></head></html>",
	"ERROR: connection reset by peer",
	"{'type': 'chat', 'stream_id': 'stream_001', 'message': 'hi'}",
	"{\"type\":\"chat\" \"stream_id\":\"stream_001\"}",
	"chat stream_001 u42 hello world",
	"{\"type\":\"viewer\",\"viewer_count\":12,}",
	"}{",
	"NaN",
	"{\"message\":\"unterminated}",
};

static const char *const NOT_OBJECT[] = {
	"null", "42", "true", "\"chat\"", "[]", "[{\"type\":\"chat\"}]",
};

static void add_stream_field(struct gen *g, struct buf *b, struct stream *s, enum fault f)
{
	if (f == F_NO_STREAM)
		return;
	ADDL(b, ",\"stream_id\":");
	if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.3)) {
		static const char *const wrong[] = {"true", "[\"stream_001\"]", "{\"id\":1}", "1.5"};
		const char *w = wrong[rng_below(&g->broken, NWORDS(wrong))];
		add(b, w, strlen(w));
	} else if (f == F_BAD_UTF8) {
		ADDL(b, "\"stream_\xC3\x28\xFF");
		add(b, s->id_json + 1, s->id_json_len - 1);
	} else {
		add(b, s->id_json, s->id_json_len);
	}
}

static void add_timestamp_field(struct gen *g, struct buf *b, int64_t t, enum fault f)
{
	if (f == F_NO_TIMESTAMP)
		return;
	ADDL(b, ",\"timestamp\":");
	if (f == F_BAD_TIMESTAMP) {
		const char *bad = BAD_TIMESTAMPS[rng_below(&g->broken, NWORDS(BAD_TIMESTAMPS))];
		add(b, bad, strlen(bad));
	} else {
		buf_addc(b, '"');
		add_ts(g, b, t);
		buf_addc(b, '"');
	}
}

static void add_event_head(struct gen *g, struct buf *b, struct stream *s, int64_t t, const char *type,
                           uint64_t kindbit, enum fault f)
{
	uint64_t h = mix64(g->seed ^ mix64(((uint64_t)(s - g->st) << 1 | kindbit) + (s->seq << 24)));
	ADDL(b, "{\"event_id\":\"");
	add_uuid(b, h, mix64(h ^ UINT64_C(0x5bd1e995)));
	ADDL(b, "\",\"type\":\"");
	add(b, type, strlen(type));
	buf_addc(b, '"');
	if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.2)) {
		ADDL(b, ",\"timestamp\":true");
	} else {
		add_timestamp_field(g, b, t, f);
	}
	add_stream_field(g, b, s, f);
}

/* Turn a complete line into one of the whole-line faults. */
static void break_line(struct gen *g, struct buf *b, enum fault f)
{
	if (f == F_TRUNCATED) {
		size_t cut = 1 + (size_t)rng_below(&g->broken, b->len > 2 ? b->len - 2 : 1);
		b->len = cut;
		b->data[cut] = '\0';
	} else if (f == F_NOT_JSON) {
		const char *s = NOT_JSON[rng_below(&g->broken, NWORDS(NOT_JSON))];
		buf_reset(b);
		add(b, s, strlen(s));
	} else if (f == F_NOT_OBJECT) {
		if (rng_chance(&g->broken, 0.5)) { /* the event wrapped in an array */
			char *copy = xstrndup(b->data, b->len);
			size_t n = b->len;
			buf_reset(b);
			buf_addc(b, '[');
			add(b, copy, n);
			buf_addc(b, ']');
			free(copy);
		} else {
			const char *s = NOT_OBJECT[rng_below(&g->broken, NWORDS(NOT_OBJECT))];
			buf_reset(b);
			add(b, s, strlen(s));
		}
	}
}

/* Chatter of a stream at time t: a Zipf-ranked regular, or a raider. */
static uint64_t pick_user(struct gen *g, struct stream *s, struct spike *k)
{
	if (k && k->kind == SPIKE_RAID && rng_chance(&s->rng, 0.7))
		return 1000 + g->user_pool + (uint64_t)k->index * 100000 + rng_below(&s->rng, k->raid_pool);
	double u = rng_unif(&s->rng);
	double x = det_exp(s->zipf_inv * det_log(1.0 - u * s->zipf_a));
	uint64_t rank = (uint64_t)x;
	rank = rank > 0 ? rank - 1 : 0;
	if (rank >= s->chatters)
		rank = s->chatters - 1;
	/* rank -> user id: a fixed scramble of the global pool, so that busy
	 * chatters of one stream are sometimes busy on another one too */
	return 1000 + mix64(g->seed ^ ((uint64_t)s->salt << 32) ^ rank) % g->user_pool;
}

static void add_username(struct buf *b, uint64_t uid)
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
	add(b, tmp, n);
}

static void add_badges(struct buf *b, uint64_t uid, uint32_t salt)
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
#define MAX_EMOTES 8
#define MAX_TOKENS 24

static size_t build_message(struct gen *g, struct stream *s, struct spike *k, const struct word **emo)
{
	struct rng *r = &s->rng;
	struct buf *m = &g->msg;
	buf_reset(m);
	if (rng_chance(r, 0.001))
		return 0; /* an empty message: allowed by the contract */

	double mood = s->mood;
	bool hype = k && k->kind == SPIKE_HYPE;
	bool raid = k && k->kind == SPIKE_RAID;
	if (hype)
		mood = 0.9;
	else if (raid)
		mood = 0.7;

	/* tone of the message */
	double p_pos = 0.25 + 0.2 * mood, p_neg = 0.12 - 0.1 * mood;
	double u = rng_unif(r);
	int tone = u < p_pos ? 1 : u < p_pos + p_neg ? -1 : 0;

	/* number of tokens: a quarter are one-word messages, the rest geometric */
	size_t ntok = 1;
	if (!rng_chance(r, 0.25)) {
		ntok = 1 + (size_t)(rng_exp(r) * 5.0);
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
		enum vocab cat;
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
			emo[i] = cdf_pick(&g->vocab[cat], r);
		}
		if (nemo > 1 && rng_chance(r, 0.15)) /* spam the same emote */
			for (size_t i = 1; i < nemo; i++)
				emo[i] = emo[0];
		if (ntok == 1 && rng_chance(r, 0.5))
			ntok = 0; /* an emote-only message */
	}

	/* where the emotes go: mostly at the end */
	size_t at[MAX_EMOTES];
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
			add(m, emo[e]->s, emo[e]->len);
			first = false;
			e++;
		}
		if (i == ntok)
			break;
		enum vocab v = V_NEUTRAL;
		double x = rng_unif(r);
		if (ntok == 1 && !hype && !raid) { /* a one-word reaction */
			if (tone > 0)
				v = x < 0.85 ? V_POS : V_MISS;
			else if (tone < 0)
				v = x < 0.85 ? V_NEG : V_MISS;
			else
				v = x < 0.9 ? V_REACT : V_MISS;
		} else if (hype && x < 0.45) {
			v = x < 0.25 ? V_HYPE : V_POS;
		} else if (raid && x < 0.45) {
			v = V_RAID;
		} else if (tone > 0) {
			v = x < 0.30 ? V_POS : x < 0.35 ? V_MISS : x < 0.37 ? V_NEG : V_NEUTRAL;
		} else if (tone < 0) {
			v = x < 0.30 ? V_NEG : x < 0.35 ? V_MISS : x < 0.38 ? V_POS : V_NEUTRAL;
		} else {
			v = x < 0.03 ? V_POS : x < 0.05 ? V_NEG : x < 0.08 ? V_MISS : V_NEUTRAL;
		}
		const struct word *w = cdf_pick(&g->vocab[v], r);
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
			const struct word *p = cdf_pick(&g->vocab[V_PUNCT], r);
			add(m, p->s, p->len);
		}
	}
	return nemo;
}

static void build_chat(struct gen *g, struct stream *s, int64_t t, enum fault f)
{
	struct buf *b = &g->line;
	struct spike *k = current_spike(s, t);
	uint64_t uid = pick_user(g, s, k);
	const struct word *emo[MAX_EMOTES];
	size_t nemo = build_message(g, s, k, emo);

	buf_reset(b);
	add_event_head(g, b, s, t, "chat", 0, f);
	if (!(f == F_NO_REQUIRED && rng_chance(&g->broken, 0.5))) {
		ADDL(b, ",\"user_id\":");
		if (f == F_WRONG_TYPE && rng_chance(&g->broken, 0.5)) {
			ADDL(b, "null");
		} else {
			ADDL(b, "\"u");
			add_u64(b, uid);
			buf_addc(b, '"');
		}
		ADDL(b, ",\"username\":\"");
		add_username(b, uid);
		buf_addc(b, '"');
	} else {
		f = F_NONE; /* user_id dropped, keep the message (username stays out too) */
		ADDL(b, ",\"user\":\"u");
		add_u64(b, uid);
		buf_addc(b, '"');
	}
	if (f == F_NO_REQUIRED) {
		/* no message field */
	} else if (f == F_WRONG_TYPE) {
		ADDL(b, ",\"message\":");
		add_u64(b, 1 + rng_below(&g->broken, 99999));
	} else {
		ADDL(b, ",\"message\":\"");
		add(b, g->msg.data ? g->msg.data : "", g->msg.len);
		buf_addc(b, '"');
	}
	ADDL(b, ",\"emotes\":[");
	for (size_t i = 0; i < nemo; i++) {
		if (i)
			buf_addc(b, ',');
		buf_addc(b, '"');
		add(b, emo[i]->s, emo[i]->len);
		buf_addc(b, '"');
	}
	buf_addc(b, ']');
	add_badges(b, uid, s->salt);
	buf_addc(b, '}');
}

static void build_viewer(struct gen *g, struct stream *s, int64_t t, uint64_t count, enum fault f)
{
	struct buf *b = &g->line;
	buf_reset(b);
	add_event_head(g, b, s, t, "viewer", 1, f);
	if (f == F_NO_REQUIRED)
		ADDL(b, ",\"viewers\":");
	else
		ADDL(b, ",\"viewer_count\":");
	if (f == F_NEGATIVE) {
		buf_addc(b, '-');
		add_u64(b, 1 + count);
	} else if (f == F_WRONG_TYPE) {
		switch (rng_below(&g->broken, 3)) {
		case 0:
			buf_addc(b, '"');
			add_u64(b, count);
			buf_addc(b, '"');
			break;
		case 1:
			add_u64(b, count);
			ADDL(b, ".5");
			break;
		default:
			ADDL(b, "null");
			break;
		}
	} else {
		add_u64(b, count);
	}
	buf_addc(b, '}');
}

/* ------------------------------------------------------------------------ */
/* Heaps                                                                     */

static inline bool src_less(const struct src *a, const struct src *b)
{
	return a->t < b->t || (a->t == b->t && a->id < b->id);
}

static void src_sift_down(struct src *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && src_less(&h[l], &h[m]))
			m = l;
		if (l + 1 < n && src_less(&h[l + 1], &h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct src t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static inline bool pend_less(const struct pend *a, const struct pend *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void pend_push(struct gen *g, struct pend p)
{
	g->pend = grow_array(g->pend, sizeof(*g->pend), &g->cappend, g->npend + 1);
	size_t i = g->npend++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!pend_less(&p, &g->pend[parent]))
			break;
		g->pend[i] = g->pend[parent];
		i = parent;
	}
	g->pend[i] = p;
}

static struct pend pend_pop(struct gen *g)
{
	struct pend top = g->pend[0];
	struct pend last = g->pend[--g->npend];
	size_t n = g->npend, i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = l;
		if (l >= n)
			break;
		if (l + 1 < n && pend_less(&g->pend[l + 1], &g->pend[l]))
			m = l + 1;
		if (!pend_less(&g->pend[m], &last))
			break;
		g->pend[i] = g->pend[m];
		i = m;
	}
	if (n)
		g->pend[i] = last;
	return top;
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                     */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_spike(const void *a, const void *b)
{
	const struct spike *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->stream > y->stream) - (x->stream < y->stream);
}

/* Place the spikes over streams and [start, start + span).  Returns false
 * (with *err) when they do not fit. */
static bool plan_spikes(struct gen *g, int64_t span, struct error *err)
{
	struct rng r;
	rng_seed(&r, g->seed, UINT64_C(0xC0FFEE));
	size_t n = g->nstreams;
	size_t *order = xmalloc(n * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) { /* Fisher–Yates */
		size_t j = (size_t)rng_below(&r, i);
		size_t t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	g->nspikes = g->o.spikes;
	g->spikes = xcalloc(g->nspikes ? g->nspikes : 1, sizeof(struct spike));
	for (size_t i = 0; i < g->nspikes; i++) {
		struct spike *k = &g->spikes[i];
		k->stream = order[i % n];
		if (rng_chance(&r, 0.7)) {
			k->kind = SPIKE_HYPE;
			k->end = SEC(rng_range(&r, 30.0, 120.0)); /* duration for now */
			k->mult = rng_range(&r, 5.0, 10.0);
		} else {
			k->kind = SPIKE_RAID;
			k->end = SEC(rng_range(&r, 30.0, 60.0));
			k->mult = rng_range(&r, 3.0, 6.0);
		}
		k->raid_jump = 0.0;
		k->raid_pool = 0;
	}
	free(order);

	int64_t *u = xmalloc((g->nspikes ? g->nspikes : 1) * sizeof(int64_t));
	for (size_t s = 0; s < n; s++) {
		size_t cnt = 0;
		int64_t need = SPIKE_WARMUP_US + SPIKE_TAIL_US;
		for (size_t i = 0; i < g->nspikes; i++)
			if (g->spikes[i].stream == s) {
				need += g->spikes[i].end + (cnt ? SPIKE_GAP_US : 0);
				cnt++;
			}
		if (!cnt)
			continue;
		if (need > span) {
			error_set(err,
			          "%u spikes do not fit: stream %s gets %zu of them and would need %.0f s, but "
			          "the span is %.0f s (the first %.0f s of a stream stay quiet and spikes of a "
			          "stream are %.0f s apart); use fewer --spikes, more --streams or a longer "
			          "--duration / more --events",
			          g->o.spikes, g->st[s].id, cnt, (double)need / 1e6, (double)span / 1e6,
			          (double)SPIKE_WARMUP_US / 1e6, (double)SPIKE_GAP_US / 1e6);
			free(u);
			return false;
		}
		int64_t slack = span - need;
		for (size_t j = 0; j < cnt; j++)
			u[j] = (int64_t)(rng_unif(&r) * (double)slack);
		qsort(u, cnt, sizeof(int64_t), cmp_i64);
		int64_t off = g->o.start_us + SPIKE_WARMUP_US;
		size_t j = 0;
		for (size_t i = 0; i < g->nspikes; i++) {
			struct spike *k = &g->spikes[i];
			if (k->stream != s)
				continue;
			int64_t dur = k->end;
			k->start = off + u[j];
			k->end = k->start + dur;
			off += dur + SPIKE_GAP_US;
			j++;
		}
	}
	free(u);

	qsort(g->spikes, g->nspikes, sizeof(struct spike), cmp_spike);
	for (size_t i = 0; i < g->nspikes; i++) {
		struct spike *k = &g->spikes[i];
		k->index = (uint32_t)i;
		if (k->kind == SPIKE_RAID) {
			struct stream *s = &g->st[k->stream];
			k->raid_jump = 50.0 + s->v_level * rng_range(&r, 0.3, 1.5);
			k->raid_pool = (uint32_t)clampd(k->raid_jump * 0.3, 20.0, 99999.0);
		}
	}
	return true;
}

/* Expected number of extra events the planned spikes add. */
static double spike_extra_events(const struct gen *g)
{
	double extra = 0.0;
	for (size_t i = 0; i < g->nspikes; i++) {
		const struct spike *k = &g->spikes[i];
		const struct stream *s = &g->st[k->stream];
		extra += (k->mult - 1.0) * s->base_rate * (double)(k->end - k->start) / 1e6;
		if (k->kind == SPIKE_RAID)
			extra += s->base_rate * (sqrt(1.0 + k->raid_jump / s->v_level) - 1.0) * 600.0;
	}
	return extra;
}

static void make_name(size_t i, char *out, size_t cap)
{
	/* stream_001 ... stream_999, stream_1000 ... */
	char d[24];
	size_t k = sizeof(d);
	size_t v = i + 1;
	int digits = 0;
	do {
		d[--k] = (char)('0' + v % 10);
		v /= 10;
		digits++;
	} while (v);
	while (digits < 3) {
		d[--k] = '0';
		digits++;
	}
	size_t n = sizeof(d) - k;
	if (7 + n + 1 > cap)
		n = cap - 8;
	memcpy(out, "stream_", 7);
	memcpy(out + 7, d + k, n);
	out[7 + n] = '\0';
}

struct gen *gen_create(const struct gen_options *o, struct error *err)
{
	if (o->streams < 1) {
		error_set(err, "the number of streams must be at least 1");
		return NULL;
	}
	if (!(o->chat_rate > 0.0) || o->chat_rate > 1e6) {
		error_set(err, "the chat rate must be > 0 and at most 1e6 messages/s per stream");
		return NULL;
	}
	if (o->viewer_interval_us <= 0) {
		error_set(err, "the viewer interval must be > 0");
		return NULL;
	}
	if (o->disorder < 0 || o->late < 0 || o->malformed < 0 || o->disorder > 1 || o->late > 1 ||
	    o->malformed > 1 || o->disorder + o->late > 1) {
		error_set(err, "the fractions of disorder, late and malformed lines must be in [0, 1], "
		               "and disorder + late at most 1");
		return NULL;
	}
	if (o->disorder > 0 && o->watermark_delay_us < 2) {
		error_set(err, "disorder needs a watermark delay > 0");
		return NULL;
	}
	if (o->start_us < TIMESTAMP_MIN_US || o->start_us > TIMESTAMP_MAX_US / 2) {
		error_set(err, "the start time is out of range");
		return NULL;
	}
	if (o->duration_us < 0 || o->duration_us > TIMESTAMP_MAX_US - o->start_us - SEC(86400)) {
		error_set(err, "the duration is out of range");
		return NULL;
	}
	if (o->stream_ids) {
		for (size_t i = 0; i < o->streams; i++)
			if (!o->stream_ids[i] || !o->stream_ids[i][0]) {
				error_set(err, "stream id %zu is empty", i + 1);
				return NULL;
			}
	}

	struct gen *g = xcalloc(1, sizeof(*g));
	g->o = *o;
	g->o.stream_ids = NULL;
	g->seed = mix64(o->seed ^ UINT64_C(0x7E1E3E7A));
	g->nstreams = o->streams;
	g->st = xcalloc(g->nstreams, sizeof(struct stream));
	g->ts_sec = INT64_MIN;
	g->stats.min_time_us = INT64_MAX;
	g->stats.max_time_us = INT64_MIN;

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
	};
	for (int v = 0; v < V_COUNT; v++)
		cdf_init(&g->vocab[v], lists[v].w, lists[v].n, lists[v].s);

	/* streams */
	struct rng setup;
	rng_seed(&setup, g->seed, UINT64_C(0x5E7));
	double wsum = 0.0;
	double *w = xmalloc(g->nstreams * sizeof(double));
	uint64_t pool = 0;
	struct buf tmp = BUF_INIT;
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		char name[32];
		const char *id = o->stream_ids ? o->stream_ids[i] : (make_name(i, name, sizeof(name)), name);
		s->id = xstrdup(id);
		s->id_len = strlen(id);
		buf_reset(&tmp);
		buf_add_json_string(&tmp, s->id, s->id_len);
		s->id_json_len = tmp.len;
		s->id_json = xstrndup(tmp.data, tmp.len);
		rng_seed(&s->rng, g->seed, 1000 + i);
		s->salt = (uint32_t)mix64(g->seed + i);
		s->v_level = clampd(1500.0 * det_exp(1.0 * rng_normal(&setup)), 20.0, 150000.0);
		s->log_v = det_log(s->v_level) + 0.1 * rng_normal(&setup);
		w[i] = sqrt(s->v_level) * det_exp(0.3 * rng_normal(&setup));
		wsum += w[i];
		s->mood_base = rng_range(&setup, -0.4, 0.5);
		s->mood = clampd(s->mood_base + 0.4 * rng_normal(&setup), -1.0, 1.0);
		s->knot_len = SEC(rng_range(&setup, 600.0, 1800.0));
		s->knot_t0 = o->start_us - (int64_t)(rng_unif(&setup) * (double)s->knot_len);
		s->knot_v0 = rng_range(&setup, -0.3, 0.3);
		s->knot_v1 = rng_range(&setup, -0.3, 0.3);
		s->chatters = (uint32_t)clampd(s->v_level * 0.15, 30.0, 50000.0);
		pool += s->chatters;
		double zs = 1.05;
		s->zipf_a = 1.0 - det_pow((double)s->chatters + 1.0, 1.0 - zs);
		s->zipf_inv = 1.0 / (1.0 - zs);
		s->last_tick = o->start_us;
		s->last_count = (uint64_t)(det_exp(s->log_v) + 0.5);
	}
	buf_free(&tmp);
	/* rates: proportional to the weights, none below a tenth of the mean */
	double mean_w = wsum / (double)g->nstreams;
	wsum = 0.0;
	for (size_t i = 0; i < g->nstreams; i++) {
		if (w[i] < 0.1 * mean_w)
			w[i] = 0.1 * mean_w;
		wsum += w[i];
	}
	for (size_t i = 0; i < g->nstreams; i++)
		g->st[i].base_rate = o->chat_rate * (double)g->nstreams * w[i] / wsum;
	free(w);
	g->user_pool = pool * 4 / 5 + 100;

	/* span and spikes */
	g->end_time = o->duration_us > 0 ? o->start_us + o->duration_us : INT64_MAX;
	if (o->spikes > 0) {
		if (o->duration_us == 0 && o->max_events == 0) {
			error_set(err, "spikes need a bounded run: give a duration or a number of events");
			gen_free(g);
			return NULL;
		}
		int64_t span = o->duration_us;
		double extra = 0.0;
		for (int iter = 0; iter < 8; iter++) {
			int64_t s2 = span;
			if (o->max_events) {
				double est = ((double)o->max_events - extra) / gen_expected_rate(o) * 0.9;
				if (est < 0)
					est = 0;
				int64_t est_us = SEC(est);
				if (s2 == 0 || est_us < s2)
					s2 = est_us;
			}
			free(g->spikes);
			g->spikes = NULL;
			if (!plan_spikes(g, s2, err)) {
				gen_free(g);
				return NULL;
			}
			double e2 = spike_extra_events(g);
			if (!o->max_events || e2 <= extra * 1.02 + 1.0)
				break;
			extra = e2;
		}
	} else {
		g->spikes = xcalloc(1, sizeof(struct spike));
		g->nspikes = 0;
	}
	g->labels = xcalloc(g->nspikes ? g->nspikes : 1, sizeof(struct gen_label));
	for (size_t i = 0; i < g->nspikes; i++)
		g->st[g->spikes[i].stream].nspk++;
	for (size_t i = 0; i < g->nstreams; i++) {
		g->st[i].spk = xcalloc(g->st[i].nspk ? g->st[i].nspk : 1, sizeof(struct spike *));
		g->st[i].nspk = 0;
	}
	for (size_t i = 0; i < g->nspikes; i++) {
		struct spike *k = &g->spikes[i];
		struct stream *s = &g->st[k->stream];
		s->spk[s->nspk++] = k;
		g->labels[i] = (struct gen_label){k->stream, s->id, k->start, k->end,
		                                  k->kind == SPIKE_HYPE ? "hype" : "raid"};
	}

	/* sources */
	g->heap = xmalloc(2 * g->nstreams * sizeof(struct src));
	for (size_t i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->st[i];
		g->heap[g->nheap++] = (struct src){next_chat_time(s, o->start_us), (uint32_t)(2 * i)};
		g->heap[g->nheap++] = (struct src){
		    o->start_us + (int64_t)(rng_unif(&s->rng) * (double)o->viewer_interval_us),
		    (uint32_t)(2 * i + 1)};
	}
	for (size_t i = g->nheap / 2; i-- > 0;)
		src_sift_down(g->heap, g->nheap, i);

	rng_seed(&g->arrival, g->seed, UINT64_C(0xA77));
	rng_seed(&g->broken, g->seed, UINT64_C(0xBAD));
	g->frontier = INT64_MIN;
	return g;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nstreams; i++) {
		free(g->st[i].id);
		free(g->st[i].id_json);
		free(g->st[i].spk);
	}
	free(g->st);
	for (int v = 0; v < V_COUNT; v++)
		free(g->vocab[v].c);
	free(g->spikes);
	free(g->labels);
	free(g->heap);
	for (size_t i = 0; i < g->npend; i++)
		free(g->pend[i].text);
	free(g->pend);
	free(g->owned);
	buf_free(&g->line);
	buf_free(&g->msg);
	free(g);
}

/* ------------------------------------------------------------------------ */
/* Generation                                                                */

static enum fault pick_fault(struct gen *g, enum gen_kind kind)
{
	if (!(g->o.malformed > 0.0) || !rng_chance(&g->broken, g->o.malformed))
		return F_NONE;
	enum fault f = (enum fault)(1 + rng_below(&g->broken, F_COUNT - 1));
	(void)kind;
	return f;
}

/* Generate the next event in time order into g->line.  False at the end. */
static bool generate_one(struct gen *g)
{
	struct src *top = &g->heap[0];
	int64_t t = top->t;
	if (t >= g->end_time)
		return false;
	uint32_t id = top->id;
	struct stream *s = &g->st[id / 2];
	enum gen_kind kind = (id & 1) ? GEN_VIEWER : GEN_CHAT;
	enum fault f = pick_fault(g, kind);

	s->seq++;
	if (kind == GEN_CHAT) {
		build_chat(g, s, t, f == F_NEGATIVE ? F_NONE : f);
		if (f == F_NEGATIVE) /* a viewer update with a negative count instead */
			build_viewer(g, s, t, s->last_count, f);
		top->t = next_chat_time(s, t);
	} else {
		uint64_t count = viewer_tick(s, t);
		s->last_count = count;
		build_viewer(g, s, t, count, f);
		double jitter = rng_range(&s->rng, 0.9, 1.1);
		top->t = t + (int64_t)((double)g->o.viewer_interval_us * jitter);
		if (top->t <= t)
			top->t = t + 1;
	}
	if (f != F_NONE)
		break_line(g, &g->line, f);
	src_sift_down(g->heap, g->nheap, 0);

	g->frontier = t;
	g->cur_time = t;
	g->cur_stream = id / 2;
	g->cur_kind = kind;
	g->cur_malformed = f != F_NONE;
	return true;
}

static void account(struct gen *g, struct gen_line *out, int delay_class)
{
	struct gen_stats *st = &g->stats;
	st->lines++;
	if (out->kind == GEN_CHAT)
		st->chat++;
	else
		st->viewer++;
	if (out->malformed)
		st->malformed++;
	if (delay_class == 1)
		st->disordered++;
	else if (delay_class == 2)
		st->late++;
	st->bytes += out->len;
	if (out->time_us < st->min_time_us)
		st->min_time_us = out->time_us;
	if (out->time_us > st->max_time_us)
		st->max_time_us = out->time_us;
}

static void fill_line(struct gen *g, struct gen_line *out, const char *data, size_t len, uint32_t stream,
                      enum gen_kind kind, bool malformed, int64_t t)
{
	out->data = data;
	out->len = len;
	out->stream_id = g->st[stream].id;
	out->stream_id_len = g->st[stream].id_len;
	out->kind = kind;
	out->malformed = malformed;
	out->time_us = t;
}

bool gen_next(struct gen *g, struct gen_line *out)
{
	free(g->owned);
	g->owned = NULL;
	if (g->o.max_events && g->stats.lines >= g->o.max_events)
		return false;
	for (;;) {
		if (g->npend && (g->gen_done || g->pend[0].key <= g->frontier)) {
			struct pend p = pend_pop(g);
			g->owned = p.text;
			fill_line(g, out, p.text, p.len, p.stream, (enum gen_kind)p.kind, p.malformed, p.time);
			account(g, out, p.delay_class);
			return true;
		}
		if (g->gen_done || !generate_one(g)) {
			g->gen_done = true;
			if (!g->npend)
				return false;
			continue;
		}
		/* arrival delay */
		int64_t delay = 0;
		int cls = 0;
		double a = rng_unif(&g->arrival);
		if (a < g->o.disorder) {
			int64_t dmax = g->o.watermark_delay_us - 1; /* strictly below D */
			delay = 1 + (int64_t)(rng_unif(&g->arrival) * (double)dmax);
			if (delay > dmax)
				delay = dmax;
			cls = 1;
		} else if (a < g->o.disorder + g->o.late) {
			delay = g->o.watermark_delay_us + LATE_MIN_US + 1 +
			        (int64_t)(rng_unif(&g->arrival) * (double)LATE_RANGE_US);
			cls = 2;
		}
		if (delay == 0 && (!g->npend || g->pend[0].key > g->cur_time)) {
			fill_line(g, out, g->line.data, g->line.len, g->cur_stream, g->cur_kind, g->cur_malformed,
			          g->cur_time);
			account(g, out, 0);
			return true;
		}
		struct pend p = {
		    .key = g->cur_time + delay,
		    .seq = g->pseq++,
		    .text = xstrndup(g->line.data, g->line.len),
		    .len = g->line.len,
		    .time = g->cur_time,
		    .stream = g->cur_stream,
		    .kind = (unsigned char)g->cur_kind,
		    .malformed = g->cur_malformed,
		    .delay_class = (unsigned char)cls,
		};
		pend_push(g, p);
	}
}

const struct gen_label *gen_labels(const struct gen *g, size_t *count)
{
	*count = g->nspikes;
	return g->labels;
}

void gen_label_json(const struct gen_label *l, struct buf *out)
{
	char ts[TIMESTAMP_BUFSZ];
	buf_adds(out, "{\"stream_id\":");
	buf_add_json_string(out, l->stream_id, strlen(l->stream_id));
	buf_adds(out, ",\"start\":\"");
	buf_add(out, ts, timestamp_format_rfc3339(l->start_us, ts));
	buf_adds(out, "\",\"end\":\"");
	buf_add(out, ts, timestamp_format_rfc3339(l->end_us, ts));
	buf_adds(out, "\",\"kind\":\"");
	buf_adds(out, l->kind);
	buf_adds(out, "\"}");
}

void gen_get_stats(const struct gen *g, struct gen_stats *out) { *out = g->stats; }
