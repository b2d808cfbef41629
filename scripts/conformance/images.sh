#!/usr/bin/env bash
# Builds, with nothing pulled, every image the upstream [Conformance] tests
# run, under the names and tags e2e.test asks for, into one OCI archive:
# build/conformance/images.tar (imported by every node of the conformance
# cluster). Go programs come from their modules (agnhost and nnp from
# k8s.io/kubernetes, sample-apiserver, etcd); the userland (shell, curl,
# wget, openbsd netcat, dig/nslookup, iproute2, nginx, busybox) from Debian
# packages of the host's suite, made into a rootfs by mmdebstrap.
#   scripts/conformance/images.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/images/versions.env
. scripts/images/versions.env
k8s=$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)
out=build/conformance
work=$out/images-work
mkdir -p "$work"
log() { echo "conformance images: $*" >&2; }

stamp=$(cat scripts/conformance/images.sh scripts/lib/debian-rootfs.sh scripts/images/mkimage/*.go \
  scripts/images/mergearchive/*.go scripts/images/versions.env go.sum scripts/conformance/e2e/go.sum | sha256sum | cut -c1-16)
if [ -s "$out/images.tar" ] && [ "$(cat "$out/images.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "$out/images.tar is up to date"
  exit 0
fi

# 1. The userland: one rootfs shared (one layer, stored once) by agnhost,
# glibc-dns-testing, kitten, nautilus and nginx. agnhost's upstream image adds
# a user and a group its tests look for.
# shellcheck disable=SC2016 # "$1" in a hook is the chroot, set by mmdebstrap
userland_args=(bash,curl,wget,netcat-openbsd,bind9-dnsutils,iproute2,iputils-ping,procps,ca-certificates,nginx,busybox-static
  --customize-hook='echo "user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh" >>"$1/etc/passwd"'
  --customize-hook='echo "user-defined-in-image:x:1000:" >>"$1/etc/group"'
  --customize-hook='echo "group-defined-in-image:x:50000:user-defined-in-image" >>"$1/etc/group"'
  --customize-hook='sed -i "/listen \[::\]/d" "$1/etc/nginx/sites-available/default"')
userland=$work/userland-$( (echo "${userland_args[@]}"; cat scripts/lib/debian-rootfs.sh) | sha256sum | cut -c1-12).tar
if [ ! -s "$userland" ]; then
  # shellcheck source=scripts/lib/debian-rootfs.sh
  . scripts/lib/debian-rootfs.sh
  rm -f "$work"/userland-*.tar
  debian_rootfs "$userland" "${userland_args[@]}"
fi

# 2. The programs, static.
bin=$work/bin
mkdir -p "$bin"
CGO_ENABLED=0 go build -ldflags "-s -w" -o "$bin/agnhost" k8s.io/kubernetes/test/images/agnhost
CGO_ENABLED=0 go build -ldflags "-s -w" -o "$bin/nnp" k8s.io/kubernetes/test/images/nonewprivs
(cd scripts/conformance/e2e &&
  CGO_ENABLED=0 go build -ldflags "-s -w" -o "../../../$bin/sample-apiserver" k8s.io/sample-apiserver &&
  CGO_ENABLED=0 go build -ldflags "-s -w" -o "../../../$bin/etcd" ./cmd/etcd)
tar -xf "$userland" -C "$bin" --strip-components=3 ./usr/bin/busybox

# busybox's image is busybox, every applet a link, as upstream's, but for
# sh: Debian's busybox ash drops environment variables whose names are not
# shell names (data-1, 1-x) where upstream's keeps them, and the ConfigMap and
# Secret envFrom tests run `sh -c env`. sh is Debian's static bash instead.
if [ ! -x "$work/bash-static/bin/bash-static" ]; then
  # shellcheck source=scripts/lib/debian-rootfs.sh
  . scripts/lib/debian-rootfs.sh
  # shellcheck disable=SC1091
  debian_fetch "$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")" bash-static "$work/bash-static"
fi
busybox_links=(-file "$work/bash-static/bin/bash-static:/bin/bash" -link bin/sh:/bin/bash)
# Every applet in /bin, as upstream's image has them (tests run /bin/sysctl).
while read -r applet; do
  busybox_links+=(-link "bin/$applet:/bin/busybox")
done < <("$bin/busybox" --list | grep -vx 'busybox\|sh\|bash')
minimal=(-dir tmp:1777 -dir root:0700 -dir etc -dir bin -dir sbin -dir usr/bin -dir usr/sbin -file "$work/passwd:/etc/passwd:0644" -file "$work/group:/etc/group:0644")
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$work/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/group"

mkimage() { go run ./scripts/images/mkimage "$@"; }
e2e=registry.k8s.io/e2e-test-images
imgs=$work/images
rm -rf "$imgs" && mkdir -p "$imgs"
agnhost=(-base "$userland" -entrypoint /agnhost -cmd pause -file "$bin/agnhost:/agnhost" -link agnhost-2:agnhost
  -file "$k8s/test/images/agnhost/porter/localhost.crt:/localhost.crt:0644"
  -file "$k8s/test/images/agnhost/porter/localhost.key:/localhost.key:0644" -dir uploads:0777)
log "building the images"
mkimage -name "$AGNHOST_IMAGE" "${agnhost[@]}" -o "$imgs/agnhost.tar"
# The previous agnhost (statefulset update tests switch between the two);
# the same program, marked so its image differs.
mkimage -name "$e2e/agnhost:2.55" "${agnhost[@]}" -env AGNHOST_IMAGE=2.55 -o "$imgs/agnhost-prev.tar"
# The ImageVolume test reads the kitten image's /etc/os-release and looks for
# "Alpine Linux", upstream's base: the file says what this base is instead.
tar -xOf "$userland" ./usr/lib/os-release >"$work/os-release"
printf '# Upstream builds this image on Alpine Linux; this one is Debian packages\n# (wren scripts/conformance/images.sh).\n' >>"$work/os-release"
for pet in kitten nautilus; do
  mkimage -name "$e2e/$pet:1.8" "${agnhost[@]}" -cmd test-webserver \
    -file "$k8s/test/images/$pet/html/$pet.jpg:/$pet.jpg:0644" -file "$work/os-release:/etc/os-release:0644" \
    -file "$k8s/test/images/$pet/html/data.json:/data.json:0644" -o "$imgs/$pet.tar"
done
mkimage -name "$e2e/glibc-dns-testing:2.0.0" -base "$userland" -cmd /bin/bash -o "$imgs/glibc-dns-testing.tar"
for tag in 1.15-4 1.27-0; do
  mkimage -name "$e2e/nginx:$tag" -base "$userland" -cmd '["nginx","-g","daemon off;"]' \
    -link var/log/nginx/access.log:/dev/stdout -link var/log/nginx/error.log:/dev/stderr \
    -o "$imgs/nginx-$tag.tar"
done
mkimage -name "$e2e/busybox:1.37.0-1" "${minimal[@]}" "${busybox_links[@]}" -file "$bin/busybox:/bin/busybox" \
  -cmd sh -o "$imgs/busybox.tar"
mkimage -name "$e2e/nonewprivs:1.4" "${minimal[@]}" "${busybox_links[@]}" -file "$bin/busybox:/bin/busybox" \
  -file "$bin/nnp:/usr/local/bin/nnp:4755" -cmd nnp -o "$imgs/nonewprivs.tar"
mkimage -name "$e2e/nonroot:1.5" "${minimal[@]}" "${busybox_links[@]}" -file "$bin/busybox:/bin/busybox" \
  -user 1234 -cmd sh -o "$imgs/nonroot.tar"
mkimage -name "$e2e/sample-apiserver:1.29.2" -dir tmp:1777 -entrypoint /sample-apiserver \
  -file "$bin/sample-apiserver:/sample-apiserver" -o "$imgs/sample-apiserver.tar"
mkimage -name "registry.k8s.io/etcd:3.6.8-0" -dir tmp:1777 -dir var/lib/etcd:0700 -file "$bin/etcd:/usr/local/bin/etcd" \
  -entrypoint /usr/local/bin/etcd -o "$imgs/etcd.tar"
# pause is in wren's own payload.

go run ./scripts/images/mergearchive -o "$out/images.tar.partial" "$imgs"/*.tar
mv "$out/images.tar.partial" "$out/images.tar"
echo "$stamp" >"$out/images.stamp"
log "$out/images.tar: $(du -h "$out/images.tar" | cut -f1), $(find "$imgs" -name '*.tar' | wc -l) images"
