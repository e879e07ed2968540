#!/usr/bin/env bash
# Runs one pytest file with its own KEEL_TEST_TMP and removes that folder when
# the file is done, pass or fail, so `make test` holds at most the files of the
# tests running at that moment (the decoder parity tests write real-width
# models of hundreds of MB). KEEL_KEEP_TEST_TMP=1 keeps it for debugging.
#   run_pytest.sh <tmp dir> <python> <test file>
set -u
tmp=$1 python=$2 file=$3
rm -rf "$tmp"
mkdir -p "$tmp"
KEEL_TEST_TMP=$tmp "$python" -m pytest -q -p no:cacheprovider "$file"
rc=$?
[ "${KEEL_KEEP_TEST_TMP:-0}" = 1 ] || rm -rf "$tmp"
exit $rc
