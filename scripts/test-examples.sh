#!/usr/bin/env bash
# The library as an adopter gets it: `npm pack` at the root, then each host app in examples/
# (Express/CommonJS and Fastify/ESM) installs that tarball afresh, compiles with tsc and runs its
# e2e tests on a PostgreSQL database of its own.
#
#   scripts/test-examples.sh                  every example
#   scripts/test-examples.sh fastify-host     only these
#
# EXAMPLES_DATABASE_URL names the PostgreSQL server (any database on it; each example gets a new
# one, dropped afterwards). Default: postgres://postgres@127.0.0.1:5432/postgres.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
PACK_DIR=.artifacts/pack
TARBALL=$PACK_DIR/nest-token-auth.tgz
ADMIN_URL=${EXAMPLES_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}

# Installed with the service, never with the library.
SERVICE_ONLY=(@electric-sql/pglite nestjs-pino pino helmet ioredis @nestjs/throttler
  @nestjs/terminus @nestjs/config @fastify/static)
# Installed once: a second copy of Nest or TypeORM breaks class identity (DI tokens, entities).
SINGLE_COPY=(@nestjs/common @nestjs/core @nestjs/typeorm typeorm)

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# Copies of a package anywhere in this directory's node_modules tree.
copies() {
  find node_modules -path "*node_modules/$1/package.json" 2>/dev/null | wc -l
}

# One example, in a shell of its own (`set -e` holds there; it would not inside `if f; then`).
run_example() {
  local name=$1 started=$SECONDS
  local dir=$ROOT/examples/$name
  local db="nta_example_${name//-/_}_$$"
  local log=$ROOT/.artifacts/examples/$name.log
  [[ -f $dir/package.json ]] || fail "$name: no examples/$name/package.json"
  mkdir -p "$(dirname "$log")"
  cd "$dir"

  printf '\n--- %s: npm install (the tarball, no lockfile)\n' "$name"
  rm -rf node_modules package-lock.json dist
  # No lockfile: versions resolve afresh (from the npm cache's metadata when it has them).
  npm install --no-audit --no-fund --loglevel=error --prefer-offline
  local install_s=$((SECONDS - started))
  [[ -f node_modules/nest-token-auth/dist/lib/index.js && ! -L node_modules/nest-token-auth ]] ||
    fail "$name: nest-token-auth is not installed from the tarball"

  printf -- '--- %s: installed packages\n' "$name"
  # None of the service's packages comes with the library. One the host's own dependencies bring
  # (Fastify's logger, pino, on the Fastify host) may be there, but not through nest-token-auth.
  for package in "${SERVICE_ONLY[@]}"; do
    [[ $(copies "$package") -eq 0 ]] && continue
    if npm explain "$package" | grep -q 'from nest-token-auth@'; then
      fail "$name: nest-token-auth brings $package (service-only): $(npm explain "$package")"
    fi
    echo "$package: brought by the host's own dependencies, not by nest-token-auth"
  done
  # Fastify, and its Nest adapter, on an Express host: by no path at all.
  if [[ $name == express-host ]]; then
    for package in fastify @nestjs/platform-fastify; do
      [[ $(copies "$package") -eq 0 ]] || fail "$name: $package is installed on the Express host"
    done
  fi
  for package in "${SINGLE_COPY[@]}"; do
    [[ $(copies "$package") -eq 1 ]] || fail "$name: $(copies "$package") copies of $package"
  done
  # The peers resolve to the host's copies, never to ones of the library's own.
  for package in @nestjs typeorm pg rxjs reflect-metadata; do
    [[ ! -e node_modules/nest-token-auth/node_modules/$package ]] ||
      fail "$name: nest-token-auth has its own copy of $package"
  done
  echo "no service-only package through nest-token-auth; one copy each of ${SINGLE_COPY[*]}"

  printf -- '--- %s: tsc -p tsconfig.json\n' "$name"
  local tsc_started=$SECONDS
  ./node_modules/.bin/tsc -p tsconfig.json
  local tsc_s=$((SECONDS - tsc_started)) tests_started=$SECONDS

  printf -- '--- %s: e2e tests on PostgreSQL (database %s)\n' "$name" "$db"
  psql -q "$ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
  # shellcheck disable=SC2064 # expanded now: the names are locals
  trap "psql -q '$ADMIN_URL' -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null" EXIT
  local status=0
  DATABASE_URL="${ADMIN_URL%/*}/$db" node --test --test-reporter=spec --test-concurrency=1 \
    dist/test/*.e2e-spec.js 2>&1 | tee "$log" || status=$?
  local passed failed
  passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log")
  failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log")
  [[ $status -eq 0 && ${failed:-1} -eq 0 && ${passed:-0} -gt 0 ]] ||
    fail "$name: e2e tests (${passed:-?} passed, ${failed:-?} failed; log $log)"
  echo "$name: ok, ${passed} tests passed in $((SECONDS - started)) s" \
    "(install ${install_s} s, tsc ${tsc_s} s, tests $((SECONDS - tests_started)) s)"
}

if [[ ${1:-} == --one ]]; then
  run_example "$2"
  exit 0
fi

started=$SECONDS
examples=("$@")
if [[ ${#examples[@]} -eq 0 ]]; then
  for dir in examples/*-host; do examples+=("$(basename "$dir")"); done
fi

printf -- '--- npm pack -> %s\n' "$TARBALL"
rm -rf "$PACK_DIR"
mkdir -p "$PACK_DIR" .artifacts/examples
# prepack builds dist/lib and dist/client; its output is kept for a failure.
npm pack --pack-destination "$PACK_DIR" >.artifacts/examples/pack.log 2>&1 ||
  { cat .artifacts/examples/pack.log; fail 'npm pack'; }
packed=("$PACK_DIR"/nest-token-auth-*.tgz)
mv "${packed[0]}" "$TARBALL"

# What the tarball holds: every `exports` target, and nothing of the service or the repository.
tar -tzf "$TARBALL" | sed 's|^package/||' | sort >"$PACK_DIR/files.txt"
tar -xzOf "$TARBALL" package/package.json | node -e '
  const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const files = new Set(require("fs").readFileSync(process.argv[1], "utf8").split("\n"));
  const targets = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry).flatMap(targets));
  const wanted = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap(targets)]
    .filter((target) => target !== "./package.json")
    .map((target) => target.replace(/^\.\//, ""));
  wanted.push("README.md", "LICENSE");
  const serviceOnly = process.argv[2].split(" ");
  const declared = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
  const leaked = declared.filter((name) => serviceOnly.includes(name));
  if (leaked.length) {
    console.error(`tarball: package.json depends on service-only ${leaked.join(", ")}`);
    process.exit(1);
  }
  const missing = wanted.filter((file) => !files.has(file));
  const stray = [...files].filter((file) =>
    /^(src|test|bench|examples|scripts|client|\.data|\.artifacts|dist\/(src|public|bench|test))\//.test(file));
  if (missing.length || stray.length) {
    console.error(`tarball: missing ${missing.join(", ") || "nothing"}; stray ${stray.slice(0, 10).join(", ") || "nothing"}`);
    process.exit(1);
  }
  console.log(`tarball: ${files.size - 1} files, every exports target present, no src/test/bench/dist/src/dist/public/.data`);
' "$PACK_DIR/files.txt" "${SERVICE_ONLY[*]} fastify @nestjs/platform-fastify" || fail "tarball contents (list in $PACK_DIR/files.txt)"

failed=()
for name in "${examples[@]}"; do
  bash "$0" --one "$name" || failed+=("$name")
done

echo
for name in "${examples[@]}"; do
  if [[ " ${failed[*]} " == *" $name "* ]]; then echo "example $name: FAILED"; else echo "example $name: ok"; fi
done
echo "examples: ${#examples[@]} run, ${#failed[@]} failed, $((SECONDS - started)) s"
[[ ${#failed[@]} -eq 0 ]]
