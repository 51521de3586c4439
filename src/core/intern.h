/*
 * intern.h — a reference-counted string interner.
 *
 * Each distinct string (a chatter, an emote) gets a small dense integer id
 * for as long as something refers to it.  Pane aggregates store these 4-byte
 * ids instead of strings, and distinct counting over a window can use arrays
 * indexed by id instead of hash sets.
 *
 * Ids are reference counted by the panes that hold them: when the last pane
 * referring to a string is freed, the string is dropped and its id goes to a
 * free list for reuse.  Memory is therefore bounded by the distinct strings
 * in open panes, not by every string ever seen; ids stay dense (always below
 * interner_id_limit()), so id-indexed side arrays stay small.
 *
 * Layout: entries[] is indexed by id; a separate open-addressing table of
 * (id + 1) values tagged with the low half of the string's hash, with
 * linear probing and backward-shift deletion, maps a string's hash to its
 * id (a probe reads an entry only when the tags match, and a deletion
 * reads none: a slot's tag gives its home).
 */
#ifndef TELEMETRA_INTERN_H
#define TELEMETRA_INTERN_H

#include <stdint.h>

#include "core/common.h"

struct interner;

struct interner *interner_new(void);
void interner_free(struct interner *in);

/* The id of s, adding it (with no references yet) if it is new.  A new
 * entry must be retained before the next interner_release() of any id,
 * or it may be reclaimed. */
uint32_t interner_intern(struct interner *in, const char *s, size_t n);
/* The same, for a caller that has h = hash_bytes(s, n) already. */
uint32_t interner_intern_hashed(struct interner *in, const char *s, size_t n, uint64_t h);
/* A hint that a string of hash h will be interned soon: the table slot
 * its probe starts from is fetched into the cache.  Changes nothing. */
void interner_prefetch(const struct interner *in, uint64_t h);
void interner_retain(struct interner *in, uint32_t id);
/* Drop one reference; at zero the string is freed and its id recycled. */
void interner_release(struct interner *in, uint32_t id);

/* The string of a live id; valid until its last reference is released. */
struct strview interner_str(const struct interner *in, uint32_t id);
uint32_t interner_refs(const struct interner *in, uint32_t id);
/* hash_bytes() of a live id's string, as kept (no hashing). */
uint64_t interner_hash(const struct interner *in, uint32_t id);
/* Every live id is below this bound. */
uint32_t interner_id_limit(const struct interner *in);
/* Live strings. */
uint32_t interner_count(const struct interner *in);

#endif
