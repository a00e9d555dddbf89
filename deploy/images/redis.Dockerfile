# TEST DEPLOYMENT ONLY (tests/deploy): Redis from Debian's packages, because no registry is
# reachable here. The published stack runs the official redis image; like it, this one runs
# `redis-server` as the redis user in /data and turns protected mode off when no config file is
# given (the data network is the boundary).
ARG BASE=jarvis-base/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME ["/data"]
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
