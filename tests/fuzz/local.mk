# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fuzz: libFuzzer targets, built with clang by their run scripts,
# outside automake (tests/run-suite.sh runs them briefly).
EXTRA_DIST += tests/fuzz/fuzz_logparse.c tests/fuzz/run-fuzz.sh \
	tests/fuzz/fuzz_postqueue_json.c tests/fuzz/run-fuzz-postqueue.sh
