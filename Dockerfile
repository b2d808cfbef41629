# The wren image: the already-built static bin/wren and nothing else it does
# not need. Build with `make image` (runs scripts/build.sh first); no base
# image is pulled.
FROM scratch
COPY bin/wren /bin/wren
ENV PATH=/bin
VOLUME /var/lib/wren
EXPOSE 6443
ENTRYPOINT ["/bin/wren"]
CMD ["server", "--disable-agent"]
