/*
 * fuzz_capture.c — the capture line parser (core/capture.c): classify a
 * scanned line as event, envelope or control record, and parse the latter
 * two, on arbitrary bytes.
 *
 * Invariant: what parses, written back by capture_write_*() (as the live
 * daemon writes its capture), parses again to the same fields — so a
 * replay of a capture sees what the daemon saw.  Checked for topics that
 * are valid UTF-8 without NUL, the topics the daemon can be given (the
 * validation of other topics is issue 9, item 7).
 */
#include "config.h"

#include <string.h>

#include "core/capture.h"
#include "core/utf8.h"
#include "fuzz.h"

static bool plain_topic(struct strview t)
{
	return utf8_valid(t.ptr, t.len) && (!t.len || !memchr(t.ptr, '\0', t.len));
}

static bool same(struct strview a, struct strview b)
{
	return a.len == b.len && (!a.len || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Scan and classify text[0..len); the kind, or -1 if it is no JSON object. */
static int scan(struct jscan *js, const char *text, size_t len)
{
	struct error err;
	if (jscan_object(js, text, len, &err) != JSCAN_OK)
		return -1;
	return (int)capture_classify(js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1);
	memcpy(line, data, size);
	struct jscan js = {0}, js2 = {0};
	struct buf scratch = BUF_INIT, scratch2 = BUF_INIT, again = BUF_INIT;
	struct error err;
	int kind = scan(&js, line, size);

	buf_reserve(&scratch, size + 16); /* as engine_line: strings must not move */
	if (kind == CAPTURE_CONTROL) {
		struct capture_control c = {0}, d = {0};
		if (capture_parse_control(&js, &scratch, &c, &err) &&
		    (c.kind == CONTROL_ADVANCE || plain_topic(c.topic))) {
			if (c.kind == CONTROL_ADVANCE)
				capture_write_advance(&again, c.watermark_us);
			else
				capture_write_lane(&again, c.kind, c.topic, c.partition);
			FUZZ_CHECK(scan(&js2, again.data, again.len - 1) == CAPTURE_CONTROL, "%s", again.data);
			buf_reserve(&scratch2, again.len + 16);
			FUZZ_CHECK(capture_parse_control(&js2, &scratch2, &d, &err), "%s: %s", again.data,
			           err.msg);
			FUZZ_CHECK(c.kind == d.kind, "%s", again.data);
			if (c.kind == CONTROL_ADVANCE)
				FUZZ_CHECK(c.watermark_us == d.watermark_us, "%s: %lld", again.data,
				           (long long)c.watermark_us);
			else
				FUZZ_CHECK(same(c.topic, d.topic) && c.partition == d.partition, "%s", again.data);
		}
	} else if (kind == CAPTURE_ENVELOPE) {
		struct capture_envelope e = {0}, f = {0};
		if (capture_parse_envelope(&js, &scratch, &e, &err) && plain_topic(e.topic)) {
			capture_write_envelope(&again, e.topic, e.partition, e.offset, 0, NULL, 0, e.value.ptr,
			                       e.value.len);
			FUZZ_CHECK(scan(&js2, again.data, again.len - 1) == CAPTURE_ENVELOPE, "%s", again.data);
			buf_reserve(&scratch2, again.len + 16);
			FUZZ_CHECK(capture_parse_envelope(&js2, &scratch2, &f, &err), "%s: %s", again.data,
			           err.msg);
			FUZZ_CHECK(same(e.topic, f.topic) && e.partition == f.partition &&
			               e.offset == f.offset,
			           "%s", again.data);
			FUZZ_CHECK((e.value.ptr == NULL) == (f.value.ptr == NULL) && same(e.value, f.value),
			           "%s", again.data);
		}
	}
	jscan_free(&js);
	jscan_free(&js2);
	buf_free(&scratch);
	buf_free(&scratch2);
	buf_free(&again);
	free(line);
	return 0;
}
