# tests/cgi_lib.sh - sends Telegram updates to the webhook by running
# blueflow as plain CGI (the same webhook code the pool runs, without
# nginx). Source it after tests/lib.sh; set CGI_CONF (the config file),
# CGI_BOT (the bot's name), CGI_SECRET (its webhook secret) and CHAT.
#   cgi_post FIELDS   one message update from CHAT with the message fields
#                     FIELDS (JSON members, e.g. '"text":"hi"'); update ids
#                     count up from CGI_UPD; dated CGI_DATE (unix
#                     seconds) when set, else now; the reply (CGI headers and
#                     body) in $T_TMP/reply$CGI_TAG, blueflow's log appended
#                     to $T_TMP/cgi.log (CGI_TAG, default "", keeps posts
#                     run at once apart)
#   cgi_voice FILE_ID UNIQUE SIZE / cgi_doc FILE_ID UNIQUE MIME SIZE
#                     a voice note (3 s) / a document named cv.pdf
#   cgi_replied NAME TEXT   a check: the last reply contains TEXT
CGI_UPD=${CGI_UPD:-100}

cgi_post() {
	CGI_UPD=$((CGI_UPD + 1))
	printf '{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Ann"},"from":{"id":%d,"is_bot":false,"first_name":"Ann"},%s}}' \
		"$CGI_UPD" "$CGI_UPD" "${CGI_DATE:-$(date +%s)}" "$CHAT" "$CHAT" "$1" >"$T_TMP/body${CGI_TAG:-}"
	env GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST SCRIPT_NAME=/tg PATH_INFO="/$CGI_BOT" \
		CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$T_TMP/body${CGI_TAG:-}")" \
		HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="$CGI_SECRET" \
		"$BLUEFLOW" serve -c "$CGI_CONF" <"$T_TMP/body${CGI_TAG:-}" >"$T_TMP/reply${CGI_TAG:-}" 2>>"$T_TMP/cgi.log"
}
cgi_voice() {
	cgi_post "\"voice\":{\"file_id\":\"$1\",\"file_unique_id\":\"$2\",\"duration\":3,\"mime_type\":\"audio/ogg\",\"file_size\":$3}"
}
cgi_doc() {
	cgi_post "\"document\":{\"file_id\":\"$1\",\"file_unique_id\":\"$2\",\"file_name\":\"cv.pdf\",\"mime_type\":\"$3\",\"file_size\":$4}"
}
cgi_replied() {
	if grep -qF -- "$2" "$T_TMP/reply${CGI_TAG:-}"; then ok "$1"; else
		fail "$1" "reply lacks \"$2\": $(head -c 400 "$T_TMP/reply${CGI_TAG:-}")"; fi
}
