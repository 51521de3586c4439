/*
 * state.c — the checkpoint's JSON values (core/state.h): jansson behind
 * names of our own, so that the files that save and load state neither
 * include jansson.h nor hand jansson's types through their headers.  A
 * struct state is a json_t; nothing else is added, so the text of a
 * checkpoint and the errors about a bad one are jansson's, unchanged.
 */
#include "config.h"

#include "core/state.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Static_assert(_Generic((json_int_t)0, long long: 1, default: 0),
               "state_int must be jansson's json_int_t");

#define J(v) ((json_t *)(v))
#define S(v) ((struct state *)(v))

static void error_from(struct state_error *e, const json_error_t *jerr)
{
	snprintf(e->text, sizeof e->text, "%s", jerr->text);
}

struct state *state_pack(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *v = json_vpack_ex(NULL, 0, fmt, ap);
	va_end(ap);
	return S(v);
}

struct state *state_object(void) { return S(json_object()); }
struct state *state_array(void) { return S(json_array()); }
struct state *state_null(void) { return S(json_null()); }
struct state *state_integer(state_int v) { return S(json_integer(v)); }
struct state *state_real(double v) { return S(json_real(v)); }

void state_set(struct state *object, const char *key, struct state *v)
{
	json_object_set_new(J(object), key, J(v));
}

void state_append(struct state *array, struct state *v)
{
	json_array_append_new(J(array), J(v));
}

void state_free(struct state *v) { json_decref(J(v)); }

char *state_dump(const struct state *v)
{
	return json_dumps(J(v), JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
}

struct state *state_parse(const char *text, size_t len, struct state_error *e)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, 0, &jerr);
	error_from(e, &jerr);
	return S(v);
}

int state_unpack(const struct state *v, struct state_error *e, const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	va_start(ap, fmt);
	int rc = json_vunpack_ex(J(v), &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	error_from(e, &jerr);
	return rc;
}

bool state_is_null(const struct state *v) { return json_is_null(J(v)); }
bool state_is_integer(const struct state *v) { return json_is_integer(J(v)); }
bool state_is_number(const struct state *v) { return json_is_number(J(v)); }
bool state_is_string(const struct state *v) { return json_is_string(J(v)); }
bool state_is_array(const struct state *v) { return json_is_array(J(v)); }
bool state_is_object(const struct state *v) { return json_is_object(J(v)); }
state_int state_integer_value(const struct state *v) { return json_integer_value(J(v)); }
double state_number_value(const struct state *v) { return json_number_value(J(v)); }
const char *state_string_value(const struct state *v) { return json_string_value(J(v)); }
size_t state_string_length(const struct state *v) { return json_string_length(J(v)); }
size_t state_array_size(const struct state *v) { return json_array_size(J(v)); }
struct state *state_array_get(const struct state *v, size_t i) { return S(json_array_get(J(v), i)); }
struct state *state_object_get(const struct state *v, const char *key)
{
	return S(json_object_get(J(v), key));
}

void *state_iter(const struct state *object) { return json_object_iter(J(object)); }
void *state_iter_next(const struct state *object, void *it)
{
	return json_object_iter_next(J(object), it);
}
const char *state_iter_key(void *it) { return json_object_iter_key(it); }
struct state *state_iter_value(void *it) { return S(json_object_iter_value(it)); }
