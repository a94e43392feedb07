#!/usr/bin/env bash
# Image test: builds the real Dockerfile and runs the image the way Airbyte does, then builds
# deliberately broken variants of it and checks that each mistake is caught.
#
#   integration_tests/image/test.sh            # as root; installs podman/buildah with apt-get if missing
#   SKIP_IMAGE_TEST=1 integration_tests/image/test.sh   # exit 0 with a notice where it cannot run
#
# It needs no registry and no network beyond loopback:
# - The base images are local stand-ins passed as the Dockerfile's build arguments: a runtime
#   made from Debian's static BusyBox (runtime-standin.Containerfile), and a Go toolchain made
#   from this machine's Go (go env GOROOT) on top of it.
# - Go modules: the Go stand-in carries a module cache with exactly the modules of go.sum,
#   copied out of this machine's cache (GOPROXY=file://…/cache/download), and sets
#   GOPROXY=off, so the Dockerfile's own `go mod download` and `go build` work offline.
#   Nothing is vendored into git.
# - podman builds with --isolation=chroot. `podman run` does not work on these machines, so
#   the image is run with `buildah run --isolation chroot`, which shares the host's network:
#   the connector reaches the emulator (cmd/ouraemu) on 127.0.0.1.
#
# What a good image must do (check_image below): labels io.airbyte.name/io.airbyte.version equal
# to dockerRepository/dockerImageTag in metadata.yaml; AIRBYTE_ENTRYPOINT equal to the
# ENTRYPOINT, with absolute paths; /bin/sh present; default user airbyte with uid 1000; /airbyte
# and /tmp writable by it; a CA bundle; the version stamped into the binary; and, run as
# uid 1000 through sh -c 'eval "$AIRBYTE_ENTRYPOINT …"' as the Kubernetes launcher does, spec,
# check, discover and a read of every stream from the emulator.
#
# The stand-in base images are kept (tagged localhost/source-oura-image-test/*, keyed by their
# content) so the next run starts faster; the connector images and the build layers of this run
# are removed at the end (KEEP_BUILD_CACHE=1 keeps the layers).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/integration_tests/image"
prefix=localhost/source-oura-image-test

say() { printf 'image test [%3ds]: %s\n' "$SECONDS" "$*"; }
die() { printf 'image test: FAIL: %s\n' "$*" >&2; exit 1; }

# cannot_run stops when the machine cannot run the test: a pass only when asked to skip.
cannot_run() {
  if [ "${SKIP_IMAGE_TEST:-}" = 1 ]; then
    say "SKIPPED: $* (SKIP_IMAGE_TEST=1)"
    exit 0
  fi
  die "$* — run as root on a Debian machine, or set SKIP_IMAGE_TEST=1 to skip the image test"
}

# --- tools ---------------------------------------------------------------------------------

static_busybox() { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; }

[ "$(id -u)" = 0 ] || cannot_run "podman builds here need root"
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
static_busybox || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || cannot_run "${missing[*]} missing and no apt-get to install them"
  say "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  static_busybox || die "busybox-static did not give a static /bin/busybox"
fi
command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || die "no go on PATH"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle for the Go stand-in image"

# --- scratch space and cleanup ---------------------------------------------------------------

work=$(mktemp -d /tmp/source-oura-image-test.XXXXXX)
containers=()
images=()
emu_pid=
cleanup() {
  local c i
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  for i in "${images[@]}"; do podman rmi -f "$i" >/dev/null 2>&1 || true; done
  # The layers this run's builds left behind (each about the size of the Go stand-in): they
  # only help a rerun of the very same sources. KEEP_BUILD_CACHE=1 keeps them.
  if [ "${KEEP_BUILD_CACHE:-}" != 1 ] && [ -s "$work/images.before" ]; then
    podman images -a -q --no-trunc | sed "s/^sha256://" | sort -u >"$work/images.after"
    comm -13 "$work/images.before" "$work/images.after" | grep -v -x -f "$work/standins" |
      xargs -r podman rmi -f >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- stand-in base images ------------------------------------------------------------------

key() { sha256sum | cut -c1-16; }

runtime_image="$prefix/runtime:$(key </bin/busybox)"
if ! podman image exists "$runtime_image"; then
  say "building the runtime stand-in $runtime_image"
  mkdir -p "$work/runtime"
  cp /bin/busybox "$work/runtime/busybox"
  podman build --isolation=chroot --pull=never -q -t "$runtime_image" \
    -f "$here/runtime-standin.Containerfile" "$work/runtime" >/dev/null
fi

goroot=$(go env GOROOT)
go_image="$prefix/go:$( (go version; cat "$repo/go.sum"; echo "$runtime_image") | key)"
if ! podman image exists "$go_image"; then
  say "building the Go stand-in $go_image from $goroot"
  # A module cache holding just this module's dependencies, made from the host's cache. The
  # first go mod download fills the host cache (from the module proxy) only if it lacks them.
  (cd "$repo" && go mod download)
  hostcache=$(go env GOMODCACHE)
  (cd "$repo" && GOMODCACHE="$work/gomodcache" GOPROXY="file://$hostcache/cache/download" GOFLAGS=-modcacherw \
    go mod download)
  c=$(buildah from --pull-never "$runtime_image")
  containers+=("$c")
  buildah copy --quiet "$c" "$goroot" /usr/local/go >/dev/null
  buildah copy --quiet "$c" "$work/gomodcache" /go/pkg/mod >/dev/null
  buildah copy --quiet "$c" "$ca_bundle" /etc/ssl/certs/ca-certificates.crt >/dev/null
  buildah config \
    --env PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env GOPATH=/go --env GOPROXY=off --env GOTOOLCHAIN=local --env HOME=/root \
    --workingdir /go "$c"
  buildah commit --quiet "$c" "$go_image" >/dev/null
fi

podman image inspect --format '{{.Id}}' "$runtime_image" "$go_image" >"$work/standins"
podman images -a -q --no-trunc | sed "s/^sha256://" | sort -u >"$work/images.before"

# --- the emulator ----------------------------------------------------------------------------

say "starting the Oura emulator"
(cd "$repo" && go build -o "$work/ouraemu" ./cmd/ouraemu)
"$work/ouraemu" --addr 127.0.0.1:0 --days 30 --config-out "$work/emu-config.json" >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do
  [ -s "$work/emu-config.json" ] && break
  kill -0 "$emu_pid" 2>/dev/null || die "the emulator stopped: $(cat "$work/emu.log")"
  sleep 0.1
done
[ -s "$work/emu-config.json" ] || die "the emulator wrote no config"

# --- what the image must match ----------------------------------------------------------------

meta() { sed -n "s/^  $1: *//p" "$repo/metadata.yaml" | tr -d "\"'"; }
want_name=$(meta dockerRepository)
want_version=$(meta dockerImageTag)
if [ -z "$want_name" ] || [ -z "$want_version" ]; then
  die "metadata.yaml has no dockerRepository or dockerImageTag"
fi
catalog="$repo/integration_tests/configured_catalog.json"
stream_count=$(grep -o '"sync_mode"' "$catalog" | wc -l)

# --- checking an image ---------------------------------------------------------------------------

# check_image IMAGE prints one "FAIL [rule]: …" line per broken requirement and returns non-zero
# when there is any.
check_image() {
  local img=$1 failures=0 c dir out code
  fail() { printf '  FAIL [%s]: %s\n' "$1" "$2"; failures=$((failures + 1)); }
  inspect() { podman image inspect --format "$1" "$img"; }

  local name version
  name=$(inspect '{{index .Config.Labels "io.airbyte.name"}}')
  version=$(inspect '{{index .Config.Labels "io.airbyte.version"}}')
  [ "$name" = "$want_name" ] || fail labels "io.airbyte.name is '$name', metadata.yaml dockerRepository is '$want_name'"
  [ "$version" = "$want_version" ] || fail labels "io.airbyte.version is '$version', metadata.yaml dockerImageTag is '$want_version'"

  local entrypoint env_entry
  entrypoint=$(inspect '{{range .Config.Entrypoint}}{{.}} {{end}}' | sed 's/ $//')
  env_entry=$(inspect '{{range .Config.Env}}{{println .}}{{end}}' | sed -n 's/^AIRBYTE_ENTRYPOINT=//p')
  [ -n "$entrypoint" ] || fail entrypoint "the image has no ENTRYPOINT"
  [ -n "$env_entry" ] || fail entrypoint-env "AIRBYTE_ENTRYPOINT is not set"
  [ "$env_entry" = "$entrypoint" ] || fail entrypoint-env "AIRBYTE_ENTRYPOINT is '$env_entry', ENTRYPOINT is '$entrypoint'"
  case "$env_entry" in /*) ;; *) fail entrypoint-env "AIRBYTE_ENTRYPOINT '$env_entry' is not an absolute path" ;; esac

  local user
  user=$(inspect '{{.Config.User}}')
  [ "$user" = airbyte ] || fail user "the default user is '$user', not airbyte"

  c=$(buildah from --pull-never "$img")
  containers+=("$c")
  run() { buildah run --isolation chroot "$@"; }

  out=$(run "$c" -- id -u 2>&1) || true
  [ "$out" = 1000 ] || fail user "the default user's uid is '$out', not 1000"
  out=$(run "$c" -- id -un 2>&1) || true
  [ "$out" = airbyte ] || fail user "uid 1000 is named '$out', not airbyte"
  run "$c" -- /bin/sh -c 'exit 0' >/dev/null 2>&1 || fail shell "/bin/sh does not run"
  for d in /airbyte /tmp; do
    run --user 1000:1000 "$c" -- touch "$d/.probe" >/dev/null 2>&1 || fail airbyte-dir "$d is not writable by uid 1000"
  done
  run "$c" -- test -s /etc/ssl/certs/ca-certificates.crt >/dev/null 2>&1 ||
    fail ca-bundle "no CA bundle at /etc/ssl/certs/ca-certificates.crt; HTTPS to Oura would fail"
  out=$(run "$c" -- "${entrypoint%% *}" --version 2>&1) || true
  [ "$out" = "source-oura $want_version" ] || fail version "--version printed '$out', want 'source-oura $want_version'"

  # The commands as the Kubernetes launcher runs them: uid 1000, sh -c with eval, the config
  # in the working directory and stdout redirected to a file there.
  dir=$(mktemp -d "$work/run.XXXXXX")
  cp "$work/emu-config.json" "$dir/connectionConfiguration.json"
  cp "$work/emu-config.json" "$dir/connectorConfig.json"
  cp "$catalog" "$dir/catalog.json"
  chown -R 1000:1000 "$dir"
  launch() { # launch MOUNT OUTPUT ARGS…
    local mount=$1 output=$2
    shift 2
    # shellcheck disable=SC2016 # expanded by the container's shell, as the launcher's script is
    run --user 1000:1000 --workingdir "$mount" -v "$dir:$mount" "$c" -- sh -c '
      if [ -z "$AIRBYTE_ENTRYPOINT" ]; then
        echo "Entrypoint was not set! AIRBYTE_ENTRYPOINT must be set in the container."
        exit 127
      fi
      eval "$AIRBYTE_ENTRYPOINT $*" > '"$mount/$output"' 2> '"$mount/$output.err"'' launcher "$@" \
      >"$work/launch.log" 2>&1
  }
  count() { grep -c "$1" "$2" 2>/dev/null || true; }

  code=0; launch /config jobOutput.json spec || code=$?
  if [ "$code" != 0 ] || [ "$(count '"type":"SPEC"' "$dir/jobOutput.json")" != 1 ]; then
    fail platform "spec (exit $code) did not print one SPEC: $(head -c 300 "$dir/jobOutput.json" "$work/launch.log" 2>/dev/null)"
  fi
  code=0; launch /config jobOutput.json check --config /config/connectionConfiguration.json || code=$?
  if [ "$code" != 0 ] || [ "$(count '"status":"SUCCEEDED"' "$dir/jobOutput.json")" != 1 ]; then
    fail platform "check (exit $code) did not succeed: $(head -c 300 "$dir/jobOutput.json" "$work/launch.log" 2>/dev/null)"
  fi
  code=0; launch /config jobOutput.json discover --config /config/connectionConfiguration.json || code=$?
  if [ "$code" != 0 ] || [ "$(count '"type":"CATALOG"' "$dir/jobOutput.json")" != 1 ] ||
    [ "$(grep -o '"supported_sync_modes"' "$dir/jobOutput.json" | wc -l)" != "$stream_count" ]; then
    fail platform "discover (exit $code) did not print a catalog of $stream_count streams"
  fi
  code=0; launch /source stdout read --config /source/connectorConfig.json --catalog /source/catalog.json || code=$?
  local records complete
  records=$(count '"type":"RECORD"' "$dir/stdout")
  complete=$(count '"status":"COMPLETE"' "$dir/stdout")
  if [ "$code" != 0 ] || [ "${records:-0}" = 0 ] || [ "$complete" != "$stream_count" ] || grep -q '"type":"ERROR"' "$dir/stdout" 2>/dev/null; then
    fail platform "read (exit $code): $records records, $complete of $stream_count streams COMPLETE: $(grep -m1 '"type":"ERROR"' "$dir/stdout" 2>/dev/null | head -c 300; head -c 300 "$work/launch.log")"
  fi
  [ "$failures" = 0 ]
}

# --- the real image ------------------------------------------------------------------------------

# The build context is a snapshot of the work tree (its .dockerignore included), so that every
# build below sees the same files and the variants reuse the Go build from the layer cache.
mkdir -p "$work/context"
tar -C "$repo" --exclude=./.git -cf - . | tar -C "$work/context" -xf -

build() { # build TAG DOCKERFILE
  images+=("$1")
  podman build --isolation=chroot --pull=never --layers \
    --build-arg GO_IMAGE="$go_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
    -t "$1" -f "$2" "$work/context" >"$work/build.log" 2>&1
}

say "building the Dockerfile"
build "$prefix/connector:test" "$repo/Dockerfile" || { cat "$work/build.log" >&2; die "the Dockerfile does not build"; }
say "checking the image"
if ! check_image "$prefix/connector:test"; then
  die "the image does not meet Airbyte's requirements (see above)"
fi
say "the image passes: labels, AIRBYTE_ENTRYPOINT, /bin/sh, user airbyte (uid 1000), writable /airbyte, spec, check, discover, read"

# --- the test of the test --------------------------------------------------------------------------

# Each variant breaks one requirement of the real Dockerfile; check_image must fail on it, and
# for the expected rule.
variants=(
  "wrong-label|labels|s/io.airbyte.version=\"[^\"]*\"/io.airbyte.version=\"0.0.0-wrong\"/"
  "no-entrypoint-env|entrypoint-env|/^ENV AIRBYTE_ENTRYPOINT=/d"
  "relative-entrypoint-env|entrypoint-env|s#^ENV AIRBYTE_ENTRYPOINT=.*#ENV AIRBYTE_ENTRYPOINT=\"source-oura\"#"
  "root-user|user|/^USER airbyte/d"
  "uid-1001|user|s/airbyte:x:1000:1000:/airbyte:x:1001:1000:/"
  "no-shell|shell|/^LABEL io.airbyte.name/i RUN rm /bin/sh"
  "airbyte-dir-root|airbyte-dir|s#chown 1000:1000 /airbyte#chown 0:0 /airbyte#"
  "no-ca-bundle|ca-bundle|/^COPY --from=build \\/out\\/certs/d"
)
mkdir -p "$work/variants"
for v in "${variants[@]}"; do
  IFS='|' read -r vname rule script <<<"$v"
  df="$work/variants/$vname.Dockerfile"
  sed "$script" "$repo/Dockerfile" >"$df"
  cmp -s "$df" "$repo/Dockerfile" && die "variant $vname did not change the Dockerfile (sed: $script)"
  build "$prefix/variant:$vname" "$df" || { cat "$work/build.log" >&2; die "variant $vname does not build"; }
  if check_image "$prefix/variant:$vname" >"$work/variants/$vname.log" 2>&1; then
    die "variant $vname passed the checks; the [$rule] check catches nothing"
  fi
  grep -q "FAIL \[$rule\]" "$work/variants/$vname.log" ||
    die "variant $vname failed, but not the [$rule] check: $(cat "$work/variants/$vname.log")"
  say "variant $vname is caught: $(grep -m1 "FAIL \[$rule\]" "$work/variants/$vname.log" | sed 's/^ *//')"
done
say "PASS"
# The closing line CI reads: the real image plus each broken variant caught.
echo "image-test: $((1 + ${#variants[@]})) passed, 0 failed"
