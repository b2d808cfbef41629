#!/bin/sh
# Entrypoint of the wren node image (installed as /usr/local/bin/wren-node-entrypoint).
# For `server` and `agent` it first gives the node what `docker run --privileged`
# would, because this project's hosts cannot start privileged containers (no
# CAP_SYS_RESOURCE in the bounding set, so runc fails to apply "all" caps):
# /sys and the cgroup mounts writable, / shared (mount propagation for the
# kubelet), and /dev/kmsg (the kubelet's OOM watcher). Each step runs only when
# needed and only warns when it fails. Then it runs /bin/wren with the same
# arguments. Flags a node container needs: see the Dockerfile.
set -eu

warn() { echo "wren-node-entrypoint: $*" >&2; }

# Mount points of the mounts of fstype $1 (a regex) that are read-only
# (the last mount at a path is the visible one).
ro_mounts() {
  awk -v want="^($1)\$" '{
    for (i = 7; i <= NF && $i != "-"; i++) ;
    ro = ("," $6 ",") ~ /,ro,/
    if ($(i + 1) ~ want) state[$5] = ro; else if ($5 in state) state[$5] = 0
  } END { for (m in state) if (state[m]) print m }' /proc/self/mountinfo
}

has_cap() { # has_cap <bit>: the effective capability set holds it
  eff=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status)
  [ $((0x$eff >> $1 & 1)) -eq 1 ]
}

case "${1:-}" in
  server | agent)
    if ! has_cap 21; then # CAP_SYS_ADMIN
      warn "no CAP_SYS_ADMIN: a node container needs the docker run flags in the Dockerfile"
    else
      if ro_mounts sysfs | grep -qx /sys; then
        mount -o remount,rw /sys || warn "cannot make /sys writable"
      fi
      for m in $(ro_mounts 'cgroup2?'); do
        case "$m" in /sys/fs/cgroup*) ;; *) continue ;; esac
        mount -o remount,bind,rw "$m" || warn "cannot make $m writable"
      done
      mount --make-rshared / || warn "cannot make / shared"
    fi
    if [ ! -e /dev/kmsg ]; then
      warn "no /dev/kmsg (pass --device /dev/kmsg); linking it to /dev/console"
      ln -s /dev/console /dev/kmsg || true
    fi
    ;;
esac
exec /bin/wren "$@"
