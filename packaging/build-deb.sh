#!/usr/bin/env bash
# Packs the Spokes desktop app into a .deb with the Tauri bundler (@tauri-apps/cli, fetched
# by npx), from a program already built, with what Debian's policy asks of a package and
# lintian checks: dependencies found from the libraries the program links (dpkg-shlibdeps,
# as debhelper does), a stripped program, a manual page, the changelog and the copyright
# file (packaging/deb/).
#
#   packaging/build-deb.sh --binary PATH --out FILE
#
# The bundler's own settings (icons, the .desktop entry, AppStream metadata, section) are
# under `bundle` in src-tauri/tauri.conf.json; this adds the parts made at build time.
# Needs strip (binutils), dpkg-dev (dpkg-shlibdeps), gzip, python3, npx.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
binary=""
out=""
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 --binary PATH --out FILE" >&2; exit 2 ;;
  esac
done
[ -x "$binary" ] || { echo "no app binary at '$binary' (build it first)" >&2; exit 2; }
[ -n "$out" ] || { echo "say where the .deb goes with --out" >&2; exit 2; }
command -v dpkg-shlibdeps >/dev/null || { echo "dpkg-shlibdeps is missing (Debian: apt-get install dpkg-dev)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The bundler takes the program from <target dir>/release; a private one keeps the
# caller's build untouched (stripping works on a copy).
mkdir -p "$work/target/release"
strip --strip-unneeded --remove-section=.comment -o "$work/target/release/spokes-app" "$binary"

# Depends: the packages that hold the shared libraries the program needs, with the lowest
# versions their symbols ask for.
mkdir -p "$work/shlibs/debian"
printf 'Source: spokes\n\nPackage: spokes\nArchitecture: any\n' > "$work/shlibs/debian/control"
depends="$(cd "$work/shlibs" && dpkg-shlibdeps -O "$work/target/release/spokes-app" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "dpkg-shlibdeps found no dependencies for $binary" >&2; exit 1; }

gzip -9n < "$here/deb/changelog" > "$work/changelog.gz"
gzip -9n < "$here/deb/spokes-app.1" > "$work/spokes-app.1.gz"

config="$work/deb.json"
python3 - "$depends" "$work" "$here/deb" > "$config" <<'PY'
import json, sys
depends, work, deb = sys.argv[1:]
print(json.dumps({"bundle": {"linux": {"deb": {
    "depends": [d.strip() for d in depends.split(",") if d.strip()],
    "files": {
        "/usr/share/doc/spokes/changelog.gz": f"{work}/changelog.gz",
        "/usr/share/doc/spokes/copyright": f"{deb}/copyright",
        "/usr/share/man/man1/spokes-app.1.gz": f"{work}/spokes-app.1.gz",
        "/usr/share/lintian/overrides/spokes": f"{deb}/lintian-overrides",
    },
}}}}))
PY
(cd "$root" && CARGO_TARGET_DIR="$work/target" npx --yes @tauri-apps/cli@2.12.5 bundle --bundles deb --ci --config "$config" >&2)
built=("$work"/target/release/bundle/deb/*.deb)
[ -f "${built[0]}" ] || { echo "the bundler made no .deb" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
mv "${built[0]}" "$out"
echo "$out"
