// bench/peers/telegraf.js - the benchmark's two flows written for Telegraf,
// as its users write a bot: the onboarding as a WizardScene, the sessions
// in PostgreSQL through @telegraf/session/pg (or in memory), webhook reply
// on (Telegraf's default; it answers inline only the methods it allows
// there, answerCallbackQuery among them but not sendMessage, so a text's
// answer goes to the Bot API). Two bots in one process, as blueflow serves
// both of the benchmark's: /tg/two (bench/flows/two_state.json) and
// /tg/onb (flows/onboarding.json up to the voice upload). Settings:
// bench/peers/common.js.
'use strict';

const http = require('http');
const { Telegraf, Scenes, session } = require('telegraf');
const { message, callbackQuery } = require('telegraf/filters');
const common = require('./common');
const { text, roleKeyboard, buddyKeyboard, check, routeNote } = require('./onboarding');

const cfg = common.settings();
const pool = cfg.store === 'pg' ? common.pgPool(cfg) : null;
const agent = new http.Agent({ keepAlive: true });

function newBot(name) {
	const bot = new Telegraf(cfg.token, {
		telegram: { apiRoot: cfg.api, agent, webhookReply: true },
	});
	bot.botInfo = common.botInfo(cfg.token);
	bot.catch((e) => common.logError(name, e));
	return bot;
}

function sessions(table) {
	if (pool === null)
		return session({ defaultSession: () => ({}) });
	const { Postgres } = require('@telegraf/session/pg');
	return session({ store: Postgres({ pool, table }), defaultSession: () => ({}) });
}

function twoState() {
	const bot = newBot('two');
	bot.use(sessions('telegraf_two'));
	bot.on(message('text'), (ctx) => ctx.reply(common.twoStateStep(ctx.session, ctx.message.text)));
	return bot;
}

const html = { parse_mode: 'HTML' };

// A step that takes a text checked by CHECK, keeps it with KEEP, then asks
// the next question with ASK.
const textStep = (chk, keep, ask) => async (ctx) => {
	if (!ctx.message || typeof ctx.message.text !== 'string')
		return;
	const t = ctx.message.text;
	const bad = chk(t);
	if (bad)
		return void await ctx.reply(bad);
	keep(ctx.wizard.state, t);
	await ask(ctx, t);
	return ctx.wizard.next();
};

function onboardingScene() {
	return new Scenes.WizardScene('onboarding',
		async (ctx) => {
			await ctx.reply(text.welcome(ctx.from), html);
			await ctx.reply(text.about, html);
			await ctx.reply(text.role, { reply_markup: roleKeyboard() });
			return ctx.wizard.next();
		},
		async (ctx) => {
			if (!ctx.has(callbackQuery('data'))) {
				if (ctx.message)
					await ctx.reply(text.pressButton);
				return;
			}
			const data = ctx.callbackQuery.data;
			await ctx.answerCbQuery();
			if (check.role(data))
				return void await ctx.reply(text.pressButton);
			// the buttons go once pressed; an old message may be gone
			await ctx.editMessageReplyMarkup(undefined).catch(() => {});
			ctx.wizard.state.role = data.slice(5);
			if (ctx.wizard.state.role === 'data')
				await ctx.reply(text.dataNote, html);
			await ctx.reply(text.fullName, html);
			return ctx.wizard.next();
		},
		textStep(check.fullName, (st, t) => { st.full_name = t; },
			(ctx, t) => ctx.reply(text.workEmail(t), html)),
		textStep(check.email, (st, t) => { st.email = t; },
			(ctx) => ctx.reply(text.years, html)),
		textStep(check.years, (st, t) => { st.years_experience = Number(t); },
			async (ctx, t) => {
				const st = ctx.wizard.state;
				const note = routeNote(st.role, t, st.email);
				if (note)
					await ctx.reply(note, html);
				await ctx.reply(text.bio, html);
			}),
		textStep(check.bio, (st, t) => { st.bio = t; },
			(ctx) => ctx.reply(text.buddy, { reply_markup: buddyKeyboard() })),
		textStep(check.buddy, (st, t) => { st.buddy = t; },
			(ctx) => ctx.reply(text.voice, html)),
		async (ctx) => {
			if (ctx.message)
				await ctx.reply(text.notVoice);
		});
}

function onboarding() {
	const bot = newBot('onb');
	const stage = new Scenes.Stage([onboardingScene()]);
	// before the scene's own steps: /start begins again from any step
	stage.command('start', (ctx) => ctx.scene.enter('onboarding'));
	bot.use(sessions('telegraf_onb'));
	bot.use(stage.middleware());
	return bot;
}

const opts = { secretToken: cfg.secret };
common.serve(cfg, {
	'/tg/two': twoState().webhookCallback('/tg/two', opts),
	'/tg/onb': onboarding().webhookCallback('/tg/onb', opts),
});
