/*
 * state.h — the checkpoint's JSON values, for the core files that save and
 * load state (engine.c: a group; window.c: its panes; detector.c: each
 * stream's detectors), so that none of them, nor their headers, depends on
 * the JSON library: core/state.c is the one checkpoint file that includes
 * jansson.h (detector.c also uses it for the moments' metadata, which is
 * output, not state).
 *
 * A struct state is one JSON value of a checkpoint being built or read.
 * The functions are jansson's, renamed, with the same formats and the same
 * error texts, so that checkpoints and the messages about a bad one stay
 * what they were: state_pack/state_unpack take jansson's pack and unpack
 * format strings ("o"/"O" stand for a struct state, "I" for a state_int),
 * and unpacking is always strict (every member of an object accounted for).
 *
 * Ownership: a value built by state_pack, state_object, ... or returned by
 * state_parse is the caller's, freed with state_free; "o" in a pack format
 * and state_set/state_append take over the value passed (also on failure),
 * "O" copies a reference.  Values read out of a parsed one (state_unpack's
 * "o", state_array_get, state_iter_value) are borrowed: valid while the
 * value they come from lives.
 */
#ifndef TELEMETRA_STATE_H
#define TELEMETRA_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state;

typedef long long state_int; /* jansson's json_int_t, checked in state.c */

/* Why a parse or an unpack failed: jansson's text ("" on success). */
struct state_error {
	char text[160];
};

/* --- building ------------------------------------------------------------ */

struct state *state_pack(const char *fmt, ...);
struct state *state_object(void);
struct state *state_array(void);
struct state *state_null(void);
struct state *state_integer(state_int v);
struct state *state_real(double v);
/* Take over v (a NULL v is not stored). */
void state_set(struct state *object, const char *key, struct state *v);
void state_append(struct state *array, struct state *v);
void state_free(struct state *v);

/* v as compact text with sorted keys and 17 significant digits (every
 * double reads back with the same bits): a new string the caller frees,
 * NULL when out of memory. */
char *state_dump(const struct state *v);
/* The value written as text[0, len), or NULL with e set. */
struct state *state_parse(const char *text, size_t len, struct state_error *e);

/* --- reading ------------------------------------------------------------- */

/* 0 when v has the shape fmt says (strictly) and the pointers after fmt
 * received its parts; -1 with e set otherwise, as json_unpack_ex. */
int state_unpack(const struct state *v, struct state_error *e, const char *fmt, ...);

bool state_is_null(const struct state *v);
bool state_is_integer(const struct state *v);
bool state_is_number(const struct state *v); /* integer or real */
bool state_is_string(const struct state *v);
bool state_is_array(const struct state *v);
bool state_is_object(const struct state *v);
state_int state_integer_value(const struct state *v); /* 0 if not an integer */
double state_number_value(const struct state *v);      /* 0 if not a number */
const char *state_string_value(const struct state *v); /* NULL if not a string */
size_t state_string_length(const struct state *v);
size_t state_array_size(const struct state *v); /* 0 if not an array */
struct state *state_array_get(const struct state *v, size_t i); /* NULL out of range */
struct state *state_object_get(const struct state *v, const char *key); /* NULL: none */

/* The members of an object in the order they were read. */
void *state_iter(const struct state *object); /* NULL: no member */
void *state_iter_next(const struct state *object, void *it);
const char *state_iter_key(void *it);
struct state *state_iter_value(void *it);

#define state_array_foreach(array, index, value)                                              \
	for ((index) = 0;                                                                       \
	     (index) < state_array_size(array) && ((value) = state_array_get(array, index), 1); \
	     (index)++)
#define state_object_foreach(object, it, key, value)                                  \
	for ((it) = state_iter(object);                                                 \
	     (it) && ((key) = state_iter_key(it), (value) = state_iter_value(it), 1); \
	     (it) = state_iter_next(object, it))

#endif
