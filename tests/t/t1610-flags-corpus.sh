#!/usr/bin/env bash
# Flag detection on a corpus of realistic scripts (tests/t/flags-corpus/):
# tfruns and Guild-style R, argparse and click Python, module-level globals,
# CRLF line endings and tricky literals.  Each script's `tally flags` table
# must match its .expected file, reviewed by hand when it was written.
. "$(dirname "$0")/test-lib.sh"

corpus="$TEST_DIRECTORY/flags-corpus"

for script in "$corpus"/*; do
	case $script in *.expected) continue ;; esac
	name=${script##*/}
	test_expect_success "tally flags $name" '
		cp "$corpus/$name" . &&
		tally flags "$name" >actual 2>&1 &&
		test_cmp "$corpus/$name.expected" actual
	'
done

test_expect_success 'every corpus script has its expected table' '
	for script in "$corpus"/*; do
		case $script in *.expected) continue ;; esac
		test -f "$script.expected" || return 1
	done
'

test_done
