#!/usr/bin/env bash
# Installs the Debian packages the kit can use, when this user may (root, or password-less sudo):
#   dataset-fashion-mnist  the real bags of Lab 2 (without it: procedural bags, and the kit says so)
#   bubblewrap             the grading sandbox (course grading)
# plus DEEPFAKELAB_EXTRA_DEBS (the Makefile adds chromium for the website's browser test).
# Only what is named is installed: --no-install-recommends, and the full list apt would install
# (the packages plus their required dependencies) is printed first.
# Everything here is optional at run time: without it the kit falls back and says so.
set -u
packages=(dataset-fashion-mnist bubblewrap)
[ -n "${DEEPFAKELAB_EXTRA_DEBS:-}" ] && packages+=(${DEEPFAKELAB_EXTRA_DEBS})

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

install=(apt-get install -y --no-install-recommends)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: no apt-get here; skipping Debian packages: ${missing[*]} (the kit falls back without them)"
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "note: not root; to add them run: sudo ${install[*]} ${missing[*]}  (the kit falls back without them)"
  exit 0
fi
$sudo apt-get update -qq >/dev/null 2>&1 || true
# A dry run names every package apt would add (the requested ones and what they depend on).
plan=$(apt-get install -s --no-install-recommends "${missing[@]}" 2>/dev/null | awk '/^Inst /{print $2}')
if [ -z "$plan" ]; then
  echo "warning: apt cannot install ${missing[*]} here; the kit falls back without them"
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
echo "  apt will add $(echo "$plan" | wc -l) packages (no recommended extras): $(echo $plan)"
DEBIAN_FRONTEND=noninteractive $sudo "${install[@]}" -qq "${missing[@]}" >/dev/null \
  || echo "warning: could not install ${missing[*]}; the kit falls back without them"
exit 0
