#!/usr/bin/env bash
# Investigation only, never used by the product or the tests: builds FerretDB v1.24.2 with its
# SQLite `_id` lookups able to use the collection's `_id` index, to measure what FerretDB's full
# scans cost the many-mappings scenario (BENCHMARKS.md, "FerretDB never uses its `_id` index").
#
# v1.24.2 creates the index on `_ferretdb_sjson->"_id"` but looks `_id` up with
# `_ferretdb_sjson->'$._id'`; SQLite matches an expression index only on the same expression, so
# every find, update and delete by `_id` scans the table. The build changes the lookup to the
# index's expression (one line) and prints the binary's path, for FERRETDB_PATH:
#   FERRETDB_PATH=$(bash bench/ferretdb-id-index.sh) npm run bench -- …
set -euo pipefail
version=v1.24.2
cache="${DFS_CACHE_DIR:-$HOME/.cache/dropbox-folder-sync}"
bin="$cache/bin/ferretdb-$version-id-index"
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
export GO111MODULE=on GOFLAGS=-mod=mod CGO_ENABLED=0
module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
cp -r "$module_dir/." "$src"
chmod -R u+w "$src"
echo "$version" > "$src/build/version/version.txt"
meta="$src/internal/backends/sqlite/metadata/metadata.go"
sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$meta"
grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$meta" || { echo "the _id lookup line was not found in $meta" >&2; exit 1; }
mkdir -p "$cache/bin"
(cd "$src" && go build -buildvcs=false -trimpath -o "$bin.tmp" ./cmd/ferretdb)
mv "$bin.tmp" "$bin"
echo "$bin"
