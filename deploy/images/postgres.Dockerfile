# TEST DEPLOYMENT ONLY (tests/deploy): PostgreSQL from Debian's packages, because no registry is
# reachable here. The published stack runs the official postgres image; this one honours the parts
# of its interface the stack uses: POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD(_FILE), the data
# directory /var/lib/postgresql/data, pg_isready on PATH, a fast shutdown on SIGINT.
ARG BASE=jarvis-base/debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD []
