#!/usr/bin/env bash
# Copies the screenshots the window tests took (`./x test`, or
# `cargo test -p spokes-app --test window`) into docs/screenshots, every screen in the light
# and the dark theme (`NAME.png`, `NAME-dark.png`), made smaller with pngquant (Debian:
# pngquant), and writes the gallery (README.md) that lists them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
from="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/spokes-target}/tmp/screenshots}"
[ -d "$from" ] || { echo "no screenshots in $from: run the window tests first" >&2; exit 1; }
command -v pngquant >/dev/null || { echo "pngquant is needed (apt-get install pngquant)" >&2; exit 1; }
rm -f "$here"/*.png
for f in "$from"/*.png; do
  name="$(basename "$f")"
  case "$name" in failure*) continue ;; esac
  pngquant --quality 80-95 --strip --force --output "$here/$name" -- "$f" || cp "$f" "$here/$name"
done
{
  echo "# Screens"
  echo
  echo "Every screen the window tests reach, as they took it, in the light theme and the dark one"
  echo "(\`de-\`: in German). Made by \`update.sh\` from the tests' latest run."
  echo
  echo "| screen | light | dark |"
  echo "|---|---|---|"
  for f in "$here"/*.png; do
    name="$(basename "$f" .png)"
    case "$name" in *-dark) [ -f "$here/${name%-dark}.png" ] && continue ;; esac
    dark="$name-dark"
    [ -f "$here/$dark.png" ] && d="![$name, dark]($dark.png)" || d=""
    echo "| $name | ![$name]($name.png) | $d |"
  done
} > "$here/README.md"
echo "$(ls "$here"/*.png | wc -l) screenshots in $here"
