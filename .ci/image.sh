#!/usr/bin/env bash
# The server's container image in CI (called from .ci/run before the tests), without a Docker daemon or a container
# registry (none is reachable here; the SDK's /t:PublishContainer needs one for its base image):
#   1. dotnet publish the server self-contained for linux-x64;
#   2. a slim base from Debian packages: `apt-get download` (not installed) + `dpkg-deb -x` into a rootfs;
#   3. .ci/image/build_oci.py: base layer + app layer, config, manifest, index -> $LICENSING_IMAGE_OUT
#      (default bin/image/orleans-licensing-server.tar, an OCI archive: skopeo copy oci-archive:..., crane push);
#   4. .ci/image/check_oci.py: reads the archive back: digests, diff_ids, user, entrypoint, ports against the chart's
#      values.yaml, Env; extracts the layers into a temporary rootfs;
#   5. runs the image without a container engine: chroot into that rootfs as 1654:1654 with the image's Env (and free
#      ports, Licensing__DataPath=/tmp/data), waits for /healthz = 200 (60 s), stops it.
# Needs root (chroot, mount -t proc, mknod). Exits non-zero on any mismatch.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
started=$SECONDS
TOOLS=${LICENSING_CI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/orleans-licensing-ci}
DEBS="$TOOLS/image-debs"
OUT=${LICENSING_IMAGE_OUT:-$ROOT/bin/image/orleans-licensing-server.tar}
VALUES="$ROOT/charts/orleans-licensing/values.yaml"
log() { echo "== image: [$((SECONDS - started)) s] $*"; }

WORK=$(mktemp -d /tmp/orleans-licensing-image.XXXXXX)
RUNROOT="$WORK/run"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2> /dev/null; then kill -KILL "$server_pid" 2> /dev/null || true; fi
    if mountpoint -q "$RUNROOT/proc"; then umount "$RUNROOT/proc" || umount -l "$RUNROOT/proc"; fi
    # --one-file-system: never into a mount that is still there.
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# --- 1. the server, self-contained ------------------------------------------------------------------------------
log "dotnet publish (self-contained, linux-x64)"
# --artifacts-path: bin/obj outside the tree (kept per checkout for incremental re-runs), so that the RID-specific
# restore does not rewrite the tree's project.assets.json under the solution build and tests that follow.
BUILD="$TOOLS/image-build/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
nice -n 19 dotnet publish src/Orleans.Licensing.Server -c Release -r linux-x64 --self-contained -o "$WORK/app" \
    --artifacts-path "$BUILD" -nologo -v quiet -p:DebugType=none -p:GenerateDocumentationFile=false
[ -x "$WORK/app/Orleans.Licensing.Server" ] || { echo "no app host in the publish output"; exit 1; }
rm -f "$WORK/app"/*.pdb "$WORK/app"/*.xml

# --- 2. the base: Debian packages, extracted, not installed ------------------------------------------------------
# What ldd shows on the app host and the runtime's .so files (libc/libm/libdl/libpthread/librt, libgcc_s,
# libstdc++), what the runtime dlopens (libssl, zlib), the CA bundle and time zones. No libicu: the image sets
# DOTNET_SYSTEM_GLOBALIZATION_INVARIANT (the server uses the invariant culture only). No liblttng-ust: the
# runtime's optional tracing provider (libcoreclrtraceptprovider.so) is skipped without it, as in the .NET images.
pick() { for name in "$@"; do if apt-cache show "$name" > /dev/null 2>&1; then echo "$name"; return; fi; done; echo "none of: $*" >&2; exit 1; }
packages=(libc6 libgcc-s1 libstdc++6 "$(pick libssl3t64 libssl3)" zlib1g ca-certificates tzdata)
mkdir -p "$DEBS"
files=()
for package in "${packages[@]}"; do
    # --print-uris: the exact file name (package_version_arch.deb) of the candidate, downloaded once into the cache.
    file=$(apt-get download --print-uris "$package" | awk '{print $2}')
    [ -n "$file" ] || { echo "apt-get knows no $package"; exit 1; }
    [ -f "$DEBS/$file" ] || (cd "$DEBS" && apt-get download -qq "$package" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
    [ -f "$DEBS/$file" ] || { echo "apt-get download $package did not write $file"; exit 1; }
    files+=("$DEBS/$file")
done
BASE="$WORK/base"
mkdir -p "$BASE"
description="debian $(. /etc/os-release && echo "$VERSION_CODENAME"):"
for file in "${files[@]}"; do
    dpkg-deb -x "$file" "$BASE"
    description+=" $(dpkg-deb -f "$file" Package)=$(dpkg-deb -f "$file" Version)"
done
log "base: $description"
rm -rf "$BASE/usr/share/doc" "$BASE/usr/share/man" "$BASE/usr/share/info" "$BASE/usr/share/lintian" "$BASE/usr/share/bug"
# What the packages' maintainer scripts would have made: the CA bundle (update-ca-certificates) and /etc/localtime.
mkdir -p "$BASE/etc/ssl/certs"
find "$BASE/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat > "$BASE/etc/ssl/certs/ca-certificates.crt"
[ -s "$BASE/etc/ssl/certs/ca-certificates.crt" ] || { echo "empty CA bundle"; exit 1; }
ln -sfn /usr/share/zoneinfo/Etc/UTC "$BASE/etc/localtime"

# --- 3. the archive -----------------------------------------------------------------------------------------------
tag=$(awk -F'"' '/^appVersion:/ {print $2}' "$ROOT/charts/orleans-licensing/Chart.yaml")
created=$(git log -1 --format=%ct 2> /dev/null || echo 0)
mkdir -p "$(dirname "$OUT")"
log "writing $OUT (orleans-licensing/server:$tag)"
nice -n 19 python3 .ci/image/build_oci.py --base "$BASE" --app "$WORK/app" --out "$OUT" --tag "$tag" \
    --created "$created" --base-description "$description"

# --- 4. read it back: against the chart's values -----------------------------------------------------------------
value() { # value SECTION KEY: a scalar from a top-level section of values.yaml
    awk -v section="$1:" -v key="$2:" '$0 ~ "^[^ #]" {in_section = ($1 == section)} in_section && $1 == key {print $2; exit}' "$VALUES"
}
uid=$(value podSecurityContext runAsUser) gid=$(value podSecurityContext runAsGroup)
http_port=$(value http port) silo_port=$(value orleans siloPort) gateway_port=$(value orleans gatewayPort)
for v in uid gid http_port silo_port gateway_port; do [ -n "${!v}" ] || { echo "values.yaml: no $v"; exit 1; }; done
log "the chart runs $uid:$gid, ports http $http_port, silo $silo_port, gateway $gateway_port"
nice -n 19 python3 .ci/image/check_oci.py "$OUT" --user "$uid:$gid" --entrypoint /app/Orleans.Licensing.Server \
    --workdir /app --port "$http_port/tcp" --port "$silo_port/tcp" --port "$gateway_port/tcp" \
    --env "ASPNETCORE_URLS=http://+:$http_port" --env DOTNET_RUNNING_IN_CONTAINER=true \
    --extract "$RUNROOT" --env-out "$WORK/env"
for path in etc/passwd etc/group; do grep -q "^app:x:$uid:" "$RUNROOT/$path" || { echo "/$path has no app:x:$uid"; exit 1; }; done
[ "$(stat -c '%a %u' "$RUNROOT/tmp")" = "1777 0" ] || { echo "/tmp is $(stat -c '%a %u' "$RUNROOT/tmp"), expected 1777 0"; exit 1; }
[ "$(stat -c '%u:%g' "$RUNROOT/app")" = "$uid:$gid" ] || { echo "/app is owned by $(stat -c '%u:%g' "$RUNROOT/app")"; exit 1; }
# The SDK route (/t:PublishContainer, needs a registry with the base image) must describe the same user and ports.
csproj=src/Orleans.Licensing.Server/Orleans.Licensing.Server.csproj
sdk_user=$(sed -n 's|.*<ContainerUser>\(.*\)</ContainerUser>.*|\1|p' "$csproj")
sdk_ports=$(sed -n 's|.*<ContainerPort Include="\([0-9]*\)".*|\1|p' "$csproj" | sort -n | tr '\n' ' ')
chart_ports=$(printf '%s\n' "$http_port" "$silo_port" "$gateway_port" | sort -n | tr '\n' ' ')
[ "$sdk_user" = "$uid" ] && [ "$sdk_ports" = "$chart_ports" ] ||
    { echo "$csproj: ContainerUser '$sdk_user', ports '$sdk_ports'; the chart: $uid, '$chart_ports'"; exit 1; }
# An independent reader, when installed (apt-get install skopeo): containers/image reads and verifies every blob.
if command -v skopeo > /dev/null; then
    skopeo copy -q "oci-archive:$OUT:$tag" "oci:$WORK/skopeo:$tag"
    [ "$(skopeo inspect --config "oci:$WORK/skopeo:$tag" | python3 -c 'import json, sys; print(json.load(sys.stdin)["config"]["User"])')" = "$uid:$gid" ] ||
        { echo "skopeo reads another User"; exit 1; }
    log "skopeo $(skopeo --version | awk '{print $3}') copied the archive (oci-archive -> oci) and read User $uid:$gid"
else
    log "skopeo not installed: the archive was read by check_oci.py only"
fi

# --- 5. run it: chroot as the image's user, with the image's Env ---------------------------------------------------
# What a container runtime adds: /proc and the basic /dev nodes. coreutils chroot starts in / (not WorkingDir); the
# server takes its content root from its own folder (AppContext.BaseDirectory) and gets an absolute DataPath here.
mkdir -p "$RUNROOT/proc" "$RUNROOT/dev"
mount -t proc proc "$RUNROOT/proc"
for node in "null 1 3" "zero 1 5" "random 1 8" "urandom 1 9"; do
    set -- $node
    mknod -m 666 "$RUNROOT/dev/$1" c "$2" "$3"
done
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) silo=$(free_port) gateway=$(free_port)
mapfile -t image_env < "$WORK/env"
log "running /app/Orleans.Licensing.Server in the rootfs as $uid:$gid on port $port"
env -i "${image_env[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" Licensing__DataPath=/tmp/data \
    Licensing__SiloPort="$silo" Licensing__GatewayPort="$gateway" \
    chroot --userspec="$uid:$gid" "$RUNROOT" /app/Orleans.Licensing.Server > "$WORK/server.log" 2>&1 &
server_pid=$!
healthy=""
for _ in $(seq 1 120); do
    if ! kill -0 "$server_pid" 2> /dev/null; then break; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz" || true)
    if [ "$code" = 200 ]; then healthy=yes; break; fi
    sleep 0.5
done
if [ -z "$healthy" ]; then
    if kill -0 "$server_pid" 2> /dev/null; then
        echo "the image's server did not answer /healthz with 200 within 60 s; its output:"
    else
        wait "$server_pid" && code=0 || code=$?
        server_pid=""
        echo "the image's server exited (code $code) before /healthz answered 200; its output:"
    fi
    tail -50 "$WORK/server.log"
    exit 1
fi
owner=$(stat -c '%u' "$RUNROOT/tmp/data")
[ "$owner" = "$uid" ] || { echo "/tmp/data was written by uid $owner, expected $uid"; exit 1; }
kill -TERM "$server_pid"
for _ in $(seq 1 60); do kill -0 "$server_pid" 2> /dev/null || break; sleep 0.5; done
wait "$server_pid" 2> /dev/null || true
server_pid=""
log "/healthz 200 from the image's server (uid $uid), stopped; it wrote: $(cd "$RUNROOT/tmp/data" && find . -type f | sort | tr '\n' ' ')"
sed 's/^/   | /' "$WORK/server.log" | tail -12

size=$(stat -c %s "$OUT")
log "$OUT: $((size / 1024 / 1024)) MiB ($size bytes); $((SECONDS - started)) s"
