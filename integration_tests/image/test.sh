#!/usr/bin/env bash
# Image test: builds the real Dockerfile and runs the image the way Airbyte does, then builds
# deliberately broken variants of it and checks that each mistake is caught.
#
#   integration_tests/image/test.sh            # as root; installs podman/buildah with apt-get if missing
#   SKIP_IMAGE_TEST=1 integration_tests/image/test.sh   # skips it (one line says so), on any machine
#
# CI (.ci/run) always runs it: it unsets SKIP_IMAGE_TEST.
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
# The real image must then also pass, run as Airbyte's custom-connector guide runs pods (uid 1000,
# a read-only root filesystem, no capabilities; `imagetool jail`, because `podman run` cannot set
# its rlimits here):
# - Airbyte's standard tests (airbyte_cdk/test/standard_tests): config at /secrets/config.json,
#   catalog at /secrets/catalog.json, the connection and basic_read scenarios of
#   integration_tests/acceptance-test-config.yml, a basic read of metadata.yaml's suggestedStreams,
#   and a read of a bad catalog (__AIRBYTE__stream_that_does_not_exist, sync mode INVALID) that
#   must end in a TRACE error;
# - an OAuth read twice in a row with each mount the README shows (the folder; the config file
#   alone), each run spending the refresh token the one before saved;
# - a check run as another uid (`--user "$(id -u):$(id -g)"` in the README) on its own 0600 config.
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

# Asked to skip: skip on every machine, before anything is installed or built, and say so.
if [ "${SKIP_IMAGE_TEST:-}" = 1 ]; then
  echo "image test: SKIPPED (SKIP_IMAGE_TEST=1): the image was not built or run"
  exit 0
fi

# cannot_run stops when the machine cannot run the test.
cannot_run() {
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
(cd "$repo" && go build -o "$work/ouraemu" ./cmd/ouraemu && go build -o "$work/imagetool" ./integration_tests/image/imagetool)
tool() { "$work/imagetool" "$@"; }
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
[ "$(cat "$repo/VERSION")" = "$want_version" ] ||
  die "VERSION says '$(cat "$repo/VERSION")', metadata.yaml dockerImageTag says '$want_version'; bump both"
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

# --- the real image as Airbyte's custom-connector guide and standard tests run it ---------------

passed=0
failed=0
ok() { passed=$((passed + 1)); say "ok: $*"; }
bad() { failed=$((failed + 1)); printf 'image test: FAIL: %s\n' "$*" >&2; }
n() { grep -c "$1" "$2" 2>/dev/null || true; }
clip() { tr '\n' ' ' | head -c 400; }

real="$prefix/connector:test"
rc=$(buildah from --pull-never "$real")
containers+=("$rc")
root=$(buildah mount "$rc")
entry=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$real" | sed -n 's/^AIRBYTE_ENTRYPOINT=//p')
image_path=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$real" | sed -n 's/^PATH=//p')
# Mount points for the binds below, made in the container's own layer while it is writable.
mkdir -p "$root/secrets" "$root/proc"
: >"$root/secrets/config.json"
: >"$root/secrets/catalog.json"

# jrun UID:GID "HOST:CTR …" OUT ARGS… runs the connector with ARGS as Airbyte's custom-connector
# guide runs pods: as UID:GID, with the image's root filesystem read-only, no capabilities and
# no_new_privs, HOST binds at CTR. stdout goes to OUT, stderr to OUT.err; returns the exit code.
if why=$(unshare --mount --propagation private sh -c "mount --bind '$root' '$root' && mount -o remount,bind,ro '$root'" 2>&1); then
  jrun() {
    local ids=$1 mounts=$2 out=$3
    shift 3
    # shellcheck disable=SC2016 # expanded by the inner shell
    env -i PATH="${image_path:-/usr/bin:/bin}" HOME=/airbyte AIRBYTE_ENTRYPOINT="$entry" \
      unshare --mount --propagation private sh -c '
        set -e
        root=$1 mounts=$2 tool=$3
        shift 3
        mount --bind "$root" "$root"
        mount -o remount,bind,ro "$root"
        mount -t proc proc "$root/proc"
        for m in $mounts; do mount --bind "${m%%:*}" "$root${m#*:}"; done
        exec "$tool" jail "$root" "$@"
      ' jrun "$root" "$mounts" "$work/imagetool" "$ids" /airbyte "$entry" "$@" </dev/null >"$out" 2>"$out.err"
  }
  say "running the image with a read-only root filesystem, no capabilities, as uid 1000"
else
  # Without the right to make mount namespaces (an unprivileged container, say) the closest is
  # buildah's own run: still uid 1000 and no capabilities, but the root stays writable.
  jrun() {
    local ids=$1 mounts=$2 out=$3 m vs=()
    shift 3
    for m in $mounts; do vs+=(-v "$m"); done
    buildah run --isolation chroot --user "$ids" --cap-drop ALL "${vs[@]}" "$rc" -- "$entry" "$@" </dev/null >"$out" 2>"$out.err"
  }
  say "NOT TESTED: a read-only root filesystem: this machine cannot make a read-only mount namespace ($(echo "$why" | clip)); running as uid 1000 with no capabilities only"
fi

emu_url=$(tool field "$work/emu-config.json" base_url)
sdir="$work/secrets"
# stage CONFIG [CATALOG] makes a fresh secrets folder for uid 1000, as `-v ./secrets:/secrets`.
stage() {
  rm -rf "$sdir"
  mkdir -m 0700 "$sdir"
  cp "$1" "$sdir/config.json"
  [ -z "${2:-}" ] || cp "$2" "$sdir/catalog.json"
  chmod 0600 "$sdir"/*.json
  chown -R 1000:1000 "$sdir"
}

# Airbyte's standard tests: spec, then the scenarios of acceptance-test-config.yml.
code=0; jrun 1000:1000 "" "$work/spec.out" spec || code=$?
if [ "$code" = 0 ] && [ "$(n '"type":"SPEC"' "$work/spec.out")" = 1 ]; then ok "standard tests: spec prints one SPEC"
else bad "standard tests: spec (exit $code): $(clip <"$work/spec.out") $(clip <"$work/spec.out.err")"; fi

tool scenarios "$repo/integration_tests/acceptance-test-config.yml" "$repo/metadata.yaml" >"$work/scenarios"
read -r -a suggested <<<"$(sed -n 's/^stream //p' "$work/scenarios" | tr '\n' ' ')"
[ ${#suggested[@]} -gt 0 ] || die "metadata.yaml has no suggestedStreams for the basic read"
scenario_config() { # the config a scenario names; secrets/ means the emulator's account
  case $1 in
    secrets/*) cp "$work/emu-config.json" "$work/scenario-config.json" ;;
    *) tool local-config "$repo/$1" "$emu_url" >"$work/scenario-config.json" ;;
  esac
}
while read -r kind path status; do
  case $kind in
    connection)
      scenario_config "$path"
      stage "$work/scenario-config.json"
      code=0; jrun 1000:1000 "$sdir:/secrets" "$work/check.out" check --config /secrets/config.json || code=$?
      want=SUCCEEDED
      [ "$status" = failed ] && want=FAILED
      if [ "$(n '"type":"CONNECTION_STATUS"' "$work/check.out")" = 1 ] && grep -q "\"status\":\"$want\"" "$work/check.out" &&
        { [ "$want" = FAILED ] || [ "$code" = 0 ]; }; then
        ok "standard tests: check with $path gives $want"
      else
        bad "standard tests: check with $path (exit $code) did not give one $want: $(clip <"$work/check.out") $(clip <"$work/check.out.err")"
      fi
      ;;
    basic_read)
      scenario_config "$path"
      stage "$work/scenario-config.json"
      code=0; jrun 1000:1000 "$sdir:/secrets" "$work/discover.out" discover --config /secrets/config.json || code=$?
      if [ "$code" = 0 ] && [ "$(n '"type":"CATALOG"' "$work/discover.out")" = 1 ]; then ok "standard tests: discover with $path prints one CATALOG"
      else bad "standard tests: discover with $path (exit $code): $(clip <"$work/discover.out.err")"; continue; fi

      tool catalog "$work/discover.out" "${suggested[@]}" >"$work/basic-catalog.json"
      stage "$work/scenario-config.json" "$work/basic-catalog.json"
      code=0; jrun 1000:1000 "$sdir:/secrets" "$work/read.out" read --config /secrets/config.json --catalog /secrets/catalog.json || code=$?
      empty=()
      for st in "${suggested[@]}"; do
        grep -q "\"type\":\"RECORD\",\"record\":{\"stream\":\"$st\"" "$work/read.out" || empty+=("$st")
      done
      if [ "$code" = 0 ] && [ ${#empty[@]} = 0 ] && ! grep -q '"type":"ERROR"' "$work/read.out"; then
        ok "standard tests: a basic read of ${suggested[*]} (full_refresh, append_dedup) gives records of each"
      else
        bad "standard tests: basic read (exit $code), no records for: ${empty[*]:-none}: $(grep -m1 '"type":"ERROR"' "$work/read.out" | clip) $(tail -c 300 "$work/read.out.err")"
      fi

      printf '%s\n' '{"streams":[{"stream":{"name":"__AIRBYTE__stream_that_does_not_exist","json_schema":{"type":"object","properties":{}},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"INVALID"}]}' >"$work/bad-catalog.json"
      stage "$work/scenario-config.json" "$work/bad-catalog.json"
      code=0; jrun 1000:1000 "$sdir:/secrets" "$work/bad.out" read --config /secrets/config.json --catalog /secrets/catalog.json || code=$?
      if [ "$code" != 0 ] && grep -q '"type":"TRACE","trace":{"type":"ERROR"' "$work/bad.out" && ! grep -q '"type":"RECORD"' "$work/bad.out"; then
        ok "standard tests: a read of a bad catalog ends with a TRACE error (exit $code)"
      else
        bad "standard tests: a read of a bad catalog (exit $code) gave no TRACE error: $(clip <"$work/bad.out")"
      fi
      ;;
  esac
done <"$work/scenarios"

# OAuth twice in a row with each mount the README shows. Oura's refresh tokens work once, so each
# run must save the new one where the next run reads it. Between runs the saved access token is
# dropped, so that the next run has to spend the saved refresh token.
oauth_run() { # oauth_run LABEL CONFIG_FILE MOUNTS
  local before after records code=0
  before=$(tool field "$2" credentials.refresh_token)
  jrun 1000:1000 "$3" "$work/oauth.out" read --config /secrets/config.json --catalog /secrets/catalog.json || code=$?
  after=$(tool field "$2" credentials.refresh_token 2>/dev/null) || after=
  records=$(n '"type":"RECORD"' "$work/oauth.out")
  if [ "$code" = 0 ] && [ "${records:-0}" -gt 0 ] && ! grep -q '"type":"ERROR"' "$work/oauth.out" && [ -n "$after" ] && [ "$after" != "$before" ]; then
    ok "$1: $records records, the new refresh token saved in the mounted config"
  else
    bad "$1 (exit $code): $records records; new refresh token saved: $([ -n "$after" ] && [ "$after" != "$before" ] && echo yes || echo no): $(grep -m1 '"type":"ERROR"' "$work/oauth.out" | clip) $(grep -m1 WARN "$work/oauth.out" | clip) $(tail -c 300 "$work/oauth.out.err")"
  fi
  tool forget-access-token "$2" || true
}
tool oauth-config "$work/emu-config.json" "$work/emu.log" >"$work/oauth-config.json"
stage "$work/oauth-config.json" "$work/basic-catalog.json"
oauth_run "OAuth, folder mounted (-v ./secrets:/secrets), run 1" "$sdir/config.json" "$sdir:/secrets"
oauth_run "OAuth, folder mounted, run 2" "$sdir/config.json" "$sdir:/secrets"
fdir="$work/single-file"
mkdir -m 0700 "$fdir"
cp "$sdir/config.json" "$sdir/catalog.json" "$fdir/"
chown -R 1000:1000 "$fdir"
oauth_run "OAuth, config file alone mounted (-v ./config.json:/secrets/config.json), run 1" "$fdir/config.json" \
  "$fdir/config.json:/secrets/config.json $fdir/catalog.json:/secrets/catalog.json"
oauth_run "OAuth, config file alone mounted, run 2" "$fdir/config.json" \
  "$fdir/config.json:/secrets/config.json $fdir/catalog.json:/secrets/catalog.json"

# The README's --user "$(id -u):$(id -g)": the image runs as the person who owns the 0600 config.
stage "$work/emu-config.json"
chown -R 4242:4242 "$sdir"
code=0; jrun 4242:4242 "$sdir:/secrets" "$work/uid.out" check --config /secrets/config.json || code=$?
if [ "$code" = 0 ] && grep -q '"status":"SUCCEEDED"' "$work/uid.out"; then ok "check as uid 4242 with its own 0600 config (--user)"
else bad "check as uid 4242 (exit $code): $(clip <"$work/uid.out") $(clip <"$work/uid.out.err")"; fi

buildah umount "$rc" >/dev/null
if [ "$failed" != 0 ]; then
  echo "image-test: $((1 + passed)) passed, $failed failed"
  exit 1
fi

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
echo "image-test: $((1 + passed + ${#variants[@]})) passed, 0 failed"
