// bench/peers/grammy.js - the benchmark's two flows written for grammY, as
// its users write a bot: plain sessions (in PostgreSQL through
// @grammyjs/storage-psql, or in memory), webhook reply on (the first Bot
// API call of an update goes back as the webhook's answer, the rest to the
// Bot API). Two bots in one process, as blueflow serves both of the
// benchmark's: /tg/two (bench/flows/two_state.json: every text answered
// with the next of two questions) and /tg/onb (flows/onboarding.json up to
// the voice upload). Settings: bench/peers/common.js.
'use strict';

const { Bot, session, webhookCallback } = require('grammy');
const { PsqlAdapter } = require('@grammyjs/storage-psql');
const common = require('./common');
const { text, roleKeyboard, buddyKeyboard, check, routeNote } = require('./onboarding');

const cfg = common.settings();
const pool = cfg.store === 'pg' ? common.pgPool(cfg) : null;

function newBot(name) {
	const bot = new Bot(cfg.token, {
		botInfo: common.botInfo(cfg.token),
		client: { apiRoot: cfg.api, canUseWebhookReply: () => true },
	});
	bot.catch((e) => common.logError(name, e.error));
	return bot;
}

async function sessions(table) {
	if (pool === null)
		return session({ initial: () => ({}) });
	const storage = await PsqlAdapter.create({ tableName: table, client: pool });
	return session({ initial: () => ({}), storage });
}

async function twoState() {
	const bot = newBot('two');
	bot.use(await sessions('grammy_two'));
	bot.on('message:text', (ctx) => ctx.reply(common.twoStateStep(ctx.session, ctx.message.text)));
	return bot;
}

const html = { parse_mode: 'HTML' };

async function onboarding() {
	const bot = newBot('onb');
	bot.use(await sessions('grammy_onb'));

	bot.command('start', async (ctx) => {
		ctx.session = { at: 'role' };
		await ctx.reply(text.welcome(ctx.from), html);
		await ctx.reply(text.about, html);
		await ctx.reply(text.role, { reply_markup: roleKeyboard() });
	});

	bot.on('callback_query:data', async (ctx) => {
		const s = ctx.session;
		const data = ctx.callbackQuery.data;
		await ctx.answerCallbackQuery();
		if (s.at !== 'role' || check.role(data)) {
			if (s.at === 'role')
				await ctx.reply(text.pressButton);
			return;
		}
		// the buttons go once pressed; an old message may be gone
		await ctx.editMessageReplyMarkup({ reply_markup: undefined }).catch(() => {});
		s.role = data.slice(5);
		if (s.role === 'data')
			await ctx.reply(text.dataNote, html);
		s.at = 'full_name';
		await ctx.reply(text.fullName, html);
	});

	bot.on('message:text', async (ctx) => {
		const s = ctx.session;
		const t = ctx.message.text;
		let bad;
		switch (s.at) {
		case 'role':
			await ctx.reply(text.pressButton);
			return;
		case 'full_name':
			if ((bad = check.fullName(t)))
				return void await ctx.reply(bad);
			s.full_name = t;
			s.at = 'work_email';
			await ctx.reply(text.workEmail(t), html);
			return;
		case 'work_email':
			if ((bad = check.email(t)))
				return void await ctx.reply(bad);
			s.email = t;
			s.at = 'years';
			await ctx.reply(text.years, html);
			return;
		case 'years': {
			if ((bad = check.years(t)))
				return void await ctx.reply(bad);
			s.years_experience = Number(t);
			const note = routeNote(s.role, t, s.email);
			if (note)
				await ctx.reply(note, html);
			s.at = 'bio';
			await ctx.reply(text.bio, html);
			return;
		}
		case 'bio':
			if ((bad = check.bio(t)))
				return void await ctx.reply(bad);
			s.bio = t;
			s.at = 'buddy';
			await ctx.reply(text.buddy, { reply_markup: buddyKeyboard() });
			return;
		case 'buddy':
			if ((bad = check.buddy(t)))
				return void await ctx.reply(bad);
			s.buddy = t;
			s.at = 'voice_intro';
			await ctx.reply(text.voice, html);
			return;
		case 'voice_intro':
			await ctx.reply(text.notVoice);
			return;
		default:
			break;   // not started: nothing to say, as the flow
		}
	});
	return bot;
}

async function main() {
	const opts = { secretToken: cfg.secret, timeoutMilliseconds: 30000 };
	const two = await twoState();
	const onb = await onboarding();
	common.serve(cfg, {
		'/tg/two': webhookCallback(two, 'http', opts),
		'/tg/onb': webhookCallback(onb, 'http', opts),
	});
}

main().catch((e) => {
	common.logError('start', e);
	process.exit(1);
});
