# The wren node image: the already-built static bin/wren on a small Debian
# rootfs with the host tools a node uses (iptables-nft, nftables, iproute2,
# mount, conntrack, ...). The rootfs is made from Debian packages and
# docker-imported by scripts/node-rootfs.sh; no image is pulled. Build with
# `make image` (wren:dev); `docker build` alone uses wren-rootfs:latest.
#
# It runs a server (the default command) or an agent, so a cluster can be
# several containers on one user-defined docker network. This project's hosts
# cannot start --privileged containers (CAP_SYS_RESOURCE is missing from
# every bounding set, so runc fails with "unable to apply caps"); a node gets
# the parts of it that it needs instead:
#   docker run -d --init --cgroupns private \
#     --cap-add ALL --cap-drop SYS_RESOURCE \
#     --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     --security-opt systempaths=unconfined \
#     --device-cgroup-rule 'a *:* rwm' --device /dev/kmsg \
#     --tmpfs /run --network NET --hostname NAME \
#     wren:dev server|agent ...
# The entrypoint then makes /sys and the cgroup mounts writable and / shared
# (a no-op under --privileged) and runs /bin/wren.
ARG BASE=wren-rootfs:latest
FROM ${BASE}
COPY bin/wren /bin/wren
COPY scripts/node-entrypoint.sh /usr/local/bin/wren-node-entrypoint
RUN for tool in kubectl crictl ctr; do ln -sf /bin/wren "/usr/local/bin/$tool"; done \
 && mkdir -p /var/lib/wren/agent/images
# containerd's overlayfs snapshotter cannot stack on the container's own
# overlay root, so node data lives on volumes.
VOLUME ["/var/lib/wren", "/var/lib/kubelet", "/var/log"]
EXPOSE 6443
ENTRYPOINT ["/usr/local/bin/wren-node-entrypoint"]
CMD ["server"]
