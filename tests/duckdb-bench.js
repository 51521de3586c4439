// duckdb-bench.js — what an analyst would run instead of telemetra replay:
// DuckDB computing the same sliding-window aggregates over the same JSON
// Lines file, timed, for tests/bench.sh to print beside replay's figures.
//
//   node tests/duckdb-bench.js FILE [WINDOW_S SLIDE_S]
//
// Per stream and window [start, start + W) sliding by S: chat_count,
// unique_chatters (user_id, else username), chat_rate and avg_viewers; then
// the number of window rows.  Not computed: lexicon sentiment, top emotes,
// watermarks (every event counts, late or not) and moments, so DuckDB does
// less work than replay here.  Malformed lines are skipped
// (ignore_errors).  Needs the npm package @duckdb/node-api (found through
// NODE_PATH or a node_modules above the working directory); exits 3
// without it, which the bench reports as skipped.  Not a test dependency.
'use strict';

let duckdb;
try {
	duckdb = require('@duckdb/node-api');
} catch (e) {
	console.error('duckdb-bench: no @duckdb/node-api (npm install @duckdb/node-api)');
	process.exit(3);
}

async function main() {
	const [file, w = '60', s = '10'] = process.argv.slice(2);
	if (!file) {
		console.error('usage: node duckdb-bench.js FILE [WINDOW_S SLIDE_S]');
		process.exit(2);
	}
	const W = Number(w) * 1e6, S = Number(s) * 1e6;
	const start = process.hrtime.bigint();
	const instance = await duckdb.DuckDBInstance.create(':memory:');
	const con = await instance.connect();
	const path = file.replace(/'/g, "''");
	// Each event falls into W / S windows: k from floor(t / S) - W / S + 1
	// to floor(t / S), window start k * S.
	const sql = `
		WITH ev AS (
			SELECT stream_id, type,
			       epoch_us(TRY_CAST(timestamp AS TIMESTAMPTZ)) AS t,
			       coalesce(CAST(user_id AS VARCHAR), 'n:' || username) AS chatter,
			       viewer_count
			FROM read_json('${path}', format = 'newline_delimited', ignore_errors = true,
			               columns = {stream_id: 'VARCHAR', type: 'VARCHAR', timestamp: 'VARCHAR',
			                          user_id: 'VARCHAR', username: 'VARCHAR', viewer_count: 'BIGINT'})
			WHERE stream_id IS NOT NULL
		), win AS (
			SELECT ev.*, (floor(t / ${S}) - j) * ${S} AS wstart
			FROM ev, range(0, ${W / S}) AS r(j)
			WHERE t IS NOT NULL
		)
		SELECT stream_id, wstart,
		       count(*) FILTER (WHERE type = 'chat') AS chat_count,
		       count(DISTINCT chatter) FILTER (WHERE type = 'chat') AS unique_chatters,
		       count(*) FILTER (WHERE type = 'chat') / ${W / 1e6} AS chat_rate,
		       avg(viewer_count) FILTER (WHERE type = 'viewer') AS avg_viewers
		FROM win GROUP BY stream_id, wstart`;
	const reader = await con.runAndReadAll(`SELECT count(*) AS n FROM (${sql})`);
	const rows = reader.getRows()[0][0];
	const secs = Number(process.hrtime.bigint() - start) / 1e9;
	console.log(`duckdb ${secs.toFixed(3)} s ${rows} rows`);
}

main().catch((e) => {
	console.error('duckdb-bench: ' + e.message);
	process.exit(1);
});
