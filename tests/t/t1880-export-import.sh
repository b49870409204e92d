#!/usr/bin/env bash
# export / import / copy: runs travel whole with their ids through .tar.gz,
# .tar, .zip and directories; hostile archives are refused with nothing
# imported; copy --files-only takes only what the script made.
. "$(dirname "$0")/test-lib.sh"

ids() { tally runs --format csv "$@" | tail -n +2 | cut -d, -f1; }

test_expect_success 'setup: three runs with output, scalars and a produced file' '
	mkdir data && echo 42 >data/input.txt &&
	cat >train.sh <<-\SH &&
	echo "loss: $1"
	mkdir -p plots && echo "png of $1" >plots/p.png
	echo "model $1" >model.bin
	SH
	for v in 0.3 0.2 0.1; do tally run -q -- bash train.sh $v >/dev/null 2>&1 || return 1; done &&
	tally label -y 1 "best one" >/dev/null &&
	test "$(run_count)" -ge 3
'

test_expect_success 'export to .tar.gz and import elsewhere: same ids, same files, same listing' '
	tally export 1:3 runs.tar.gz >out &&
	grep -q "^Exported 3 runs to runs.tar.gz.$" out &&
	ids | head -n 3 >want &&
	mkdir other && (cd other && tally import ../runs.tar.gz >out && grep -q "^Imported 3 runs" out) &&
	(cd other && ids) >got &&
	test_cmp want got &&
	for id in $(cat want); do
		diff -r -x home runs/$id other/runs/$id || return 1 # home: a link to the project entry, not exported
	done &&
	(cd other && tally show 1 | grep -q "best one" && tally cat 1 | grep -q "loss: 0.1" &&
	 test "$(tally lookup 1 scalar.loss)" = 0.1)
'

test_expect_success 'importing again skips the ids present and says so' '
	(cd other && tally import ../runs.tar.gz >out 2>err) &&
	grep -q "^Imported 0 runs" other/out &&
	test "$(grep -c "a run with this id is here already" other/err)" = 3
'

test_expect_success '.tar, .zip and directories work too; an existing file is not overwritten' '
	tally export 1 2 runs.tar >/dev/null && tally export 1 runs.zip >/dev/null && tally export 1 2 exported >/dev/null &&
	test -d exported/$(ids | head -n 1)/.tally &&
	test_expect_code 128 tally export 1 runs.zip 2>err &&
	grep -q "exists already" err &&
	for src in runs.tar runs.zip exported; do
		rm -rf t && mkdir t && (cd t && tally import ../$src >/dev/null) &&
		test "$(run_count t/runs)" -ge 1 || return 1
	done &&
	id=$(ids | head -n 1) &&
	rm -rf t && mkdir t && (cd t && tally import "../runs/$id" >out && grep -q "^Imported 1 run " out) &&
	test -f t/runs/$id/.tally/run.json
'

test_expect_success 'links to project entries are left out of an export' '
	id=$(ids | head -n 1) &&
	test -L runs/$id/home &&
	tar tzf runs.tar.gz >list &&
	! grep -q "^$id/home" list &&
	grep -q "^$id/model.bin$" list
'

test_expect_success 'query options select what to export; a running run is refused' '
	tally export --label "best one" best.tar.gz >/dev/null &&
	test "$(tar tzf best.tar.gz | cut -d/ -f1 | sort -u | wc -l)" = 1 &&
	printf "sleep 30\n" >long.sh &&
	tally run -b long.sh >out &&
	id=$(sed -n "s/^Run \([^ ]*\) started.*/\1/p" out) &&
	test_expect_code 128 tally export "$id" live.tar.gz 2>err &&
	grep -q "still running" err && ! test -e live.tar.gz && ! test -e live.tar.gz.partial &&
	tally stop -y "$id" >/dev/null
'

# hostile NAME: write a .tar.gz named NAME.tar.gz holding one good run (from the
# export in clean/) plus one hostile entry (python's tarfile)
hostile() {
	"$PYTHON" - "$1" "$(ls clean)" <<-\PY
	import io, os, sys, tarfile
	kind, good = sys.argv[1], sys.argv[2]
	with tarfile.open(kind + ".tar.gz", "w:gz") as t:
	    t.add("clean/" + good, arcname=good)
	    def entry(name, type=tarfile.REGTYPE, data=b"evil", **kw):
	        i = tarfile.TarInfo(name); i.type = type; i.size = len(data) if type == tarfile.REGTYPE else 0
	        for k, v in kw.items(): setattr(i, k, v)
	        t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)
	    run = "2026-01-01T00-00-00Z-hostle/"
	    if kind == "absolute": entry("/tmp/tally-escaped-" + str(os.getpid()))
	    if kind == "dotdot": entry(run + "../../escaped")
	    if kind == "symlink":
	        entry(run + "link", tarfile.SYMTYPE, linkname="../../")
	        entry(run + "link/escaped")
	    if kind == "abslink": entry(run + "link", tarfile.SYMTYPE, linkname="/etc")
	    if kind == "hardlink": entry(run + "passwd", tarfile.LNKTYPE, linkname="/etc/passwd")
	    if kind == "hardlink2": entry(run + "other", tarfile.LNKTYPE, linkname=good + "/.tally/run.json")
	    if kind == "device": entry(run + "null", tarfile.CHRTYPE, devmajor=1, devminor=3)
	    if kind == "fifo": entry(run + "pipe", tarfile.FIFOTYPE)
	    if kind == "notarun": entry(run + "just-a-file")
	    if kind == "uplink":  # a link that stays inside only by text: refused, as any link with ..
	        entry(run + "d/s", tarfile.SYMTYPE, linkname="..")
	        entry(run + "esc", tarfile.SYMTYPE, linkname="d/s/../../etc")
	    if kind == "idmismatch":  # a run whose run.json names another id
	        import json
	        meta = json.dumps({"format": 1, "id": good, "status": "completed"}).encode()
	        entry(run + ".tally/run.json", data=meta)
	    if kind == "badname":  # a name that is another run's id, to be taken for it
	        import json
	        meta = json.dumps({"format": 1, "id": run.rstrip("/"), "status": "completed", "name": good}).encode()
	        entry(run + ".tally/run.json", data=meta)
	PY
}

test_expect_success 'a good archive made the same way imports (so what follows tests the hostile entries)' '
	tally export 1 clean >/dev/null &&
	hostile good &&
	rm -rf victim && mkdir victim &&
	(cd victim && tally import ../good.tar.gz >/dev/null) &&
	test "$(run_count victim/runs)" = 1
'

test_expect_success 'hostile archives are refused, and nothing of them is imported' '
	for kind in absolute dotdot symlink abslink hardlink hardlink2 device fifo notarun uplink idmismatch badname; do
		hostile $kind &&
		rm -rf victim && mkdir victim &&
		(cd victim && test_expect_code 128 tally import ../$kind.tar.gz 2>err) || { echo "accepted: $kind"; return 1; }
		grep -q "^tally: .*nothing was imported$" victim/err || { cat victim/err; return 1; }
		test "$(run_count victim/runs)" = 0 || return 1
		! ls -a victim/runs | grep -q "^.import" || return 1
		! test -e escaped && ! test -e victim/escaped || return 1
	done &&
	! ls /tmp/tally-escaped-* 2>/dev/null
'

test_expect_success 'links and hard links within a run, and a runs directory reached through a link, are fine' '
	"$PYTHON" - "$(ls clean)" <<-\PY &&
	import io, sys, tarfile
	good = sys.argv[1]
	with tarfile.open("inner.tar", "w") as t:
	    t.add("clean/" + good, arcname=good)
	    i = tarfile.TarInfo(good + "/latest.json"); i.type = tarfile.SYMTYPE; i.linkname = ".tally/run.json"; t.addfile(i)
	    i = tarfile.TarInfo(good + "/same.json"); i.type = tarfile.LNKTYPE; i.linkname = good + "/.tally/run.json"; t.addfile(i)
	PY
	rm -rf victim real && mkdir victim real && ln -s ../real victim/runs &&
	(cd victim && tally import ../inner.tar >out) &&
	grep -q "^Imported 1 run" victim/out &&
	id=$(ls clean) &&
	test "$(readlink real/$id/latest.json)" = .tally/run.json &&
	cmp real/$id/same.json real/$id/.tally/run.json
'

test_expect_success 'a FIFO the script made is left out of an export, which then imports' '
	id=$(ids --label "best one") &&
	mkfifo "runs/$id/ctl.fifo" &&
	tally export "$id" withfifo.tar.gz >/dev/null &&
	! tar tzf withfifo.tar.gz | grep -q ctl.fifo &&
	rm -rf victim && mkdir victim && (cd victim && tally import ../withfifo.tar.gz >/dev/null) &&
	rm "runs/$id/ctl.fifo"
'

test_expect_success 'export and copy never write into a run being copied, nor through a planted file' '
	id=$(ids | head -n 1) &&
	test_expect_code 128 tally export 1 "runs/$id/inside" 2>err &&
	grep -q "cannot be copied into itself" err &&
	test_expect_code 128 tally copy 1 --to "runs/$id/sub" 2>err &&
	grep -q "cannot be copied into itself" err &&
	test_expect_code 128 tally export 1 "runs/$id/x.tar.gz" &&
	! test -e "runs/$id/x.tar.gz" &&
	echo precious >keep.txt && mkdir planted && ln -s ../keep.txt planted/.partial-mine &&
	ln -s ../keep.txt planted/x.tar.gz.partial &&
	tally copy 1 --to planted --rename mine >/dev/null &&
	tally export 1 planted/x.tar.gz >/dev/null &&
	test "$(cat keep.txt)" = precious && test -L planted/.partial-mine && test -L planted/x.tar.gz.partial &&
	tar tzf planted/x.tar.gz >/dev/null
'

test_expect_success 'archive bombs: over --max-size, and a huge ratio of unpacked to packed bytes' '
	"$PYTHON" - "$(ls clean)" <<-\PY &&
	import io, sys, tarfile
	good = sys.argv[1]
	class Zeros(io.RawIOBase):
	    def __init__(self, n): self.left = n
	    def readable(self): return True
	    def readinto(self, b):
	        n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
	for name, size in (("big", 3 << 20), ("bomb", 300 << 20)):
	    with tarfile.open(name + ".tar.gz", "w:gz", compresslevel=9) as t:
	        t.add("clean/" + good, arcname=good)
	        i = tarfile.TarInfo(good + "/zeros"); i.size = size
	        t.addfile(i, io.BufferedReader(Zeros(size)))
	PY
	rm -rf victim && mkdir victim && cd victim &&
	test_expect_code 128 tally import --max-size 1M ../big.tar.gz 2>err &&
	grep -q "more than 1048576 bytes" err &&
	tally import --max-size 4M ../big.tar.gz >/dev/null &&
	rm -rf runs &&
	test_expect_code 128 tally import ../bomb.tar.gz 2>err &&
	grep -q "archive bomb" err &&
	test "$(run_count)" = 0 &&
	test_expect_code 128 tally import --max-files 3 ../big.tar.gz 2>err &&
	grep -q "one entry too many" err
'

test_expect_success 'garbage and missing input: one clear line, nothing imported' '
	head -c 5000 /dev/urandom >garbage.tar.gz &&
	rm -rf victim && mkdir victim && cd victim &&
	test_expect_code 128 tally import ../garbage.tar.gz 2>err &&
	grep "^tally: cannot read .*garbage.tar.gz.* — give a .tar.gz" err &&
	test_expect_code 128 tally import ../nothing-here.tar.gz &&
	test_expect_code 129 tally import &&
	test_expect_code 129 tally import --max-size lots x &&
	test "$(run_count)" = 0
'

test_expect_success 'copy: whole runs (tfruns copy_run), renamed, and files only (copy_run_files)' '
	id=$(ids --label "best one") &&
	tally copy --label "best one" --to saved >/dev/null &&
	test -f saved/$id/.tally/run.json && test -f saved/$id/model.bin &&
	tally copy "$id" --to saved --rename best >/dev/null &&
	test -f saved/best/.tally/run.json &&
	tally copy "$id" --to files --files-only >out &&
	grep -q "^Copied the files of 1 run to files.$" out &&
	test -f files/$id/model.bin && test -f files/$id/plots/p.png &&
	! test -e files/$id/.tally && ! test -e files/$id/train.sh && ! test -e files/$id/data && ! test -e files/$id/home &&
	test_expect_code 128 tally copy "$id" --to saved 2>err &&
	grep -q "exists already" err &&
	test_expect_code 129 tally copy 1 2 --to x --rename one &&
	test_expect_code 129 tally copy 1 &&
	test_expect_code 128 tally copy "$id" --to saved --rename ../up 2>err &&
	grep -q "plain name" err && ! test -e up
'

test_done
