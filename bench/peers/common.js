// bench/peers/common.js - what both peers share: their settings from the
// environment, a PostgreSQL pool for the sessions, and the HTTP server that
// nginx proxies to (a unix socket; /tg/two and /tg/onb, as blueflow's two
// bots in the benchmark).
//
// Environment (bench/run sets it):
//   PEER_SOCKET   the unix socket to listen on
//   PEER_STORE    pg (sessions in PostgreSQL) or memory
//   PEER_API      the Bot API's root (the fake's http://127.0.0.1:PORT)
//   PEER_PG_HOST, PEER_PG_PORT, PEER_PG_DB, PEER_PG_USER  (PEER_STORE=pg)
//   BENCH_TOKEN, BENCH_SECRET  the bot's token and the webhook's secret
'use strict';

const fs = require('fs');
const http = require('http');

function settings() {
	const env = process.env;
	const need = ['PEER_SOCKET', 'PEER_STORE', 'PEER_API', 'BENCH_TOKEN', 'BENCH_SECRET'];
	if (env.PEER_STORE === 'pg')
		need.push('PEER_PG_HOST', 'PEER_PG_PORT', 'PEER_PG_DB', 'PEER_PG_USER');
	for (const k of need)
		if (!env[k]) {
			console.error(`peer: ${k} is not set`);
			process.exit(2);
		}
	if (env.PEER_STORE !== 'pg' && env.PEER_STORE !== 'memory') {
		console.error('peer: PEER_STORE is pg or memory');
		process.exit(2);
	}
	return {
		socket: env.PEER_SOCKET, store: env.PEER_STORE, api: env.PEER_API,
		token: env.BENCH_TOKEN, secret: env.BENCH_SECRET,
		pg: { host: env.PEER_PG_HOST, port: Number(env.PEER_PG_PORT),
			database: env.PEER_PG_DB, user: env.PEER_PG_USER },
	};
}

function pgPool(cfg) {
	const { Pool } = require('pg');
	return new Pool(cfg.pg);
}

// The bot's identity, so that neither framework asks getMe first.
const botInfo = (token) => ({
	id: Number(token.split(':')[0]), is_bot: true, first_name: 'Bench',
	username: 'bench_bot', can_join_groups: true,
	can_read_all_group_messages: false, supports_inline_queries: false,
});

// serve(cfg, routes): listens on cfg.socket; routes maps a path to a
// (req, res) handler; says "ready" on stdout once it listens.
function serve(cfg, routes) {
	const server = http.createServer((req, res) => {
		const h = req.method === 'POST' ? routes[req.url] : undefined;
		if (h === undefined) {
			res.statusCode = 404;
			res.end();
			return;
		}
		h(req, res);
	});
	server.keepAliveTimeout = 65000;
	try { fs.unlinkSync(cfg.socket); } catch (e) { /* none yet */ }
	server.listen(cfg.socket, () => console.log(`ready ${cfg.socket}`));
	const stop = () => server.close(() => process.exit(0));
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	return server;
}

// The two-state flow's step (bench/flows/two_state.json) on session s: keeps
// the answer (but the first update's, which starts the flow) and returns
// the next question, a? and b? in turn.
function twoStateStep(s, answer) {
	if (s.at !== undefined)
		s.v = answer;
	s.at = s.at === 'a' ? 'b' : 'a';
	return `${s.at}?`;
}

// Errors a handler let through, counted (bench/run reads "error" lines).
function logError(what, err) {
	console.error(`error ${what}: ${err && err.message ? err.message : err}`);
}

module.exports = { settings, pgPool, botInfo, serve, twoStateStep, logError };
