/*
 * fingerprint.h — which options a live daemon's saved state depends on.
 *
 * A checkpoint holds open panes, lane watermarks and detector histories
 * computed under one configuration.  Resuming it under another window,
 * slide, delay or lexicon would silently turn every event late or mix two
 * windowings, so each saved group carries a fingerprint of those options
 * (engine_save_group stores it, core_config.state_fingerprint), and a
 * restart compares it with its own before loading the state.
 *
 * The options are named in ONE list (fingerprint.c): each either makes the
 * state incompatible when it changes, or is safe to change (applied from
 * the next window on, and logged).
 */
#ifndef TELEMETRA_FINGERPRINT_H
#define TELEMETRA_FINGERPRINT_H

#include "core/buf.h"
#include "core/common.h"
#include "cli/options.h"

/* The fingerprint of c, as compact JSON text with sorted keys: the listed
 * options' values (lexicons by the SHA-256 of their text).  The caller
 * frees it; NULL with err set if a lexicon file cannot be read. */
char *fingerprint_of(const struct config *c, struct error *err);

enum fingerprint_verdict {
	FINGERPRINT_SAME,         /* nothing listed changed */
	FINGERPRINT_UNKNOWN,      /* saved is NULL or unreadable: state from before fingerprints */
	FINGERPRINT_SAFE_CHANGES, /* only options safe to change changed: see *safe */
	FINGERPRINT_INCOMPATIBLE, /* see *incompatible (and *safe) */
};

/* Compare the saved fingerprint (NULL if the state has none) with the
 * current one.  Each change is appended to *incompatible or *safe as
 * "--NAME SAVED -> NOW", separated by "; ". */
enum fingerprint_verdict fingerprint_compare(const char *saved, const char *current,
                                             struct buf *incompatible, struct buf *safe);

#endif
