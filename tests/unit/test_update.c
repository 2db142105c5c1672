/* test_update.c - unit tests of the Update parser: every real payload in
 * shared/telegram-updates, the values read from the telling ones, odd
 * optional fields, and broken bodies that must fail with words. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/html.h"
#include "engine/jdoc.h"
#include "engine/update.h"
#include "tests/unit/unit.h"

#define ERR_MAX 512
#define CORPUS_MIN 71   /* files in shared/telegram-updates today */

/* The folder of real payloads: $SHARED_UPDATES, else
 * $SRCDIR/../shared/telegram-updates. */
static void corpus_dir(char *out, size_t n)
{
	const char *d = getenv("SHARED_UPDATES");
	const char *src = getenv("SRCDIR");
	if (d != NULL && *d != '\0') {
		snprintf(out, n, "%s", d);
		return;
	}
	if (src == NULL || *src == '\0')
		src = ".";
	snprintf(out, n, "%s/../shared/telegram-updates", src);
}

/* Reads one payload of the corpus into b (initialised here). */
static void corpus_read(const char *name, struct buf *b)
{
	char dir[PATH_MAX], file[PATH_MAX + 256], err[ERR_MAX];
	int rc;
	corpus_dir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	buf_init(b, UPDATE_BODY_MAX);
	rc = jdoc_read_file(file, UPDATE_BODY_MAX, b, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s (set SHARED_UPDATES or SRCDIR)", file, err);
}

/* Parses one payload of the corpus into u, which must succeed. */
static void corpus_parse(const char *name, struct update *u)
{
	struct buf b;
	char err[ERR_MAX];
	int rc;
	corpus_read(name, &b);
	rc = update_parse(b.p, b.len, u, err, sizeof(err));
	buf_free(&b);   /* u points into its own tree, not into b */
	ck_assert_msg(rc == 0, "%s: %s", name, err);
}

/* Parses a JSON text that must succeed. */
static void parse_ok(const char *json, struct update *u)
{
	char err[ERR_MAX];
	int rc = update_parse(json, strlen(json), u, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", json, err);
}

/* Parses len bytes that must fail with an error containing needle. */
static void parse_bad_n(const char *body, size_t len, const char *needle)
{
	struct update u;
	char err[ERR_MAX];
	int rc;
	memset(&u, 0xA5, sizeof(u));
	json_object *o = NULL;
	char jerr[256], jpath[256];
	int object;
	rc = update_parse(body, len, &u, err, sizeof(err));
	if (rc == 0)
		update_free(&u);
	ck_assert_msg(rc < 0, "accepted: %.200s", body ? body : "(null)");
	/* an object that is no Update is told apart from a body that is no object */
	object = body && len <= UPDATE_BODY_MAX && jdoc_parse(body, len, UPDATE_DEPTH_MAX,
		&o, jerr, sizeof(jerr), jpath, sizeof(jpath)) == 0 &&
		json_object_is_type(o, json_type_object);
	json_object_put(o);
	ck_assert_msg(rc == (object ? UPDATE_INVALID : UPDATE_NOT_OBJECT),
		"result %d for %.200s", rc, body ? body : "(null)");
	ck_assert_msg(strstr(err, needle) != NULL,
		"error \"%s\" does not say \"%s\"", err, needle);
	ck_assert_ptr_null(u.root);
	ck_assert_ptr_null(u.kind_name);
}

#define BAD(json, needle) parse_bad_n((json), strlen(json), (needle))

static size_t arr_len(json_object *a)
{
	ck_assert_msg(json_object_is_type(a, json_type_array), "not an array");
	return json_object_array_length(a);
}

/* --- the whole corpus ---------------------------------------------------- */

START_TEST(corpus_all_parse)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int n = 0;

	corpus_dir(dir, sizeof(dir));
	d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open the payload folder %s: %s "
		"(set SHARED_UPDATES, or SRCDIR to the source tree)", dir,
		strerror(errno));
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		size_t len = strlen(e->d_name);
		struct update u;
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		corpus_parse(e->d_name, &u);
		ck_assert_ptr_nonnull(u.root);
		ck_assert_ptr_nonnull(u.kind_name);
		if (u.kind != UPDATE_OTHER)
			ck_assert_msg(u.has_chat || u.kind == UPDATE_CALLBACK_QUERY,
				"%s: a message without a chat", e->d_name);
		if (u.kind == UPDATE_CALLBACK_QUERY)
			ck_assert_ptr_nonnull(u.callback_id);
		update_free(&u);
		ck_assert_ptr_null(u.root);
		n++;
	}
	closedir(d);
	ck_assert_msg(n >= CORPUS_MIN, "only %d payloads in %s, expected %d",
		n, dir, CORPUS_MIN);
}
END_TEST

/* Every prefix of a real payload, each in its own heap block so ASan
 * sees reads past it: -1 with a message, or 0. The block keeps one NUL
 * after the prefix, as a struct buf does: jdoc_parse reads text[len]
 * (strspn past a complete document), see update.h. */
static void prefixes(const char *name)
{
	struct buf b;
	char err[ERR_MAX];
	size_t ok = 0;

	corpus_read(name, &b);
	for (size_t i = 0; i <= b.len; i++) {
		char *p = malloc(i + 1);
		struct update u;
		int rc;
		ck_assert_ptr_nonnull(p);
		memcpy(p, b.p, i);
		p[i] = '\0';
		err[0] = '\0';
		rc = update_parse(p, i, &u, err, sizeof(err));
		ck_assert_msg(rc == 0 || rc == -1, "%s[0..%zu): rc %d", name, i, rc);
		if (rc == 0) {
			ok++;
			update_free(&u);
		} else {
			ck_assert_msg(err[0] != '\0', "%s[0..%zu): no message", name, i);
		}
		free(p);
	}
	/* only the whole text, and the text without its final newline */
	ck_assert_msg(ok >= 1 && ok <= 2, "%s: %zu prefixes parsed", name, ok);
	buf_free(&b);
}

START_TEST(corpus_prefixes)
{
	prefixes("rubenlagus__update_with_five_kinds_malformed.json");
	prefixes("wrapped_tgbotnet__message_document_supergroup_many_nulls.json");
}
END_TEST

/* --- values read from real payloads ------------------------------------ */

START_TEST(real_private_text)
{
	struct update u;
	corpus_parse("teloxide__message_private_text_link_preview_options.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_MESSAGE);
	ck_assert_str_eq(u.kind_name, "message");
	ck_assert_int_eq(u.update_id, 892252934);
	ck_assert_int_eq(u.has_chat, 1);
	ck_assert_int_eq(u.chat_id, 218485655);
	ck_assert_str_eq(u.chat_type, "private");
	ck_assert_ptr_null(u.chat_title);
	ck_assert_int_eq(u.message_id, 6557);
	ck_assert_int_eq(u.date, 1569518342);
	ck_assert_int_eq(u.from.id, 218485655);
	ck_assert_int_eq(u.from.is_bot, 0);
	ck_assert_str_eq(u.from.username, "WaffleLapkin");
	ck_assert_str_eq(u.from.first_name, "Waffle");
	ck_assert_ptr_null(u.from.last_name);
	ck_assert_str_eq(u.from.language_code, "en");
	ck_assert_str_eq(u.text, "hello there");
	ck_assert_ptr_null(u.entities);
	ck_assert_ptr_null(u.voice.file_id);
	ck_assert_ptr_null(u.document.file_id);
	ck_assert_ptr_null(u.photo.file_id);
	ck_assert_ptr_null(u.callback_id);
	update_free(&u);
}
END_TEST

START_TEST(real_group_command_mention)
{
	struct update u;
	corpus_parse("capture2017__message_group_command_and_mention.json", &u);
	ck_assert_int_eq(u.chat_id, -218487457);
	ck_assert_str_eq(u.chat_type, "group");
	ck_assert_str_eq(u.chat_title, "TestSendCoin");
	ck_assert_int_eq(u.message_id, 452);
	ck_assert_str_eq(u.text, "/test @ForTestCurrencyBot");
	ck_assert_uint_eq(arr_len(u.entities), 2);
	ck_assert_str_eq(u.from.last_name, "Litvinovich");
	ck_assert_ptr_null(u.from.username);
	update_free(&u);
}
END_TEST

/* A group that became a supergroup: the old id and the new, whichever
 * of the two service messages says so; a null one is none. */
START_TEST(real_migrate)
{
	struct update u;
	corpus_parse("capture2017__message_group_migrate_to_chat_id.json", &u);
	ck_assert_int_eq(u.service, 1);
	ck_assert_int_eq(u.migrate_from, -218487457);
	ck_assert_int_eq(u.migrate_to, -1001283156137);
	update_free(&u);
	corpus_parse("wrapped_teloxide__message_supergroup_migrate_from_chat_id_sender_chat.json", &u);
	ck_assert_int_eq(u.migrate_from, -599075523);
	ck_assert_int_eq(u.migrate_to, -1001555296434);
	update_free(&u);
	corpus_parse("wrapped_tgbotnet__message_document_supergroup_many_nulls.json", &u);
	ck_assert_int_eq(u.migrate_from, 0);
	ck_assert_int_eq(u.migrate_to, 0);
	update_free(&u);
}
END_TEST

START_TEST(real_supergroup_command_bot_username)
{
	struct update u;
	corpus_parse("capture2017__message_supergroup_command_bot_username_with_args.json", &u);
	ck_assert_int_eq(u.chat_id, -1001283156137LL);
	ck_assert_str_eq(u.chat_type, "supergroup");
	ck_assert_str_eq(u.text, "/random@rgen_bot 20 30");
	ck_assert_uint_eq(arr_len(u.entities), 1);
	/* \u escapes decoded to UTF-8; "Куртo" ends in a Latin o */
	ck_assert_str_eq(u.from.first_name,
		"\xd0\x94\xd0\xbc\xd0\xb8\xd1\x82\xd1\x80\xd0\xb8\xd0\xb9");
	ck_assert_str_eq(u.from.last_name, "\xd0\x9a\xd1\x83\xd1\x80\xd1\x82" "o");
	update_free(&u);
}
END_TEST

START_TEST(real_big_ids)
{
	struct update u;
	corpus_parse("teloxide__message_supergroup_command_reply_to_story_in_thread.json", &u);
	ck_assert_int_eq(u.update_id, 439432600);   /* update_id last */
	ck_assert_int_eq(u.from.id, 5964236329LL);  /* past 2^32 */
	ck_assert_int_eq(u.chat_id, -1001293752024LL);
	ck_assert_int_eq(u.message_id, 134546);     /* not the reply's */
	ck_assert_str_eq(u.text, "/report");
	update_free(&u);

	corpus_parse("pengrad__message_supergroup_text.json", &u);
	ck_assert_int_eq(u.chat_id, -23123123123123LL);
	update_free(&u);
}
END_TEST

START_TEST(real_callback_with_message)
{
	struct update u;
	corpus_parse("nutgram__callback_query_inline_keyboard.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
	ck_assert_str_eq(u.kind_name, "callback_query");
	ck_assert_int_eq(u.update_id, 2);
	ck_assert_str_eq(u.callback_id, "666728699048485871");
	ck_assert_str_eq(u.callback_data, "thedata");
	ck_assert_ptr_null(u.inline_message_id);
	/* who pressed, not the bot that sent the keyboard */
	ck_assert_int_eq(u.from.id, 222222222);
	ck_assert_str_eq(u.from.language_code, "it");
	ck_assert_int_eq(u.has_chat, 1);
	ck_assert_int_eq(u.chat_id, 222222222);
	ck_assert_str_eq(u.chat_type, "private");
	ck_assert_int_eq(u.message_id, 69587);
	ck_assert_int_eq(u.date, 0);
	ck_assert_ptr_null(u.text);   /* the bot's own text is not input */
	update_free(&u);
}
END_TEST

START_TEST(real_callback_inline_message)
{
	struct update u;
	corpus_parse("tgdocs__callback_query_inline_message_no_message.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
	ck_assert_str_eq(u.callback_id, "4382bfdwdsb323b2d9");
	ck_assert_str_eq(u.callback_data, "Data from button callback");
	ck_assert_str_eq(u.inline_message_id, "1234csdbsk4839");
	ck_assert_int_eq(u.has_chat, 0);
	ck_assert_int_eq(u.chat_id, 0);
	ck_assert_int_eq(u.message_id, 0);
	ck_assert_int_eq(u.from.id, 1111111);
	update_free(&u);
}
END_TEST

START_TEST(real_callback_null_message)
{
	struct update u;
	corpus_parse("nutgram__callback_query_message_null.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
	ck_assert_int_eq(u.has_chat, 0);
	ck_assert_int_eq(u.message_id, 0);
	ck_assert_str_eq(u.callback_data, "thedata");
	ck_assert_int_eq(u.from.id, 222222222);
	update_free(&u);
}
END_TEST

START_TEST(real_callback_inaccessible_message)
{
	struct update u;
	corpus_parse("nutgram__callback_query_inaccessible_message.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
	ck_assert_int_eq(u.has_chat, 1);
	ck_assert_int_eq(u.chat_id, 222222222);
	ck_assert_int_eq(u.message_id, 69587);
	ck_assert_int_eq(u.date, 0);
	ck_assert_str_eq(u.callback_id, "666728699048485871");
	update_free(&u);
}
END_TEST

START_TEST(real_voice)
{
	struct update u;
	corpus_parse("tgdocs__message_voice.json", &u);
	ck_assert_str_eq(u.voice.file_id, "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX");
	ck_assert_ptr_null(u.voice.file_unique_id);   /* old API */
	ck_assert_int_eq(u.voice.duration, 5);
	ck_assert_str_eq(u.voice.mime_type, "audio/ogg");
	ck_assert_int_eq(u.voice.file_size, 23000);
	ck_assert_ptr_null(u.text);
	ck_assert_ptr_null(u.document.file_id);
	update_free(&u);
}
END_TEST

START_TEST(real_audio_video)
{
	struct update u;
	corpus_parse("tgdocs__message_audio.json", &u);
	ck_assert_str_eq(u.audio.mime_type, "audio/mpeg");
	ck_assert_int_eq(u.audio.duration, 243);
	ck_assert_int_eq(u.audio.file_size, 3897500);
	ck_assert_ptr_null(u.voice.file_id);
	update_free(&u);

	corpus_parse("wrapped_teloxide__message_video_empty_file_unique_id.json", &u);
	ck_assert_str_eq(u.video.file_id, "BAADAgADpgQAAgX9qEud6QcgPiOAlhYE");
	ck_assert_str_eq(u.video.file_unique_id, "");   /* kept as sent */
	ck_assert_str_eq(u.video.mime_type, "video/mp4");
	ck_assert_int_eq(u.video.duration, 13);
	ck_assert_int_eq(u.video.file_size, 1381334);
	update_free(&u);
}
END_TEST

START_TEST(real_document_pdf)
{
	struct update u;
	corpus_parse("tgdocs__message_document_pdf.json", &u);
	ck_assert_str_eq(u.document.file_name, "Testfile.pdf");
	ck_assert_str_eq(u.document.mime_type, "application/pdf");
	ck_assert_int_eq(u.document.file_size, 536392);
	ck_assert_int_eq(u.document.duration, 0);
	update_free(&u);
}
END_TEST

START_TEST(real_document_without_mime)
{
	struct update u;
	corpus_parse("wrapped_pytba__message_document_no_mime_type_empty_thumbnail.json", &u);
	ck_assert_int_eq(u.update_id, 900000011);
	ck_assert_str_eq(u.document.file_id, "BQADBQADMwIAAsYifgZ_CEh0u682xwI");
	ck_assert_str_eq(u.document.file_unique_id, "AQAD_QIfa3QAAyA4BgAB");
	ck_assert_ptr_null(u.document.mime_type);
	ck_assert_str_eq(u.document.file_name, "Text File");
	ck_assert_int_eq(u.document.file_size, 446);
	ck_assert_int_eq(u.from.is_bot, 1);
	update_free(&u);
}
END_TEST

START_TEST(real_document_many_nulls)
{
	struct update u;
	corpus_parse("wrapped_tgbotnet__message_document_supergroup_many_nulls.json", &u);
	ck_assert_int_eq(u.chat_id, -9877654320000LL);
	ck_assert_str_eq(u.chat_type, "supergroup");
	/* "text": null, so the caption is the text, with its entities */
	ck_assert_str_eq(u.text, "Test Document Description");
	ck_assert_uint_eq(arr_len(u.entities), 0);
	ck_assert_ptr_null(u.from.last_name);
	ck_assert_ptr_null(u.from.language_code);
	ck_assert_str_eq(u.document.mime_type, "plain/text");
	ck_assert_int_eq(u.document.file_size, 123456);
	ck_assert_ptr_null(u.voice.file_id);
	ck_assert_ptr_null(u.audio.file_id);
	ck_assert_ptr_null(u.photo.file_id);
	ck_assert_int_eq(u.has_sticker, 0);
	ck_assert_int_eq(u.has_location, 0);
	ck_assert_ptr_null(u.contact_phone);
	update_free(&u);
}
END_TEST

START_TEST(real_photo_largest)
{
	struct update u;
	corpus_parse("wrapped_teloxide__message_photo_caption_url_entity.json", &u);
	ck_assert_str_eq(u.photo.file_unique_id, "AQADabwxGxJmgVF-");
	ck_assert_int_eq(u.photo.file_size, 162061);
	ck_assert_ptr_null(u.photo.mime_type);
	ck_assert_str_eq(u.text, "www.example.com");      /* the caption */
	ck_assert_uint_eq(arr_len(u.entities), 1);        /* caption_entities */
	ck_assert_str_eq(u.from.first_name, "Crax | rats addict");
	update_free(&u);
}
END_TEST

START_TEST(real_edited_message)
{
	struct update u;
	corpus_parse("tgdocs__edited_message_private.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_EDITED_MESSAGE);
	ck_assert_str_eq(u.kind_name, "edited_message");
	ck_assert_int_eq(u.update_id, 10000);
	ck_assert_int_eq(u.chat_id, 1111111);
	ck_assert_int_eq(u.message_id, 1365);
	ck_assert_str_eq(u.text, "Edited text");
	update_free(&u);
}
END_TEST

START_TEST(real_business_message)
{
	struct update u;
	corpus_parse("nutgram__business_message.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_MESSAGE);
	ck_assert_str_eq(u.kind_name, "business_message");
	ck_assert_int_eq(u.chat_id, 456);
	ck_assert_str_eq(u.text, "Ciao");
	update_free(&u);
}
END_TEST

START_TEST(real_five_kinds_prefers_message)
{
	struct update u;
	corpus_parse("rubenlagus__update_with_five_kinds_malformed.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_MESSAGE);
	ck_assert_str_eq(u.kind_name, "message");
	ck_assert_int_eq(u.chat_id, 1111111);
	ck_assert_str_eq(u.text, "Bold and italics");
	ck_assert_uint_eq(arr_len(u.entities), 2);
	ck_assert_int_eq(u.voice.duration, 5);
	ck_assert_int_eq(u.audio.duration, 243);
	ck_assert_str_eq(u.document.file_name, "Testfile.pdf");
	ck_assert_ptr_null(u.callback_id);   /* the callback_query is ignored */
	update_free(&u);
}
END_TEST

START_TEST(real_channel_post_other)
{
	struct update u;
	corpus_parse("tgbotrs__channel_post_sender_chat_positive_id.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "channel_post");
	ck_assert_int_eq(u.has_chat, 1);   /* for logs */
	ck_assert_int_eq(u.chat_id, 1);
	ck_assert_str_eq(u.chat_type, "channel");
	ck_assert_int_eq(u.message_id, 1111);
	ck_assert_ptr_null(u.text);        /* content is not read */
	update_free(&u);

	corpus_parse("wrapped_aiogram2__channel_post_from_null.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "channel_post");
	ck_assert_int_eq(u.from.id, 0);
	update_free(&u);

	corpus_parse("nutgram__edited_channel_post.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "edited_channel_post");
	update_free(&u);
}
END_TEST

START_TEST(real_my_chat_member_other)
{
	struct update u;
	corpus_parse("teloxide__my_chat_member_bot_blocked_by_user.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "my_chat_member");
	ck_assert_int_eq(u.update_id, 0);
	ck_assert_str_eq(u.from.username, "UN");
	ck_assert_int_eq(u.date, 1644677726);
	update_free(&u);
}
END_TEST

START_TEST(real_poll_answer_other)
{
	struct update u;
	corpus_parse("wrapped_pytba__poll_answer.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "poll_answer");
	ck_assert_int_eq(u.update_id, 900000012);
	ck_assert_int_eq(u.has_chat, 0);
	ck_assert_int_eq(u.from.id, 329343347);   /* its "user" */
	update_free(&u);

	corpus_parse("wrapped_teloxide__poll_answer_voter_chat.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "poll_answer");
	update_free(&u);
}
END_TEST

START_TEST(real_unknown_kind_other)
{
	struct update u;
	corpus_parse("teloxide__unknown_update_kind.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "new_update_kind");
	ck_assert_int_eq(u.update_id, 1);
	ck_assert_int_eq(u.has_chat, 0);
	update_free(&u);

	corpus_parse("tgdocs__inline_query_numeric_id.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "inline_query");
	update_free(&u);
}
END_TEST

START_TEST(real_contact)
{
	struct update u;
	corpus_parse("nutgram__message_contact_vcard.json", &u);
	ck_assert_str_eq(u.contact_phone, "911");
	ck_assert_int_eq(u.contact_user_id, 0);   /* not a Telegram user */
	ck_assert_int_eq(u.shared_user_id, 0);
	update_free(&u);
}
END_TEST

START_TEST(real_sticker_location)
{
	struct update u;
	corpus_parse("wrapped_pytba__message_sticker_supergroup_fancy_unicode_name.json", &u);
	ck_assert_int_eq(u.has_sticker, 1);
	ck_assert_int_eq(u.has_location, 0);
	ck_assert_ptr_null(u.text);
	update_free(&u);

	corpus_parse("nutgram__message_location.json", &u);
	ck_assert_int_eq(u.has_location, 1);
	ck_assert_int_eq(u.has_sticker, 0);
	update_free(&u);
}
END_TEST

START_TEST(real_cyrillic_emoji_bytes)
{
	static const char want[] = "\xd0\x9b\xd0\xbe\xd0\xbb\x20\xd0\xba\xd0\xb5"
		"\xd0\xba\x20\xf0\x9f\x98\x82";   /* "Лол кек 😂" */
	struct update u;
	corpus_parse("wrapped_teloxide__message_text_cyrillic_emoji.json", &u);
	ck_assert_uint_eq(strlen(u.text), sizeof(want) - 1);
	ck_assert_int_eq(memcmp(u.text, want, sizeof(want)), 0);
	ck_assert_str_eq(u.from.first_name, "\xd0\x90\xd0\xbd\xd0\xb4\xd1\x80"
		"\xd0\xb5\xd0\xb9");   /* "Андрей" */
	update_free(&u);
}
END_TEST

START_TEST(real_chat_without_type)
{
	struct update u;
	corpus_parse("tgdocs__message_text_start_chat_without_type.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_MESSAGE);
	ck_assert_int_eq(u.chat_id, 1111111);
	ck_assert_ptr_null(u.chat_type);
	ck_assert_str_eq(u.text, "/start");
	ck_assert_int_eq(u.from.is_bot, 0);
	update_free(&u);
}
END_TEST

START_TEST(real_message_without_from)
{
	struct update u;
	corpus_parse("wrapped_teloxide__message_empty_no_from_no_content.json", &u);
	ck_assert_int_eq(u.kind, UPDATE_MESSAGE);
	ck_assert_int_eq(u.from.id, 0);
	ck_assert_ptr_null(u.from.first_name);
	ck_assert_ptr_null(u.text);
	update_free(&u);
}
END_TEST

/* --- shapes no real payload has ----------------------------------------- */

START_TEST(users_shared)
{
	struct update u;
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":"
		"{\"id\":7,\"type\":\"private\"},\"users_shared\":{\"request_id\":3,"
		"\"users\":[{\"user_id\":42,\"username\":\"bob\",\"first_name\":"
		"\"Bob\"},{\"user_id\":43}]}}}", &u);
	ck_assert_int_eq(u.shared_request_id, 3);
	ck_assert_int_eq(u.shared_user_id, 42);
	ck_assert_str_eq(u.shared_username, "bob");
	ck_assert_str_eq(u.shared_first_name, "Bob");
	update_free(&u);

	/* Bot API 7.0 sent user_ids */
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":"
		"{\"id\":7},\"users_shared\":{\"request_id\":4,\"user_ids\":[77,78]}}}", &u);
	ck_assert_int_eq(u.shared_request_id, 4);
	ck_assert_int_eq(u.shared_user_id, 77);
	ck_assert_ptr_null(u.shared_username);
	update_free(&u);

	/* the legacy user_shared */
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":"
		"{\"id\":7},\"user_shared\":{\"request_id\":9,\"user_id\":99}}}", &u);
	ck_assert_int_eq(u.shared_request_id, 9);
	ck_assert_int_eq(u.shared_user_id, 99);
	update_free(&u);

	/* empty or odd lists */
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":"
		"{\"id\":7},\"users_shared\":{\"request_id\":1,\"users\":[]}}}", &u);
	ck_assert_int_eq(u.shared_user_id, 0);
	update_free(&u);
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":"
		"{\"id\":7},\"users_shared\":{\"users\":[5,\"x\"],\"user_ids\":"
		"[\"1\"]}}}", &u);
	ck_assert_int_eq(u.shared_user_id, 0);
	update_free(&u);
}
END_TEST

START_TEST(contact_with_user)
{
	struct update u;
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":{\"id\":7},"
		"\"contact\":{\"phone_number\":\"+4917\",\"user_id\":7}}}", &u);
	ck_assert_str_eq(u.contact_phone, "+4917");
	ck_assert_int_eq(u.contact_user_id, 7);
	update_free(&u);
}
END_TEST

START_TEST(optional_wrong_types_are_absent)
{
	struct update u;
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,"
		"\"chat\":{\"id\":7,\"type\":3,\"title\":[]},"
		"\"from\":{\"id\":\"12\",\"is_bot\":\"true\",\"username\":null,"
		"\"first_name\":\"a\\u0000b\",\"language_code\":{}},"
		"\"date\":\"yesterday\",\"text\":5,\"caption\":\"cap\","
		"\"caption_entities\":\"x\",\"entities\":[],"
		"\"voice\":{\"file_id\":\"v\",\"duration\":-5,\"file_size\":1.5,"
		"\"mime_type\":7},"
		"\"document\":{\"file_id\":7,\"file_size\":10},"
		"\"audio\":\"x\",\"video\":{\"file_id\":\"vi\",\"file_size\":"
		"99999999999999999999},"
		"\"photo\":[1,null,\"x\",{\"width\":10},{\"file_id\":\"p\",\"width\":-4}],"
		"\"sticker\":{\"file_id\":null},\"location\":{\"latitude\":\"1\","
		"\"longitude\":2},\"contact\":{\"phone_number\":123,\"user_id\":1.0}}}", &u);
	ck_assert_int_eq(u.chat_id, 7);
	ck_assert_ptr_null(u.chat_type);
	ck_assert_ptr_null(u.chat_title);
	ck_assert_int_eq(u.from.id, 0);
	ck_assert_int_eq(u.from.is_bot, 0);
	ck_assert_ptr_null(u.from.username);
	ck_assert_ptr_null(u.from.first_name);     /* embedded NUL */
	ck_assert_ptr_null(u.from.language_code);
	ck_assert_int_eq(u.date, 0);
	ck_assert_str_eq(u.text, "cap");
	ck_assert_ptr_null(u.entities);            /* caption_entities not an array */
	ck_assert_str_eq(u.voice.file_id, "v");
	ck_assert_int_eq(u.voice.duration, 0);
	ck_assert_int_eq(u.voice.file_size, 0);
	ck_assert_ptr_null(u.voice.mime_type);
	ck_assert_ptr_null(u.document.file_id);
	ck_assert_int_eq(u.document.file_size, 0);
	ck_assert_ptr_null(u.audio.file_id);
	ck_assert_str_eq(u.video.file_id, "vi");
	ck_assert_int_eq(u.video.file_size, 0);    /* past 2^64: clamped by json-c */
	ck_assert_str_eq(u.photo.file_id, "p");
	ck_assert_int_eq(u.has_sticker, 0);
	ck_assert_int_eq(u.has_location, 0);
	ck_assert_ptr_null(u.contact_phone);
	ck_assert_int_eq(u.contact_user_id, 0);
	update_free(&u);

	/* a from that is not an object, a photo that is not an array */
	parse_ok("{\"update_id\":5,\"message\":{\"message_id\":1,\"chat\":{\"id\":7},"
		"\"from\":\"me\",\"photo\":{\"file_id\":\"x\"},\"text\":\"t\","
		"\"entities\":{}}}", &u);
	ck_assert_int_eq(u.from.id, 0);
	ck_assert_ptr_null(u.photo.file_id);
	ck_assert_str_eq(u.text, "t");
	ck_assert_ptr_null(u.entities);
	update_free(&u);
}
END_TEST

START_TEST(photo_choice)
{
	struct update u;
	/* by area, whatever the order */
	parse_ok("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
		"\"photo\":[{\"file_id\":\"big\",\"width\":1280,\"height\":960,"
		"\"file_size\":9},{\"file_id\":\"small\",\"width\":90,\"height\":90,"
		"\"file_size\":99999}]}}", &u);
	ck_assert_str_eq(u.photo.file_id, "big");
	ck_assert_int_eq(u.photo.file_size, 9);
	update_free(&u);
	/* no sizes: by file_size */
	parse_ok("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
		"\"photo\":[{\"file_id\":\"a\",\"file_size\":5},{\"file_id\":\"b\","
		"\"file_size\":50},{\"file_id\":\"c\",\"file_size\":20}]}}", &u);
	ck_assert_str_eq(u.photo.file_id, "b");
	update_free(&u);
	/* huge sides do not overflow */
	parse_ok("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
		"\"photo\":[{\"file_id\":\"a\",\"width\":9007199254740991,\"height\":"
		"9007199254740991},{\"file_id\":\"b\",\"width\":2,\"height\":2}]}}", &u);
	ck_assert_str_eq(u.photo.file_id, "a");
	update_free(&u);
	/* an empty list */
	parse_ok("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":1},"
		"\"photo\":[]}}", &u);
	ck_assert_ptr_null(u.photo.file_id);
	update_free(&u);
}
END_TEST

START_TEST(kind_order)
{
	struct update u;
	parse_ok("{\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":1}},"
		"\"edited_message\":{\"message_id\":1,\"chat\":{\"id\":2}},"
		"\"update_id\":1}", &u);
	ck_assert_int_eq(u.kind, UPDATE_EDITED_MESSAGE);
	update_free(&u);
	parse_ok("{\"poll\":{},\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":1}},"
		"\"update_id\":1}", &u);
	ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
	update_free(&u);
	parse_ok("{\"update_id\":1,\"edited_business_message\":{\"message_id\":1,"
		"\"chat\":{\"id\":2}}}", &u);
	ck_assert_int_eq(u.kind, UPDATE_EDITED_MESSAGE);
	ck_assert_str_eq(u.kind_name, "edited_business_message");
	update_free(&u);
	/* null kinds are skipped; the first other key in document order */
	parse_ok("{\"message\":null,\"update_id\":1,\"zeta\":null,\"poll\":{},"
		"\"alpha\":{}}", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "poll");
	update_free(&u);
	/* no kind at all */
	parse_ok("{\"update_id\":7}", &u);
	ck_assert_int_eq(u.kind, UPDATE_OTHER);
	ck_assert_str_eq(u.kind_name, "");
	ck_assert_int_eq(u.update_id, 7);
	update_free(&u);
	/* an OTHER of any type never fails */
	parse_ok("{\"update_id\":1,\"poll\":[1,2],\"x\":3}", &u);
	ck_assert_str_eq(u.kind_name, "poll");
	ck_assert_int_eq(u.has_chat, 0);
	update_free(&u);
	parse_ok("{\"update_id\":1,\"chat_member\":{\"chat\":{\"id\":\"7\"},"
		"\"from\":5}}", &u);
	ck_assert_int_eq(u.has_chat, 0);
	update_free(&u);
}
END_TEST

START_TEST(callback_odd_message)
{
	struct update u;
	/* a message that is not an object counts as absent */
	parse_ok("{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":"
		"{\"id\":3},\"message\":\"gone\",\"data\":7}}", &u);
	ck_assert_int_eq(u.has_chat, 0);
	ck_assert_ptr_null(u.callback_data);
	update_free(&u);
	parse_ok("{\"update_id\":1,\"callback_query\":{\"id\":\"\",\"from\":"
		"{\"id\":3}}}", &u);
	ck_assert_str_eq(u.callback_id, "");
	update_free(&u);
}
END_TEST

START_TEST(update_free_twice)
{
	struct update u;
	parse_ok("{\"update_id\":1}", &u);
	update_free(&u);
	ck_assert_ptr_null(u.root);
	update_free(&u);   /* a zeroed update is fine */
}
END_TEST

/* --- broken bodies ------------------------------------------------------ */

START_TEST(bad_not_an_object)
{
	BAD("hello", "not a JSON object");
	BAD("{hello", "not valid JSON");
	BAD("[1,2]", "an array, not a JSON object");
	BAD("\"x\"", "a string, not a JSON object");
	BAD("null", "not a JSON object");
	BAD("5", "not a JSON object");
	BAD("true ", "a boolean, not a JSON object");
	BAD("", "empty");
	BAD(" \r\n\t", "empty");
	parse_bad_n(NULL, 0, "empty");
	parse_bad_n(NULL, 10, "empty");
	BAD("{\"update_id\":1} x", "not valid JSON");
	BAD("{\"update_id\":1}{}", "not valid JSON");
	BAD("{\"update_id\":1,\"update_id\":2}", "duplicate key");
	BAD("{\"update_id\":1,\"message\":\"\xff\"}", "not valid JSON");
	/* what json-c's own check lets through: overlong forms, surrogates,
	 * code points past U+10FFFF, a sequence cut short */
	BAD("{\"update_id\":1,\"message\":\"\xc0\xae\"}", "invalid utf-8 string at line 1, column 27");
	BAD("{\"update_id\":1,\"message\":\"\xe0\x80\xae\"}", "invalid utf-8");
	BAD("{\"update_id\":1,\"message\":\"\xed\xa0\x80\"}", "invalid utf-8");
	BAD("{\"update_id\":1,\"message\":\"\xf4\x90\x80\x80\"}", "invalid utf-8");
	BAD("{\"update_id\":1,\"message\":\"\xf0\x9f\x98\"}", "invalid utf-8");
	BAD("{\"update_id\":1,\"message\":\"\xc3\x28\"}", "not valid JSON");
	BAD("{\"update_id\":1,}", "not valid JSON");
	{
		/* raw NUL bytes in the body */
		static const char in_string[] = "{\"update_id\":1,\"a\":\"x\0y\"}";
		static const char at_end[] = "{\"update_id\":1}\0";
		parse_bad_n(in_string, sizeof(in_string) - 1, "JSON");
		parse_bad_n(at_end, sizeof(at_end) - 1, "not valid JSON");
	}
}
END_TEST

START_TEST(bad_update_id)
{
	BAD("{}", "/update_id is missing");
	BAD("{\"message\":{\"message_id\":1,\"chat\":{\"id\":1}}}", "/update_id is missing");
	BAD("{\"update_id\":\"5\"}", "/update_id is a string, not an integer");
	BAD("{\"update_id\":5.5}", "/update_id is a floating-point number, not an integer");
	BAD("{\"update_id\":5e3}", "floating-point");
	BAD("{\"update_id\":null}", "/update_id is null, not an integer");
	BAD("{\"update_id\":true}", "a boolean");
	BAD("{\"update_id\":{}}", "an object");
	BAD("{\"update_id\":99999999999999999999}", "/update_id is out of range");
	BAD("{\"update_id\":-99999999999999999999}", "out of range");
	BAD("{\"update_id\":9007199254740992}", "out of range");
}
END_TEST

START_TEST(bad_message)
{
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1}}", "/message/chat is missing");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":null}}",
		"/message/chat is null, not an object");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":\"c\"}}",
		"/message/chat is a string, not an object");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{}}}",
		"/message/chat/id is missing");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":\"7\"}}}",
		"/message/chat/id is a string, not an integer");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":null}}}",
		"/message/chat/id is null");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":1,\"chat\":{\"id\":7.5}}}",
		"/message/chat/id is a floating-point number");
	BAD("{\"update_id\":1,\"message\":{\"chat\":{\"id\":7}}}",
		"/message/message_id is missing");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":\"1\",\"chat\":{\"id\":7}}}",
		"/message/message_id is a string");
	BAD("{\"update_id\":1,\"message\":{\"message_id\":null,\"chat\":{\"id\":7}}}",
		"/message/message_id is null");
	BAD("{\"update_id\":1,\"message\":\"hi\"}", "/message is a string, not an object");
	BAD("{\"update_id\":1,\"message\":[]}", "/message is an array");
	BAD("{\"update_id\":1,\"edited_message\":{\"message_id\":1}}",
		"/edited_message/chat is missing");
	BAD("{\"update_id\":1,\"business_message\":{\"chat\":{\"id\":1}}}",
		"/business_message/message_id is missing");
	/* a broken message is not rescued by another kind */
	BAD("{\"update_id\":1,\"message\":{},\"poll\":{}}", "/message/chat is missing");
}
END_TEST

START_TEST(bad_callback)
{
	BAD("{\"update_id\":1,\"callback_query\":{\"from\":{\"id\":1}}}",
		"/callback_query/id is missing");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":5,\"from\":{\"id\":1}}}",
		"/callback_query/id is an integer, not a string");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":null,\"from\":{\"id\":1}}}",
		"/callback_query/id is null");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"a\\u0000b\",\"from\":{\"id\":1}}}",
		"/callback_query/id holds a NUL byte");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"q\"}}",
		"/callback_query/from is missing");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":null}}",
		"/callback_query/from is null");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{}}}",
		"/callback_query/from/id is missing");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":\"1\"}}}",
		"/callback_query/from/id is a string");
	BAD("{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":1},"
		"\"message\":{\"message_id\":1}}}", "/callback_query/message/chat is missing");
	BAD("{\"update_id\":1,\"callback_query\":7}", "/callback_query is an integer, not an object");
}
END_TEST

/* Bot API emulators and proxies: a press whose message lacks message_id
 * (or has one of the wrong type) and chat_instance, unknown fields
 * anywhere: the press is usable, message_id 0 (no keyboard to edit). */
START_TEST(odd_callback_without_message_id)
{
	static const char *const bodies[] = {
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":7},"
		"\"data\":\"0|yes\",\"message\":{\"chat\":{\"id\":7,\"type\":\"private\"}}}}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":7,\"x\":[1]},"
		"\"data\":\"0|yes\",\"novel\":{\"a\":1},\"message\":{\"message_id\":1.5,"
		"\"chat\":{\"id\":7,\"extra\":true}}},\"unknown\":null}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct update u;
		parse_ok(bodies[i], &u);
		ck_assert_int_eq(u.kind, UPDATE_CALLBACK_QUERY);
		ck_assert_int_eq(u.has_chat, 1);
		ck_assert_int_eq(u.chat_id, 7);
		ck_assert_int_eq(u.message_id, 0);
		ck_assert_str_eq(u.callback_data, "0|yes");
		update_free(&u);
	}
}
END_TEST

START_TEST(bad_deep_nesting)
{
	char body[2048];
	size_t n = 0;
	n += (size_t)snprintf(body, sizeof(body), "{\"update_id\":1,\"x\":");
	for (int i = 0; i < 200; i++)
		body[n++] = '[';
	for (int i = 0; i < 200; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	parse_bad_n(body, n, "nested deeper than 48");

	/* objects too, inside a message */
	n = (size_t)snprintf(body, sizeof(body), "{\"update_id\":1,\"message\":");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"a\":");
	ck_assert_uint_lt(n, sizeof(body) - 1);
	parse_bad_n(body, n, "nested deeper");
}
END_TEST

/* 1 MiB of pseudo-random bytes; with lead != 0, starting with that byte. */
static void garbage(char lead)
{
	size_t n = UPDATE_BODY_MAX;
	char *p = malloc(n);
	unsigned long x = 2463534242UL;
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		x &= 0xFFFFFFFFUL;
		p[i] = (char)(x >> 11);
	}
	if (lead)
		p[0] = lead;
	parse_bad_n(p, n, lead == '{' ? "not valid JSON" : "JSON");
	memset(p, '[', n);
	parse_bad_n(p, n, "not a JSON object");
	memset(p, '{', n);
	parse_bad_n(p, n, "not valid JSON");
	free(p);
}

START_TEST(bad_garbage)
{
	char *p;
	garbage(0);
	garbage('{');
	garbage('[');
	/* one byte over the limit is refused before parsing */
	p = calloc(1, (size_t)UPDATE_BODY_MAX + 2);
	ck_assert_ptr_nonnull(p);
	memset(p, ' ', (size_t)UPDATE_BODY_MAX + 1);
	memcpy(p, "{\"update_id\":1}", 15);
	parse_bad_n(p, (size_t)UPDATE_BODY_MAX + 1, "at most 1048576");
	/* exactly at the limit is parsed */
	{
		struct update u;
		char err[ERR_MAX];
		ck_assert_int_eq(update_parse(p, UPDATE_BODY_MAX, &u, err, sizeof(err)), 0);
		ck_assert_int_eq(u.update_id, 1);
		update_free(&u);
	}
	free(p);
}
END_TEST

/* An entity whose offset + length overflows (found by fuzz_html): no span,
 * the text escaped as it is, no undefined behaviour (UBSan build). */
START_TEST(html_entity_offset_overflow)
{
	struct buf b;
	json_object *ents = json_tokener_parse("[{\"type\": \"bold\", "
		"\"offset\": 9223372036854775807, \"length\": 1}, "
		"{\"type\": \"bold\", \"offset\": 1, \"length\": 9223372036854775807}]");

	ck_assert_ptr_nonnull(ents);
	buf_init(&b, 4096);
	ck_assert_int_eq(html_from_entities(&b, "a<b", ents), 0);
	ck_assert_str_eq(b.p, "a&lt;b");
	buf_free(&b);
	json_object_put(ents);
}
END_TEST

START_TEST(bad_small_error_buffer)
{
	struct update u;
	char err[8];
	ck_assert_int_eq(update_parse("{}", 2, &u, err, sizeof(err)), UPDATE_INVALID);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_int_eq(update_parse("{}", 2, &u, NULL, 0), UPDATE_INVALID);
	ck_assert_int_eq(update_parse("[", 1, &u, NULL, 0), -1);
	ck_assert_int_eq(update_parse("{", 1, &u, NULL, 0), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("update");
	TCase *corpus = tcase_create("corpus");
	TCase *real = tcase_create("real");
	TCase *shapes = tcase_create("shapes");
	TCase *bad = tcase_create("bad");

	tcase_set_timeout(corpus, 120);
	tcase_add_test(corpus, corpus_all_parse);
	tcase_add_test(corpus, corpus_prefixes);

	tcase_add_test(real, real_private_text);
	tcase_add_test(real, real_group_command_mention);
	tcase_add_test(real, real_supergroup_command_bot_username);
	tcase_add_test(real, real_migrate);
	tcase_add_test(real, real_big_ids);
	tcase_add_test(real, real_callback_with_message);
	tcase_add_test(real, real_callback_inline_message);
	tcase_add_test(real, real_callback_null_message);
	tcase_add_test(real, real_callback_inaccessible_message);
	tcase_add_test(real, odd_callback_without_message_id);
	tcase_add_test(real, real_voice);
	tcase_add_test(real, real_audio_video);
	tcase_add_test(real, real_document_pdf);
	tcase_add_test(real, real_document_without_mime);
	tcase_add_test(real, real_document_many_nulls);
	tcase_add_test(real, real_photo_largest);
	tcase_add_test(real, real_edited_message);
	tcase_add_test(real, real_business_message);
	tcase_add_test(real, real_five_kinds_prefers_message);
	tcase_add_test(real, real_channel_post_other);
	tcase_add_test(real, real_my_chat_member_other);
	tcase_add_test(real, real_poll_answer_other);
	tcase_add_test(real, real_unknown_kind_other);
	tcase_add_test(real, real_contact);
	tcase_add_test(real, real_sticker_location);
	tcase_add_test(real, real_cyrillic_emoji_bytes);
	tcase_add_test(real, real_chat_without_type);
	tcase_add_test(real, real_message_without_from);

	tcase_add_test(shapes, users_shared);
	tcase_add_test(shapes, contact_with_user);
	tcase_add_test(shapes, optional_wrong_types_are_absent);
	tcase_add_test(shapes, photo_choice);
	tcase_add_test(shapes, kind_order);
	tcase_add_test(shapes, callback_odd_message);
	tcase_add_test(shapes, update_free_twice);

	tcase_set_timeout(bad, 60);
	tcase_add_test(bad, bad_not_an_object);
	tcase_add_test(bad, bad_update_id);
	tcase_add_test(bad, bad_message);
	tcase_add_test(bad, bad_callback);
	tcase_add_test(bad, bad_deep_nesting);
	tcase_add_test(bad, bad_garbage);
	tcase_add_test(bad, bad_small_error_buffer);
	tcase_add_test(bad, html_entity_offset_overflow);

	suite_add_tcase(s, corpus);
	suite_add_tcase(s, real);
	suite_add_tcase(s, shapes);
	suite_add_tcase(s, bad);
	return unit_run(s);
}
