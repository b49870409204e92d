#!/usr/bin/env bash
# tally view: the JSON API of docs/view.md against a real server on a
# loopback port — paging, queries, a run's scalars, output, files and
# sources, changes behind the CSRF header, the Host and token checks, path
# traversal, live events, and bad options.
. "$(dirname "$0")/test-lib.sh"

# GET (or more: curl options before the URL) into ./body; prints the status.
get() {
	curl -s --path-as-is -o body -D headers -w '%{http_code}' "$@"
}

# A Python expression over the JSON in ./body (as d) must hold.
check() {
	"$PYTHON" -c 'import json, sys; d = json.load(open("body")); e = sys.argv[1]; assert eval(e), (e, d)' "$1"
}

# Start `tally view` on a free port with OPTIONS; $url is set.  Each test
# body is a subshell of its own: later ones read the URL back from ./url.
start_view() {
	rm -f url view.err
	tally view --no-open --port 0 "$@" >url 2>view.err &
	echo $! >view.pid
	wait_until test -s url && url=$(head -n 1 url)
}

# Stop it, and check that it said nothing but its first line (a sanitizer's report, say).
stop_view() {
	local pid
	pid=$(cat view.pid) && kill -TERM "$pid" && wait_until eval "! kill -0 $pid" &&
	test "$(grep -cv "^tally view: serving" view.err)" = 0
}

# How many "runs" events (index generations) ./runs-events holds.
generations() {
	grep -c '^data: {"generation"' runs-events
}

test_expect_success 'setup: 25 runs with flags, one with files, one with many points' '
	cat >train.sh <<-\SH &&
	echo "loss: ${2:-0.1}"
	echo "val_loss: 0.5"
	echo "warned" >&2
	SH
	for i in $(seq 25); do tally run -q train.sh lr=0.$i >/dev/null 2>&1 || return 1; done &&
	cat >files.sh <<-\SH &&
	mkdir -p plots && printf "\x89PNG\r\n\x1a\n" >plots/curve.png
	echo "<script>alert(1)</script>" >report.html
	echo "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>" >figure.svg
	echo "a,b" >"<img src=x onerror=alert(1)>.csv"
	ln -s /etc/passwd leak.txt
	ln -s .tally meta
	mkfifo pipe
	printf "caf\303\251\n" >accent.txt
	printf "caf\303\251 au lait\n"
	echo done
	SH
	tally run -q files.sh >/dev/null 2>&1 &&
	"$PYTHON" -c "
for i in range(10000):
    print(\"loss: %g (step %d)\" % (1.0 / (i + 1) + (5.0 if i == 7777 else 0.0), i))
" >many.txt &&
	echo "cat many.txt" >many.sh &&
	tally run -q many.sh >/dev/null 2>&1 &&
	echo secret >outside.txt
'

test_expect_success 'starts on a free loopback port and prints its URL; /api/info' '
	start_view &&
	case $url in http://127.0.0.1:*/) ;; *) false ;; esac &&
	test "$(get "${url}api/info")" = 200 &&
	check "d[\"total\"] == 27 and len(d[\"csrf\"]) == 32 and d[\"runs_dir\"].endswith(\"/runs\")" &&
	grep -qi "^x-content-type-options: nosniff" headers &&
	grep -qi "^content-security-policy: default-src .self." headers &&
	test "$(get "$url")" = 200 && grep -q "<html" body &&
	grep -qi "^content-type: text/html" headers
'

test_expect_success '/api/runs: pages, total, newest first; columns' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs?limit=10&offset=20")" = 200 &&
	check "d[\"total\"] == 27 and d[\"offset\"] == 20 and len(d[\"runs\"]) == 7" &&
	check "[r[\"flags\"].get(\"lr\") for r in d[\"runs\"]][-3:] == [0.3, 0.2, 0.1]" &&
	check "all(\"duration_ms\" in r and r[\"status\"] == \"completed\" for r in d[\"runs\"])" &&
	test "$(get "${url}api/columns")" = 200 &&
	check "\"lr\" in d[\"flags\"] and \"val_loss\" in d[\"scalars\"] and \"status\" in d[\"attributes\"]"
'

test_expect_success '/api/runs: where, sort, shorthands; errors name the column' '
	url=$(head -n 1 url) &&
	test "$(get -G "${url}api/runs" --data-urlencode "where=lr > 0.2" --data-urlencode "sort=lr" )" = 200 &&
	check "d[\"total\"] == 12 and [r[\"flags\"][\"lr\"] for r in d[\"runs\"]][:2] == [0.21, 0.22]" &&
	test "$(get -G "${url}api/runs" --data-urlencode "where=lr >> 2")" = 400 &&
	check "d[\"field\"] == \"where\" and d[\"at\"] == 5 and d[\"error\"].startswith(\"expected a name or a value\") and \"help\" not in d[\"error\"]" &&
	test "$(get -G "${url}api/runs" --data-urlencode "sort=lr lr")" = 400 &&
	check "d[\"field\"] == \"sort\"" &&
	test "$(get "${url}api/runs?status=completed,error&limit=1")" = 200 && check "d[\"total\"] == 27" &&
	test "$(get "${url}api/runs?status=running")" = 200 && check "d[\"total\"] == 0" &&
	test "$(get "${url}api/runs?status=pruned,terminated")" = 200 && check "d[\"total\"] == 0 and d[\"warnings\"] == []" &&
	test "$(get -G "${url}api/runs" --data-urlencode "where=status = prunned")" = 200 &&
	check "\"did you mean pruned?\" in d[\"warnings\"][0]" &&
	test "$(get -G "${url}api/runs" --data-urlencode "where=status = pruned")" = 200 && check "d[\"warnings\"] == []" &&
	test "$(get "${url}api/runs?status=x%27)")" = 400 &&
	test "$(get "${url}api/runs?limit=0")" = 400 &&
	test "$(get "${url}api/runs?offset=-1")" = 400 &&
	test "$(get "${url}api/runs?limit=lots")" = 400 && check "\"limit\" in d[\"error\"]"
'

test_expect_success '/api/runs/ID: the run, its summary; unknown runs are 404' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/3")" = 200 &&
	check "d[\"run\"][\"flags\"][\"lr\"] == 0.25 and d[\"live\"] is False and d[\"summary\"][\"scalars\"][\"loss\"][\"last\"] == 0.25" &&
	test "$(get "${url}api/runs/nosuchrun")" = 404 && check "\"error\" in d" &&
	test "$(get "${url}api/nosuchroute")" = 404
'

test_expect_success '/api/runs/ID/scalars: every point, or min and max per bucket' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/1/scalars")" = 200 &&
	check "d[\"records\"] == 10000 and d[\"series\"][0][\"count\"] == 10000 and len(d[\"series\"][0][\"value\"]) == 2000" &&
	test "$(get "${url}api/runs/1/scalars?points=100&tag=loss")" = 200 &&
	check "len(d[\"series\"]) == 1 and len(d[\"series\"][0][\"step\"]) <= 100" &&
	check "max(d[\"series\"][0][\"value\"]) > 5 and d[\"series\"][0][\"step\"][0] == 0 and min(d[\"series\"][0][\"value\"]) == 1 / 10000" &&
	check "d[\"series\"][0][\"step\"] == sorted(d[\"series\"][0][\"step\"])" &&
	test "$(get "${url}api/runs/1/scalars?points=100000")" = 200 && check "len(d[\"series\"][0][\"value\"]) == 10000" &&
	test "$(get "${url}api/runs/1/scalars?tag=nothing")" = 200 && check "d[\"series\"] == []" &&
	test "$(get "${url}api/runs/1/scalars?points=1")" = 400
'

test_expect_success '/api/runs/ID/output: chunks by stream from an offset, the tail' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/3/output")" = 200 &&
	check "\"\".join(c[\"text\"] for c in d[\"chunks\"]) == \"loss: 0.25\nval_loss: 0.5\nwarned\n\"" &&
	check "[c[\"stream\"] for c in d[\"chunks\"]][-1] == 1 and d[\"chunks\"][-1][\"text\"] == \"warned\n\" and d[\"next\"] == d[\"size\"] == 32" &&
	test "$(get "${url}api/runs/3/output?offset=6&limit=4")" = 200 &&
	check "d[\"chunks\"][0][\"text\"] == \"0.25\" and d[\"next\"] == 10" &&
	test "$(get "${url}api/runs/3/output?tail=1")" = 200 && check "d[\"offset\"] == 25" &&
	test "$(get "${url}api/runs/3/output?offset=999")" = 200 && check "d[\"chunks\"] == [] and d[\"next\"] == 999"
'

test_expect_success 'files: listed; images as images, HTML as a download, SVG sandboxed' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/2/files")" = 200 &&
	check "sorted(f[\"path\"] for f in d[\"files\"]) == [\"<img src=x onerror=alert(1)>.csv\", \"accent.txt\", \"figure.svg\", \"plots/curve.png\", \"report.html\"]" &&
	test "$(get "${url}api/runs/2/file/plots/curve.png")" = 200 &&
	grep -qi "^content-type: image/png" headers && grep -qi "^content-security-policy: sandbox" headers &&
	test "$(get "${url}api/runs/2/file/report.html")" = 200 &&
	grep -qi "^content-type: application/octet-stream" headers && grep -qi "^content-disposition: attachment" headers &&
	test "$(get "${url}api/runs/2/file/figure.svg")" = 200 &&
	grep -qi "^content-security-policy: sandbox" headers && grep -qi "^x-content-type-options: nosniff" headers &&
	test "$(get "${url}api/runs/2/file/%3Cimg%20src=x%20onerror=alert(1)%3E.csv")" = 200 && grep -q "^a,b" body
'

test_expect_success 'files: no way out of the run directory' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/2/file/../../outside.txt")" = 403 &&
	test "$(get "${url}api/runs/2/file/%2e%2e/%2e%2e/outside.txt")" = 403 &&
	test "$(get "${url}api/runs/2/file/plots/../../../outside.txt")" = 403 &&
	test "$(get "${url}api/runs/2/file//etc/passwd")" = 403 &&
	test "$(get "${url}api/runs/2/file/leak.txt")" = 403 && ! grep -q root: body &&
	test "$(get "${url}api/runs/2/file/.tally/run.json")" = 403 &&
	test "$(get "${url}api/runs/2/file/nothing.txt")" = 404 &&
	test "$(get "${url}api/runs/2/file/plots")" = 404
'

test_expect_success 'files: the .tally folder and FIFOs are not served, even through a link' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/2/file/meta/run.json")" = 403 &&
	test "$(get --max-time 20 "${url}api/runs/2/file/pipe")" = 404
'

test_expect_success 'run references are ids, names or indexes, never paths' '
	url=$(head -n 1 url) &&
	dir=$(tally show 3 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"dir\"])") &&
	test "$(get "${url}api/events?run=$dir")" = 400 &&
	test "$(get "${url}api/diff?a=$dir&b=1")" = 400 &&
	test "$(get "${url}api/runs/./output")" = 400 &&
	test "$(get "${url}api/runs/../scalars")" != 200
'

test_expect_success 'output pages never cut a UTF-8 character in two' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/2/output?limit=4")" = 200 &&
	check "d[\"chunks\"][0][\"text\"] == \"caf\" and d[\"next\"] == 3" &&
	test "$(get "${url}api/runs/2/output?offset=3&limit=2")" = 200 &&
	check "d[\"chunks\"][0][\"text\"] == \"\u00e9\" and d[\"next\"] == 5"
'

test_expect_success 'events: a long backlog of points comes in events of at most 5,000' '
	url=$(head -n 1 url) &&
	{ curl -sN --max-time 120 "${url}api/events?run=1" >backlog 2>&1 </dev/null & stream=$!; } &&
	wait_until grep -q "^event: status" backlog &&
	kill "$stream" ; "$PYTHON" -c "
import json
events = [json.loads(l[6:]) for l in open(\"backlog\") if l.startswith(\"data: {\\\"points\")]
sizes = [len(e[\"points\"]) for e in events]
assert sum(sizes) == 10000 and max(sizes) <= 5000 and len(sizes) >= 2, sizes
"
'

test_expect_success 'sources: the snapshot, one file of it as text, nothing else' '
	url=$(head -n 1 url) &&
	test "$(get "${url}api/runs/2/sources")" = 200 && check "\"files.sh\" in [f[\"path\"] for f in d[\"files\"]]" &&
	test "$(get "${url}api/runs/2/source/files.sh")" = 200 && grep -q "mkdir -p plots" body &&
	grep -qi "^content-type: text/plain" headers &&
	test "$(get "${url}api/runs/2/source/report.html")" = 404 &&
	test "$(get "${url}api/diff?a=3&b=4")" = 200 && check "d[\"files\"] == []" &&
	test "$(get "${url}api/diff?a=3&b=4&what=output")" = 200 &&
	check "d[\"files\"][0][\"additions\"] == 1 and \"+loss: 0.24\" in d[\"files\"][0][\"patch\"]" &&
	test "$(get "${url}api/diff?a=3")" = 400
'

test_expect_success 'changes need the CSRF header and the same origin' '
	url=$(head -n 1 url) &&
	get "${url}api/info" >/dev/null &&
	csrf=$("$PYTHON" -c "import json; print(json.load(open(\"body\"))[\"csrf\"])") &&
	test "$(get -X POST -d "{\"label\": \"x\"}" "${url}api/runs/3/label")" = 403 &&
	test "$(get -X POST -H "X-Tally-CSRF: wrong" -d "{\"label\": \"x\"}" "${url}api/runs/3/label")" = 403 &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -H "Origin: http://evil.example" -d "{\"label\": \"x\"}" "${url}api/runs/3/label")" = 403 &&
	test "$(tally show 3 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"label\"])")" != x &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -H "Origin: ${url%/}" -d "{\"label\": \"<b>x</b>\"}" "${url}api/runs/3/label")" = 200 &&
	check "d[\"run\"][\"label\"] == \"<b>x</b>\"" &&
	test "$(tally show 3 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"label\"])")" = "<b>x</b>" &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"add\": [\"best\", \"a\"], \"remove\": []}" "${url}api/runs/3/tags")" = 200 &&
	check "d[\"run\"][\"tags\"] == [\"a\", \"best\"] or d[\"run\"][\"tags\"] == [\"best\", \"a\"]" &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"remove\": [\"a\"]}" "${url}api/runs/3/tags")" = 200 &&
	check "d[\"run\"][\"tags\"] == [\"best\"]" &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"marked\": true}" "${url}api/runs/3/mark")" = 200 &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"text\": \"looks good\"}" "${url}api/runs/3/comment")" = 200 &&
	check "d[\"run\"][\"comments\"][0][\"text\"] == \"looks good\" and d[\"summary\"][\"comments\"] == 1 and d[\"summary\"][\"marked\"]" &&
	test "$(get "${url}api/runs?marked=1")" = 200 && check "d[\"total\"] == 1" &&
	test "$(get "${url}api/runs?tag=best")" = 200 && check "d[\"total\"] == 1 and d[\"runs\"][0][\"label\"] == \"<b>x</b>\""
'

test_expect_success 'changes: bad bodies are 400, archive and restore' '
	url=$(head -n 1 url) &&
	csrf=$(get "${url}api/info" >/dev/null && "$PYTHON" -c "import json; print(json.load(open(\"body\"))[\"csrf\"])") &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "not json" "${url}api/runs/3/label")" = 400 &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"marked\": 1}" "${url}api/runs/3/mark")" = 400 &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{\"add\": [7]}" "${url}api/runs/3/tags")" = 400 &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" -d "{}" "${url}api/runs/3/explode")" = 404 &&
	test "$(get -X PUT "${url}api/runs/3/label")" = 405 &&
	id=$(tally show 3 --format json | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)[\"id\"])") &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" "${url}api/runs/$id/archive")" = 200 &&
	test "$(run_count)" = 26 &&
	test "$(get "${url}api/runs?archived=1")" = 200 && check "d[\"total\"] == 1 and d[\"runs\"][0][\"id\"] == \"$id\"" &&
	test "$(get -X POST -H "X-Tally-CSRF: $csrf" "${url}api/runs/$id/restore")" = 200 &&
	test "$(run_count)" = 27
'

test_expect_success 'on loopback, a Host other than its own is refused (DNS rebinding)' '
	url=$(head -n 1 url) &&
	test "$(get -H "Host: evil.example" "${url}api/info")" = 403 &&
	test "$(get -H "Host: evil.example:${url##*:}" "${url}api/runs")" = 403 &&
	port=${url##*:} && port=${port%/} &&
	test "$(get -H "Host: localhost:$port" "${url}api/info")" = 200 &&
	test "$(get -H "Host: localhost:1" "${url}api/info")" = 403
'

test_expect_success 'live: new output, points and the end of a running run arrive as events' '
	url=$(head -n 1 url) &&
	cat >slow.sh <<-\SH &&
	echo "loss: 1 (step 0)"
	while ! test -e "$TALLY_RUN_DIR/go"; do sleep 0.05; done
	echo "loss: 0.5 (step 1)"
	echo "late line" >&2
	SH
	tally run -b slow.sh >started 2>&1 &&
	id=$(sed -n "s/^Run \([^ ]*\) started.*/\1/p" started) &&
	wait_until grep -q "step 0" "runs/$id/.tally/output" &&
	test "$(get "${url}api/runs/$id")" = 200 && check "d[\"live\"] is True" &&
	get "${url}api/runs/$id/scalars" >/dev/null && records=$("$PYTHON" -c "import json; print(json.load(open(\"body\"))[\"records\"])") &&
	get "${url}api/runs/$id/output" >/dev/null && next=$("$PYTHON" -c "import json; print(json.load(open(\"body\"))[\"next\"])") &&
	{ curl -sN --max-time 300 "${url}api/events?run=$id&scalars_from=$records&output_from=$next" >events 2>&1 </dev/null &
	  stream=$!; } &&
	wait_until grep -q "^event: runs" events &&
	! grep -q "step 0" events &&
	touch "runs/$id/go" &&
	wait_until grep -q "^event: status" events &&
	grep -q "\"tag\":\"loss\",\"step\":1,\"value\":0.5" events &&
	grep -q "{\"stream\":1,\"time\":[0-9]*,\"text\":\"late line\\\\n\"}" events &&
	grep -A1 "^event: status" events | grep -q "\"status\":\"completed\",\"exit_status\":0" &&
	kill "$stream"
'

test_expect_success 'live: a new run moves the generation the table follows' '
	url=$(head -n 1 url) &&
	{ curl -sN --max-time 300 "${url}api/events" >runs-events 2>&1 </dev/null & stream=$!; } &&
	wait_until grep -q "^data: {\"generation\"" runs-events &&
	first=$(grep -m1 "^data: {\"generation\"" runs-events) &&
	tally run -q train.sh >/dev/null 2>&1 &&
	wait_until eval "test \$(generations) -ge 2" &&
	test "$(grep "^data: {\"generation\"" runs-events | tail -n 1)" != "$first" &&
	kill "$stream"
'

test_expect_success 'SIGTERM stops the server; streams end with it' '
	url=$(head -n 1 url) &&
	{ (curl -sN --max-time 300 "${url}api/events" >last-events 2>&1; echo ended >>last-events) </dev/null 2>/dev/null & } &&
	wait_until grep -q "^event: runs" last-events &&
	stop_view &&
	wait_until grep -q "^ended" last-events
'

test_expect_success 'a token: required of every request, taken as ?token=, cookie or header' '
	start_view --token s3cret-token &&
	case $url in *"?token=s3cret-token") ;; *) false ;; esac &&
	base=${url%%\?*} &&
	test "$(get "${base}api/info")" = 403 &&
	test "$(get "${base}api/info?token=wrong-token")" = 403 &&
	test "$(get "${base}")" = 403 &&
	test "$(get "${base}api/info?token=s3cret-token")" = 200 &&
	test "$(get "${base}?token=s3cret-token")" = 200 &&
	grep -qi "^set-cookie: tally_token=s3cret-token; Path=/; HttpOnly; SameSite=Strict" headers &&
	test "$(get -H "Cookie: tally_token=s3cret-token" "${base}api/runs")" = 200 &&
	test "$(get -H "Authorization: token s3cret-token" "${base}api/runs")" = 200 &&
	stop_view
'

test_expect_success 'another address than loopback: a random token, always' '
	start_view --host 0.0.0.0 &&
	token=${url##*\?token=} && test ${#token} = 48 &&
	port=${url#http://0.0.0.0:} && port=${port%%/*} &&
	test "$(get "http://127.0.0.1:$port/api/info")" = 403 &&
	test "$(get "http://127.0.0.1:$port/api/info?token=$token")" = 200 &&
	stop_view
'

test_expect_success 'another loopback address: its own URL is accepted' '
	start_view --host 127.0.0.2 &&
	case $url in http://127.0.0.2:*/) ;; *) false ;; esac &&
	test "$(get "${url}api/info")" = 200 &&
	stop_view
'

test_expect_success 'bad options and a port in use are refused with one line' '
	url=$(head -n 1 url) &&
	test_expect_code 129 tally view --port lots 2>err && grep -q "^tally: --port takes a port number" err &&
	test_expect_code 129 tally view --port 70000 2>err &&
	test_expect_code 129 tally view extra 2>err &&
	test_must_fail tally view --no-open --token short 2>err && grep -q "token" err &&
	test_must_fail tally view --no-open --host no.such.host.invalid 2>err && grep -q "^tally: --host" err &&
	start_view &&
	port=${url##*:} && port=${port%/} &&
	test_must_fail tally view --no-open --port "$port" 2>err && grep -q "cannot listen on 127.0.0.1 port $port" err &&
	test "$(grep -c "^tally:" err)" = 1 &&
	stop_view
'

test_done
