#!/usr/bin/env bash
# Packs the Spokes desktop app into an AppImage: the AppImage runtime (an ELF program that
# mounts or extracts what follows it) followed by a SquashFS image of the app's folder
# (AppDir: AppRun, the .desktop entry, the icon, usr/bin/spokes-app).
#
#   packaging/build-appimage.sh --binary PATH --out FILE
#
# The runtime is AppImageKit's type 2 runtime (version 8bbf694, x86_64) as shipped inside the
# `appimage` crate 0.4.0 on crates.io, checked against the SHA-256 below; it is fetched once
# into ~/.cache/spokes/appimage. (The Tauri bundler's AppImage step downloads linuxdeploy and
# its plugins from GitHub instead, which build machines without that access cannot reach.)
#
# What the AppImage needs on the writer's computer: WebKitGTK 4.1 and GTK 3 (as the .deb
# declares: Debian 12, Ubuntu 22.04 and later have them), and libfuse2 to run in place. Without
# libfuse2 it runs with `--appimage-extract`, then `squashfs-root/AppRun`.
#
# Needs mksquashfs (Debian: squashfs-tools) and curl (first run only).
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
[ -n "$out" ] || { echo "say where the AppImage goes with --out" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || { echo "the AppImage runtime used here is for x86_64 only" >&2; exit 2; }
command -v mksquashfs >/dev/null || { echo "mksquashfs is missing (Debian: apt-get install squashfs-tools)" >&2; exit 2; }

CRATE_URL=https://static.crates.io/crates/appimage/appimage-0.4.0.crate
CRATE_SHA256=567a4da6b94a2ac20a27620933c80fc14cf475b5fe7d7b137d20eb237d6b1920
RUNTIME_SHA256=328e0d745c5c6817048c27bc3e8314871703f8f47ffa81a37cb06cd95a94b323
cache="${XDG_CACHE_HOME:-$HOME/.cache}/spokes/appimage"
runtime="$cache/runtime-x86_64"
if ! echo "$RUNTIME_SHA256  $runtime" | sha256sum --check --status 2>/dev/null; then
  mkdir -p "$cache"
  curl -fsSL --retry 3 -o "$cache/appimage.crate" "$CRATE_URL"
  echo "$CRATE_SHA256  $cache/appimage.crate" | sha256sum --check --quiet
  tar -xzf "$cache/appimage.crate" -C "$cache" --strip-components=2 appimage-0.4.0/assets/runtime-x86_64
  echo "$RUNTIME_SHA256  $runtime" | sha256sum --check --quiet
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
app="$work/Spokes.AppDir"
install -Dm755 "$binary" "$app/usr/bin/spokes-app"
# The icon at every size `tauri icon` made from src-tauri/icons/icon.svg, where desktops look.
for size in 32x32 64x64 128x128; do
  install -Dm644 "$root/src-tauri/icons/$size.png" "$app/usr/share/icons/hicolor/$size/apps/spokes-app.png"
done
install -Dm644 "$root/src-tauri/icons/128x128@2x.png" "$app/usr/share/icons/hicolor/256x256/apps/spokes-app.png"
install -Dm644 "$root/src-tauri/icons/icon.png" "$app/usr/share/icons/hicolor/512x512/apps/spokes-app.png"
install -Dm644 "$here/spokes.desktop" "$app/usr/share/applications/Spokes.desktop"
install -Dm644 "$here/org.spokes.desktop.metainfo.xml" "$app/usr/share/metainfo/org.spokes.desktop.metainfo.xml"
cp "$here/spokes.desktop" "$app/Spokes.desktop"
cp "$root/src-tauri/icons/128x128@2x.png" "$app/spokes-app.png"
ln -s spokes-app.png "$app/.DirIcon"
cat > "$app/AppRun" <<'RUN'
#!/bin/sh
# Starts Spokes from inside its AppImage, with the arguments it was given.
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/bin/spokes-app" "$@"
RUN
chmod 755 "$app/AppRun"
mksquashfs "$app" "$work/payload.squashfs" -root-owned -noappend -comp gzip -no-progress -quiet
mkdir -p "$(dirname "$out")"
cat "$runtime" "$work/payload.squashfs" > "$out.part"
chmod 755 "$out.part"
mv "$out.part" "$out"
echo "$out"
