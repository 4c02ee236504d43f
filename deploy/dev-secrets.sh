#!/usr/bin/env bash
# Random secrets for deploy/compose.yaml, written once into deploy/secrets/ (git-ignored). The folder is
# 0700; the files are 0644 because Compose bind-mounts them for the containers' own users to read.
# An existing file is kept, so the database password and the API-key pepper stay those already in use.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir" && chmod 0700 "$dir"
umask 077
new() { [ -s "$dir/$1" ] || printf '%s\n' "$2" > "$dir/$1"; }
new pg-password "$(openssl rand -hex 24)"
new pg-dsn "postgresql://strata:$(cat "$dir/pg-password")@postgres:5432/strata"
new s3-access-key "strata-$(openssl rand -hex 6)"
new s3-secret-key "$(openssl rand -hex 24)"
new api-key-pepper "$(openssl rand -hex 32)"

chmod 0644 "$dir"/pg-password "$dir"/pg-dsn "$dir"/s3-access-key "$dir"/s3-secret-key "$dir"/api-key-pepper
echo "secrets in $dir"
