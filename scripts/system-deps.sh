#!/usr/bin/env bash
# Installs the Debian packages the kit can use, when this user may (root, or password-less sudo).
# Everything here is optional at run time: without it the kit falls back and says so
# (procedural bags instead of Fashion-MNIST; without bubblewrap `course grade` refuses to run
# student code unless told --no-sandbox).
set -u
packages=(dataset-fashion-mnist bubblewrap)
[ -n "${DEEPFAKELAB_EXTRA_DEBS:-}" ] && packages+=(${DEEPFAKELAB_EXTRA_DEBS})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get here; skipping Debian packages: ${missing[*]} (the kit falls back without them)"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "note: not root; to add them run: sudo apt-get install --no-install-recommends ${missing[*]}  (the kit falls back without them)"
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || echo "warning: could not install ${missing[*]}; the kit falls back without them"
exit 0
