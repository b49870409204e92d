#!/usr/bin/env bash
# tally run: recording the console output byte for byte (progress bars,
# binary data, huge lines, both streams), -q, the environment a script sees
# and what is saved of it, and awkward text in flags and labels.
. "$(dirname "$0")/test-lib.sh"

# The newest run's directory.
latest_dir() {
	show_field '["dir"]'
}

# Assert a Python expression over the newest run's `tally show --format json`
# (bound to d).
show_check() {
	tally show --format json | "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
assert eval(sys.argv[1]), sys.argv[1] + " is false for: " + json.dumps(d, indent=1)[:3000]' "$1"
}

# A Python module reading .tally/output.idx in either format (docs/run-format.md):
# records(path) -> [(offset, stream, time_ms)]; chunks(run_dir) -> [(stream, bytes)];
# write_v1(path, records).
cat >outidx.py <<-PY
import os, struct, sys
sys.path.insert(0, "$TEST_DIRECTORY")
from tfevents import _varint_at as _varint  # LEB128
MAGIC, BLOCK = b"TLYOIDX2", 4096
PY
cat >>outidx.py <<-\PY
def chunks(run_dir):
    d = os.path.join(run_dir, ".tally")
    out = open(os.path.join(d, "output"), "rb").read()
    recs = records(os.path.join(d, "output.idx"))
    ends = [r[0] for r in recs[1:]] + [len(out)]
    return [(stream, out[start:end]) for (start, stream, _), end in zip(recs, ends)]
def records(path):
    b = open(path, "rb").read()
    if not b.startswith(MAGIC):  # format 1: 16-byte records
        assert len(b) % 16 == 0, len(b)
        return [(w >> 1, w & 1, t) for w, t in (struct.unpack_from("<Qq", b, i) for i in range(0, len(b), 16))]
    out, i = [], len(MAGIC)
    while i < len(b):
        if i % BLOCK == 0 or i == len(MAGIC):
            off = t = 0
        if b[i] == 0:  # padding to the end of the block
            assert not any(b[i:(i // BLOCK + 1) * BLOCK]), "padding holds data"
            i = (i // BLOCK + 1) * BLOCK
            continue
        start = i
        a, i = _varint(b, i)
        z, i = _varint(b, i)
        assert start // BLOCK == (i - 1) // BLOCK, "a record straddles blocks"
        a -= 1
        off += a >> 1
        t += (z >> 1) ^ -(z & 1)
        out.append((off, a & 1, t))
    return out
def write_v1(path, recs):
    with open(path, "wb") as f:
        for off, stream, t in recs:
            f.write(struct.pack("<Qq", off << 1 | stream, t))
PY

# Check .tally/output.idx of the run in $1 against its output: offsets start
# at 0, strictly increase and stay inside the output, times never go back.
check_index() {
	"$PYTHON" - "$1" <<-\PY
	import os, sys
	sys.path.insert(0, os.getcwd())
	import outidx
	d = os.path.join(sys.argv[1], ".tally")
	recs = outidx.records(os.path.join(d, "output.idx"))
	size = os.path.getsize(os.path.join(d, "output"))
	if size == 0:
	    assert recs == [], recs
	    sys.exit(0)
	offs = [r[0] for r in recs]
	assert offs[0] == 0, offs[:3]
	assert all(a < b for a, b in zip(offs, offs[1:])), "offsets not increasing"
	assert offs[-1] < size, (offs[-1], size)
	assert all(r[1] in (0, 1) for r in recs)
	times = [r[2] for r in recs]
	assert all(a <= b for a, b in zip(times, times[1:])), "times go back"
	PY
}

# ---------------------------------------------------------------------------
# Byte-exact recording

test_expect_success 'progress bars: carriage returns are kept and each update is a scalar' '
	printf "printf %s\n" "\"loss: 0.9\\rloss: 0.5\\rloss: 0.1\\n\"" >bar.sh &&
	tally run bar.sh >out 2>err &&
	printf "loss: 0.9\rloss: 0.5\rloss: 0.1\n" >expect &&
	cmp expect "$(latest_dir)/.tally/output" &&
	cmp expect out &&
	test "$(od -An -c "$(latest_dir)/.tally/output" | grep -o "\\\\r" | wc -l)" = 2 &&
	show_check "d[\"scalars\"][\"loss\"][\"count\"] == 3" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.1 and d[\"scalars\"][\"loss\"][\"first\"] == 0.9" &&
	test "$(scalar_points loss | tr "\n" " ")" = "0 0.9 1 0.5 2 0.1 "
'

test_expect_success 'Windows line endings still give scalars' '
	printf "printf %s\n" "\"acc: 0.25\\r\\nacc: 0.75\\r\\n\"" >crlf.sh &&
	tally run -q crlf.sh &&
	printf "acc: 0.25\r\nacc: 0.75\r\n" >expect &&
	cmp expect "$(latest_dir)/.tally/output" &&
	show_check "d[\"scalars\"][\"acc\"][\"count\"] == 2 and d[\"scalars\"][\"acc\"][\"last\"] == 0.75"
'

test_expect_success 'binary output is recorded byte for byte' '
	head -c 100000 /dev/urandom >random.bin &&
	test "$(wc -c <random.bin)" = 100000 &&
	echo "cat \"$PWD/random.bin\"" >binary.sh &&
	tally run binary.sh >out 2>err &&
	dir=$(latest_dir) &&
	cmp random.bin "$dir/.tally/output" &&
	cmp random.bin out &&
	check_index "$dir" &&
	show_check "d[\"status\"] == \"completed\""
'

test_expect_success 'NUL bytes and invalid UTF-8 in text lines are kept' '
	printf "printf %s\n" "\"a\\000b\\377\\376c\\nloss: 0.5\\n\"" >nul.sh &&
	tally run -q nul.sh &&
	printf "a\000b\377\376c\nloss: 0.5\n" >expect &&
	cmp expect "$(latest_dir)/.tally/output" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.5"
'

test_expect_success 'a single 5 MB line is recorded intact' '
	cat >long.py <<-\PY &&
	import sys
	sys.stdout.write("x" * (5 * 1024 * 1024))
	sys.stdout.write("\n")
	print("loss: 0.125")
	PY
	tally run -q long.py &&
	dir=$(latest_dir) &&
	test "$(wc -c <"$dir/.tally/output")" = $((5 * 1024 * 1024 + 1 + 12)) &&
	test "$(head -n1 "$dir/.tally/output" | tr -d x | wc -c)" = 1 &&
	test "$(tail -n1 "$dir/.tally/output")" = "loss: 0.125" &&
	check_index "$dir" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.125 and d[\"scalars\"][\"loss\"][\"count\"] == 1"
'

test_expect_success 'memory stays flat for 100 MB of output in one line' '
	echo "head -c 100000000 /dev/zero | tr \"\\000\" y; echo; echo \"loss: 2\"" >huge.sh &&
	/usr/bin/time -f "%M" -o rss tally run -q huge.sh &&
	dir=$(latest_dir) &&
	test "$(wc -c <"$dir/.tally/output")" = 100000009 &&
	test "$(tail -n1 "$dir/.tally/output")" = "loss: 2" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 2" &&
	echo "max RSS: $(tail -n1 rss) KiB" &&
	test "$(tail -n1 rss)" -lt 65536 &&
	rm -rf "$dir"
'

# ---------------------------------------------------------------------------
# Both streams

test_expect_success 'stdout and stderr are recorded in arrival order' '
	cat >streams.sh <<-\SH &&
	for i in 1 2 3; do
		echo "out $i"
		sleep 0.05
		echo "err $i" >&2
		sleep 0.05
	done
	SH
	tally run streams.sh >out 2>err &&
	dir=$(latest_dir) &&
	printf "out 1\nerr 1\nout 2\nerr 2\nout 3\nerr 3\n" >expect &&
	test_cmp expect "$dir/.tally/output" &&
	check_index "$dir" &&
	"$PYTHON" - "$dir" <<-\PY
	import os, sys
	sys.path.insert(0, os.getcwd())
	import outidx
	chunks = outidx.chunks(sys.argv[1])
	for stream, chunk in chunks:
	    for line in chunk.splitlines():
	        assert line.startswith(b"out" if stream == 0 else b"err"), (stream, chunk)
	assert len(chunks) >= 6, chunks
	PY
'

test_expect_success 'stdout goes to tally'"'"'s stdout and stderr to its stderr' '
	printf "out 1\nout 2\nout 3\n" >expect.out &&
	test_cmp expect.out out &&
	grep "^err " err >err.script &&
	printf "err 1\nerr 2\nerr 3\n" >expect.err &&
	test_cmp expect.err err.script &&
	grep -q "^Run .* completed in" err
'

test_expect_success '-q shows none of the script'"'"'s output but records it all' '
	tally run -q streams.sh >out 2>err &&
	! test -s out &&
	! grep -q "^out \|^err " err &&
	grep -q "^Run .* completed in" err &&
	test_cmp expect "$(latest_dir)/.tally/output" &&
	tally run --quiet bar.sh >out 2>err &&
	! test -s out &&
	show_check "d[\"scalars\"][\"loss\"][\"count\"] == 3"
'

test_expect_success 'output.idx is packed: a magic, then a few bytes per chunk' '
	tally run -q streams.sh &&
	dir=$(latest_dir) &&
	head -c 8 "$dir/.tally/output.idx" >magic &&
	printf TLYOIDX2 >expect.magic &&
	cmp expect.magic magic &&
	"$PYTHON" -c "import os, sys; sys.path.insert(0, os.getcwd()); import outidx
n = len(outidx.records(sys.argv[1])); size = os.path.getsize(sys.argv[1])
assert n >= 6 and size <= 8 + 12 * n, (n, size)" "$dir/.tally/output.idx"
'

test_expect_success 'a run recorded with the older 16-byte output.idx reads the same' '
	dir=$(latest_dir) &&
	tally cat >cat.new && tally cat --stdout >out.new && tally cat --stderr >err.new &&
	tally cat -t >ts.new &&
	"$PYTHON" -c "import os, sys; sys.path.insert(0, os.getcwd()); import outidx
p = sys.argv[1]; outidx.write_v1(p, outidx.records(p))" "$dir/.tally/output.idx" &&
	! head -c 8 "$dir/.tally/output.idx" | grep -q TLYOIDX2 &&
	check_index "$dir" &&
	tally cat >cat.old && tally cat --stdout >out.old && tally cat --stderr >err.old &&
	tally cat -t >ts.old &&
	test_cmp cat.new cat.old && test_cmp out.new out.old && test_cmp err.new err.old && test_cmp ts.new ts.old &&
	printf "out 1\nout 2\nout 3\n" >expect.out && test_cmp expect.out out.old &&
	printf "err 1\nerr 2\nerr 3\n" >expect.err && test_cmp expect.err err.old
'

test_expect_success 'output.idx of many small chunks spans blocks and reads back whole' '
	cat >chunks.py <<-\PY &&
	import sys
	for i in range(20000):
	    (sys.stdout if i % 7 else sys.stderr).write("line %d\n" % i)
	    (sys.stdout if i % 7 else sys.stderr).flush()
	PY
	tally run -q chunks.py &&
	dir=$(latest_dir) &&
	check_index "$dir" &&
	test "$(wc -c <"$dir/.tally/output.idx")" -gt 4096 &&
	"$PYTHON" - "$dir" <<-\PY &&
	import os, sys
	sys.path.insert(0, os.getcwd())
	import outidx
	for stream, chunk in outidx.chunks(sys.argv[1]):
	    for line in chunk.splitlines():
	        assert (int(line.split()[1]) % 7 == 0) == (stream == 1), (line, stream)
	PY
	tally cat --stderr >err.txt &&
	test "$(wc -l <err.txt)" = 2858 &&
	test "$(head -n1 err.txt)" = "line 0" &&
	tally cat --stdout >out.txt &&
	test "$(wc -l <out.txt)" = 17142 &&
	tally cat >all.txt && cmp all.txt "$dir/.tally/output"
'

# ---------------------------------------------------------------------------
# The environment

test_expect_success 'the script sees its run directory, run id and flags in its environment' '
	cat >env.sh <<-\SH &&
	echo "cwd=$(pwd -P)"
	echo "tally_run_dir=$(cd "$TALLY_RUN_DIR" && pwd -P)"
	echo "run_dir=$(cd "$RUN_DIR" && pwd -P)"
	echo "run_id=$TALLY_RUN_ID"
	echo "basename=$(basename "$(pwd -P)")"
	echo "flag=$FLAG_LEARNING_RATE"
	echo "flag2=$FLAG_MODEL_NAME_V2"
	echo "unbuffered=$PYTHONUNBUFFERED"
	[ "$MY_SECRET_TOKEN" = s3cr3t ] && echo "token=seen"
	[ "$AWS_SECRET_ACCESS_KEY" = aws-s3cr3t ] && echo "aws=seen"
	[ "$DB_PASSWORD" = hunter2 ] && echo "db=seen"
	[ "$my_api_key" = lower-k3y ] && echo "lower=seen"
	true
	SH
	MY_SECRET_TOKEN=s3cr3t AWS_SECRET_ACCESS_KEY=aws-s3cr3t DB_PASSWORD=hunter2 \
	my_api_key=lower-k3y TALLY_VISIBLE=yes-please \
		tally run env.sh learning-rate=0.1 model.name-v2=big >out &&
	dir=$(cd "$(latest_dir)" && pwd -P) &&
	id=$(show_field "[\"id\"]") &&
	grep -qx "cwd=$dir" out &&
	grep -qx "tally_run_dir=$dir" out &&
	grep -qx "run_dir=$dir" out &&
	grep -qx "run_id=$id" out &&
	grep -qx "basename=$id" out &&
	grep -qx "flag=0.1" out &&
	grep -qx "flag2=big" out &&
	grep -qx "unbuffered=1" out &&
	grep -qx "token=seen" out &&
	grep -qx "aws=seen" out &&
	grep -qx "db=seen" out &&
	grep -qx "lower=seen" out
'

test_expect_success 'env.json keeps the environment but not its secrets' '
	dir=$(latest_dir) &&
	test -s "$dir/.tally/env.json" &&
	"$PYTHON" - "$dir/.tally/env.json" "$PATH" <<-\PY
	import json, sys
	env = json.load(open(sys.argv[1]))
	assert isinstance(env, dict), type(env)
	assert env.get("PATH") == sys.argv[2], env.get("PATH")
	assert env.get("TALLY_VISIBLE") == "yes-please", sorted(env)
	for secret in ("MY_SECRET_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "my_api_key"):
	    assert secret not in env, secret
	text = open(sys.argv[1]).read()
	for value in ("s3cr3t", "hunter2", "lower-k3y"):
	    assert value not in text, value
	PY
'

# ---------------------------------------------------------------------------
# Awkward text in flags and labels

test_expect_success 'unicode flags and a hostile label are recorded exactly' '
	printf "printf \"[%%s]\\\\n\" \"\$@\"; echo \"env=\$FLAG_MSG\"\n" >s.sh &&
	tally run s.sh "msg=héllo wörld" "emoji=🚀 ok" "quote=say \"hi\" \\ bye" --label "<script>alert(1)</script>" >out &&
	printf "[--msg]\n[héllo wörld]\n[--emoji]\n[🚀 ok]\n[--quote]\n[say \"hi\" \\ bye]\nenv=héllo wörld\n" >expect &&
	test_cmp expect out &&
	dir=$(latest_dir) &&
	"$PYTHON" - "$dir/.tally/run.json" <<-\PY &&
	import json, sys
	d = json.load(open(sys.argv[1], encoding="utf-8"))
	assert d["flags"] == {"msg": "héllo wörld", "emoji": "🚀 ok", "quote": "say \"hi\" \\ bye"}, d["flags"]
	assert d["label"] == "<script>alert(1)</script>", d["label"]
	assert d["command"][2:] == ["--msg", "héllo wörld", "--emoji", "🚀 ok", "--quote", "say \"hi\" \\ bye"], d["command"]
	assert d["flag_types"]["msg"] == "string", d["flag_types"]
	PY
	show_check "d[\"label\"] == \"<script>alert(1)</script>\" and d[\"flags\"][\"msg\"] == \"héllo wörld\"" &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin)[0]; assert r[\"label\"] == \"<script>alert(1)</script>\" and r[\"flags\"][\"msg\"] == \"héllo wörld\", r" &&
	tally show >show.txt &&
	grep -qF "<script>alert(1)</script>" show.txt &&
	grep -qF "héllo wörld" show.txt
'

test_expect_success 'unicode tags and comments are recorded exactly' '
	tally run -q s.sh -t "étiquette" -t "tag with space" -c "comment «ü» \"q\"" &&
	show_check "d[\"tags\"] == [\"étiquette\", \"tag with space\"]" &&
	show_check "[c[\"text\"] for c in d[\"comments\"]] == [\"comment «ü» \\\"q\\\"\"]"
'

# Run hex.sh with flag v=$(printf "$1"): the script must get exactly the
# bytes $2 (hex) and run.json must hold them as the flag's value (when they
# are UTF-8), or tally
# must refuse the value cleanly without creating a run.
flag_bytes_kept_or_refused() {
	local before rc
	before=$(run_count)
	tally run hex.sh "v=$(printf "$1")" >out 2>err
	rc=$?
	cat -v out err
	if test $rc = 0
	then
		test "$(head -n1 out)" = "$2" &&
		tally show --format json | "$PYTHON" -c 'import json,sys
d = json.load(sys.stdin)
try:
    want = bytes.fromhex(sys.argv[1]).decode("utf-8")
except UnicodeDecodeError:
    want = None  # JSON cannot hold these bytes; any stand-in will do
assert isinstance(d["flags"]["v"], str), d["flags"]
assert want is None or d["flags"]["v"] == want, (d["flags"], want)' "$2"
	else
		test $rc -lt 129 && test "$(run_count)" = "$before"
	fi
}

test_expect_success 'a flag value that is not UTF-8 reaches the script unchanged or is refused' '
	printf "printf %%s \"\$2\" | od -An -tx1 | tr -d \" \\\\n\"; echo\n" >hex.sh &&
	grep -qx "printf %s \"\$2\" | od -An -tx1 | tr -d \" \\\\n\"; echo" hex.sh &&
	flag_bytes_kept_or_refused "a\\377b" 61ff62 &&
	flag_bytes_kept_or_refused "\\377\\376ok" fffe6f6b
'

test_expect_success 'a flag value starting with U+FEFF reaches the script unchanged' '
	flag_bytes_kept_or_refused "\\357\\273\\277hi" efbbbf6869
'

test_expect_success 'a label that is not UTF-8 is kept or refused, never silently emptied' '
	before=$(run_count) &&
	tally run -q s.sh --label "$(printf "lab\377el")" 2>err
	rc=$? &&
	if test $rc = 0
	then
		show_check "d[\"label\"].startswith(\"lab\") and len(d[\"label\"]) > 3"
	else
		test $rc -lt 129 && test "$(run_count)" = "$before"
	fi
'

test_expect_success 'a tag or comment that is not UTF-8 is kept or refused, never silently dropped' '
	before=$(run_count) &&
	tally run -q s.sh -t "$(printf "ta\377g")" -t plain 2>err
	rc=$? &&
	if test $rc = 0
	then
		show_check "len(d[\"tags\"]) == 2 and \"plain\" in d[\"tags\"]"
	else
		test $rc -lt 129 && test "$(run_count)" = "$before"
	fi &&
	before=$(run_count) &&
	tally run -q s.sh -c "$(printf "com\377ment")" 2>err
	rc=$? &&
	if test $rc = 0
	then
		show_check "len(d[\"comments\"]) == 1 and d[\"comments\"][0].get(\"text\", \"\").startswith(\"com\")"
	else
		test $rc -lt 129 && test "$(run_count)" = "$before"
	fi
'

test_expect_success 'an argument that is not UTF-8 is not dropped from the recorded command' '
	before=$(run_count) &&
	tally run -q -- echo a "$(printf "b\377")" c 2>err
	rc=$? &&
	if test $rc = 0
	then
		dir=$(latest_dir) &&
		printf "a b\377 c\n" >expect &&
		cmp expect "$dir/.tally/output" &&
		show_check "len(d[\"command\"]) == 4 and d[\"command\"][0] == \"echo\" and d[\"command\"][3] == \"c\""
	else
		test $rc -lt 129 && test "$(run_count)" = "$before"
	fi
'

# ---------------------------------------------------------------------------
# Quiet and chatty scripts

test_expect_success 'a script that prints nothing completes with empty output' '
	echo "exit 0" >silent.sh &&
	tally run silent.sh >out 2>err &&
	! test -s out &&
	dir=$(latest_dir) &&
	test -f "$dir/.tally/output" && ! test -s "$dir/.tally/output" &&
	check_index "$dir" &&
	show_check "d[\"status\"] == \"completed\" and d[\"scalars\"] == {} and d[\"output_tail\"] == \"\""
'

test_expect_success 'a script printing 20,000 loss lines gets 20,000 points' '
	cat >many.sh <<-\SH &&
	i=1
	while [ $i -le 20000 ]; do
		echo "loss: $i"
		i=$((i + 1))
	done
	SH
	tally run -q many.sh &&
	dir=$(latest_dir) &&
	test "$(wc -l <"$dir/.tally/output")" = 20000 &&
	show_check "d[\"scalars\"][\"loss\"][\"count\"] == 20000" &&
	show_check "d[\"scalars\"][\"loss\"][\"first\"] == 1 and d[\"scalars\"][\"loss\"][\"last\"] == 20000" &&
	show_check "d[\"scalars\"][\"loss\"][\"min\"] == 1 and d[\"scalars\"][\"loss\"][\"max\"] == 20000" &&
	show_check "d[\"scalars\"][\"loss\"][\"avg\"] == 10000.5" &&
	show_check "d[\"scalars\"][\"loss\"][\"first_step\"] == 0 and d[\"scalars\"][\"loss\"][\"last_step\"] == 19999" &&
	test "$(scalar_points loss | wc -l)" = 20000
'

test_expect_success 'scalar steps: explicit steps, step lines, and flag names are not scalars' '
	cat >steps.sh <<-\SH &&
	echo "lr: 0.5"
	echo "step: 10"
	echo "loss: 0.4"
	echo "acc: 0.6"
	echo "loss: 0.3"
	echo "loss: 0.2 (step 42)"
	echo "note: not a number"
	SH
	tally run -q steps.sh lr=0.5 &&
	test "$(scalar_points loss | tr "\n" " ")" = "10 0.4 11 0.3 42 0.2 " &&
	test "$(scalar_points acc | tr "\n" " ")" = "10 0.6 " &&
	show_check "\"lr\" not in d[\"scalars\"] and \"note\" not in d[\"scalars\"] and \"step\" not in d[\"scalars\"]" &&
	show_check "d[\"scalars\"][\"loss\"][\"last\"] == 0.2 and d[\"scalars\"][\"loss\"][\"last_step\"] == 42"
'

test_done
