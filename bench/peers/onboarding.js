// bench/peers/onboarding.js - what flows/onboarding.json says (in English),
// for the peers: the texts, keyboards and checks of each question up to the
// voice upload, which is as far as the benchmark's walk goes. Each peer
// wires these into its own framework's way of keeping a conversation.
'use strict';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const words = (s) => s.trim().split(/\s+/).filter(Boolean).length;

const ROLES = { eng: '🛠 Engineering', design: '🎨 Design', pm: '🧭 Product', data: '📊 Data' };

const text = {
	welcome: (user) => `Hi ${esc(user.first_name)}, welcome to the <b>Atlas</b> product team! 👋`,
	about: 'This chat takes about five minutes. It sets up your profile, introduces you to your buddy and gets your laptop ordered. Write /help at any time.',
	role: 'Which part of the team are you joining?',
	pressButton: 'Please pick one of the buttons above.',
	dataNote: "Great, the data guild meets every Thursday at 11:00 in the Orbit room. We'll add you to the invite.",
	fullName: 'What is your full name, as it should appear in the team directory?',
	tooFewWords: 'Please write both your first and last name.',
	nameNoMatch: 'Only letters, spaces, hyphens and apostrophes, please.',
	workEmail: (name) => `Thanks, ${esc(name)}! What is your work e-mail? It ends in <code>@atlas.example</code>.`,
	emailNoMatch: "That doesn't look like an @atlas.example address. Please check it and try again.",
	years: 'How many years have you worked in your field? Just a number, e.g. 4.',
	yearsNoMatch: 'A whole number of years, please (0 is fine!).',
	engSetup: (email) => `Engineers: your GitHub invite and on-call handbook are on the way to ${esc(email)}.`,
	productSetup: (email) => `Design and Product: you'll get access to Figma and the roadmap board at ${esc(email)} today.`,
	juniorNote: "Since you're early in your career, we've also signed you up for the Atlas mentoring circle. 🌱",
	bio: 'Tell the team a little about yourself: what you worked on before and what you enjoy outside work. Bold, italics and links are welcome.',
	bioShort: 'A few more words, please: at least 15.',
	bioLong: "That's a great story, but please keep it under 1500 characters.",
	buddy: 'Who is your onboarding buddy? Send their @username or pick them with the button below.',
	badUsername: "That isn't a Telegram username. It looks like @name, 5 to 32 letters, digits or underscores.",
	voice: '🎤 Record a short voice hello for the team channel (up to a minute).',
	notVoice: 'Please send a voice message: hold the microphone button.',
};

// The role question's buttons, two a row.
const roleKeyboard = () => {
	const rows = [];
	const keys = Object.keys(ROLES);
	for (let i = 0; i < keys.length; i += 2)
		rows.push(keys.slice(i, i + 2).map((k) => ({ text: ROLES[k], callback_data: `role|${k}` })));
	return { inline_keyboard: rows };
};

// The buddy question's reply keyboard: a button that picks a user.
const buddyKeyboard = () => ({
	keyboard: [[{ text: 'Choose my buddy', request_users: { request_id: 1, user_is_bot: false, max_quantity: 1 } }]],
	resize_keyboard: true,
	one_time_keyboard: true,
});

// Each check returns null when the answer is right, else the message to send.
const check = {
	role: (data) => (data && data.startsWith('role|') && ROLES[data.slice(5)] ? null : text.pressButton),
	fullName: (s) => (s.length > 80 || !/^[\p{L}][\p{L}' .-]*$/u.test(s) ? text.nameNoMatch
		: words(s) < 2 ? text.tooFewWords : null),
	email: (s) => (s.length <= 254 && /^[a-z0-9._%+-]+@atlas\.example$/.test(s) ? null : text.emailNoMatch),
	years: (s) => (/^[0-9]{1,2}$/.test(s) ? null : text.yearsNoMatch),
	bio: (s) => (s.length > 1500 ? text.bioLong : words(s) < 15 ? text.bioShort : null),
	buddy: (s) => (/^@?[A-Za-z][A-Za-z0-9_]{4,31}$/.test(s) ? null : text.badUsername),
};

// The route branch after the years: the note to send before the bio
// question, or null.
const routeNote = (role, years, email) => (role === 'eng' ? text.engSetup(email)
	: role === 'design' || role === 'pm' ? text.productSetup(email)
	: Number(years) < 2 ? text.juniorNote : null);

module.exports = { text, roleKeyboard, buddyKeyboard, check, routeNote };
