#!/bin/sh
# Counts repeated code in the committed tree (HEAD), leaving out generated code
# (protobuf modules, generated service clients, generated error reason names), the proto
# folder and vendored web assets. Usage: scripts/dupcount.sh [extra duplicates options]
set -eu
repo=$(git rev-parse --show-toplevel)
dir=${DUPCOUNT_DIR:-/tmp/dup-shape}
rm -rf "$dir"
mkdir -p "$dir"
git -C "$repo" archive HEAD | tar -x -C "$dir"
cd "$dir"
find . \( -name '*_pb2*' -o -name '*_service_client.py' -o -name 'error_reason_names.py' \) -delete
rm -rf proto services/web/static/vendor
duplicates --most 200 --seconds 120 "$@"
