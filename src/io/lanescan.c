/*
 * lanescan.c — a first pass over event files for the lanes they name (see
 * lanescan.h).  Each line is decoded as replay will decode it, except the
 * envelope payloads, so that only lines replay takes as envelopes and
 * lane control records name lanes: a bad envelope opens nothing.
 */
#include "config.h"

#include "io/lanescan.h"

#include <string.h>
#include <sys/stat.h>

#include "io/input.h"

bool lanescan_rescannable(const char *path)
{
	struct stat st;
	return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool lanescan_files(const char *const *paths, size_t n, const char *chat_topic,
                    const char *viewer_topic, struct lane_set *set, struct error *err)
{
	struct record_decoder dec = {.chat_topic = chat_topic, .viewer_topic = viewer_topic};
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		if (!lanescan_rescannable(paths[i]))
			continue;
		struct input *in = input_open(paths[i], err);
		if (!in) {
			ok = false;
			break;
		}
		struct input_line line;
		int got;
		while ((got = input_next(in, &line, err)) > 0) {
			/* A line that names a lane has a "topic" member, spelled
			 * out or with \u escapes (the only escapes that make
			 * letters); most bare events have neither, and skip the
			 * decoding. */
			if (line.overlong || (!memmem(line.data, line.len, "topic", 5) &&
			                      !memmem(line.data, line.len, "\\u", 2)))
				continue;
			struct decoded_line r;
			record_decode(&dec, line.data, line.len, false, &r);
			lane_set_note(set, &r);
		}
		/* Damage ends the scan of this file: the lanes before it count,
		 * and the real pass records the damage as a dead letter. */
		ok = got == 0 || got == INPUT_DAMAGED;
		input_close(in);
	}
	record_decoder_free(&dec);
	return ok;
}
