# bench-detect-lib.sh — sourced by tests/bench-detect.sh and
# tests/bench-detect-seeds.sh: the one definition of what a moment "fell
# on", so that the two benchmarks cannot come to match moments differently.
#
# A moment [timestamp, metadata.window_end) (60 s when it has no end) is a
# true moment when it overlaps a label's [start - 30 s, end + 30 s] (tune's
# default tolerance, as tune matches them); otherwise the kind of the first
# decoy it overlaps so, or "ordinary_traffic".

# bd_to_sql TABLE FILE: gen's label lines as INSERTs (plain stream ids)
bd_to_sql() {
	awk -F'"' -v t="$1" -v q="'" '{ printf "INSERT INTO %s VALUES (%s%s%s, %s%s%s, %s%s%s, %s%s%s);\n", t, q, $4, q, q, $8, q, q, $12, q, q, $16, q }' "$2"
}

# bd_falls DB LABELS DECOYS: print "WHAT COUNT" lines, most first, for the
# moments of the replay database DB (which gets tables l and d).
bd_falls() {
	{
		echo "DROP TABLE IF EXISTS l; DROP TABLE IF EXISTS d;"
		echo "CREATE TABLE l (stream_id, start, end_, kind); CREATE TABLE d (stream_id, start, end_, kind);"
		bd_to_sql l "$2"
		bd_to_sql d "$3"
	} | sqlite3 -batch "$1" || return 1
	sqlite3 -batch -noheader -separator ' ' "$1" "
		WITH m AS (
			SELECT stream_id, julianday(timestamp) AS a,
				coalesce(julianday(json_extract(metadata, '\$.window_end')),
					julianday(timestamp) + 60.0 / 86400) AS b
			FROM moments),
		c AS (
			SELECT CASE
				WHEN EXISTS (SELECT 1 FROM l WHERE l.stream_id = m.stream_id
					AND m.a <= julianday(l.end_) + 30.0 / 86400 AND m.b > julianday(l.start) - 30.0 / 86400)
				THEN 'true_moments'
				ELSE coalesce((SELECT d.kind FROM d WHERE d.stream_id = m.stream_id
					AND m.a <= julianday(d.end_) + 30.0 / 86400 AND m.b > julianday(d.start) - 30.0 / 86400
					ORDER BY d.start LIMIT 1), 'ordinary_traffic')
				END AS what
			FROM m)
		SELECT what, count(*) FROM c GROUP BY what ORDER BY count(*) DESC, what"
}
