# shellcheck shell=bash
# Sourced: debian_rootfs builds a small Debian rootfs tarball of the host's
# suite from the host's own apt sources with mmdebstrap (installed when
# missing), pulling nothing else. Used by scripts/node-rootfs.sh (the node
# image) and scripts/conformance/images.sh (the test images' userland).
#   debian_rootfs OUT.tar PKG,PKG,... [extra mmdebstrap arguments...]
# Needs root. Writes OUT.tar only when mmdebstrap succeeded.

debian_rootfs() {
  local out=$1 packages=$2
  shift 2
  if [ "$(id -u)" -ne 0 ]; then
    echo "debian_rootfs: mmdebstrap needs root here (mode root)" >&2
    return 1
  fi
  if ! command -v mmdebstrap >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-cache policy mmdebstrap | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq
    fi
    echo "debian_rootfs: installing mmdebstrap" >&2
    apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
  fi
  local suite
  # shellcheck disable=SC1091
  suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  # The apt sources files this host really fetches Debian from (the mirror
  # configured here is the one that works); mmdebstrap pastes each file into
  # the chroot's sources. Without apt lists on the host, fall back to the
  # source files as they are, then to mmdebstrap's default mirror.
  local sources=() f
  # shellcheck disable=SC2016 # $(SOURCESENTRY) is apt's format, not ours
  mapfile -t sources < <(apt-get indextargets --format '$(SOURCESENTRY)' 'Origin: Debian' \
    | sed 's/:[0-9]*$//' | sort -u)
  if ((${#sources[@]} == 0)); then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
      if [ -f "$f" ] && grep -q '^[^#]*debian' "$f"; then sources+=("$f"); fi
    done
  fi
  echo "debian_rootfs: building a $suite rootfs ($packages) from ${sources[*]:-deb.debian.org}" >&2
  # Keep it small: no docs (but copyrights), man pages, info, locales or
  # iconv charset modules; the excludes stay in the image's dpkg config.
  # mmdebstrap itself drops the apt lists and caches. Merged /usr the
  # debootstrap way (directory symlinks plus usr-is-merged): the default
  # would install usrmerge and 50 MB of perl.
  # mmdebstrap picks its output format from the name: keep ".tar".
  local tmp=${out%.tar}.partial.tar
  rm -f "$tmp"
  # shellcheck disable=SC2016 # "$1" in a hook is the chroot, set by mmdebstrap
  if ! mmdebstrap --mode=root --variant=essential \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/bash-completion/*' \
    --dpkgopt='path-exclude=/usr/share/zsh/*' \
    --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
    --customize-hook='rm -rf "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
    --customize-hook='rm -f "$1"/etc/hostname "$1"/etc/resolv.conf' \
    "$@" "$suite" "$tmp" "${sources[@]}"; then
    rm -f "$tmp"
    return 1
  fi
  mv "$tmp" "$out"
}

# debian_fetch SUITE PACKAGE DIR unpacks one Debian package of another suite
# (e.g. a newer release's static binary) from the host's Debian mirror into
# DIR, with apt state of its own: the host's apt setup is not touched.
debian_fetch() {
  local suite=$1 pkg=$2 dir=$3 repo tmp
  # shellcheck disable=SC2016 # $(REPO_URI) is apt's format, not ours
  repo=$(apt-get indextargets --format '$(REPO_URI)' 'Origin: Debian' | grep -v security | sort -u | head -n1)
  tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$dir"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${repo:-http://deb.debian.org/debian/} $suite main" >"$tmp/sources.list"
  : >"$tmp/status"
  local opts=(-qq -o APT::Sandbox::User=root -o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o "Dir::State::status=$tmp/status")
  if apt-get "${opts[@]}" update && (cd "$tmp" && apt-get "${opts[@]}" download "$pkg"); then
    dpkg-deb -x "$tmp"/"$pkg"_*.deb "$dir"
    rm -rf "$tmp"
  else
    rm -rf "$tmp"
    echo "debian_fetch: cannot fetch $pkg from $suite" >&2
    return 1
  fi
}
