# Local stand-in for postgres:16, built from Debian's postgresql-15 on the stand-in base.
# Built by tools/docker/stand_ins.sh only where the official image cannot be pulled; never tagged postgres:*.
# Like the official image: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB initialise an empty data
# volume at first start, the server listens on 5432 with password (scram) authentication, pg_isready works.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

# No cluster at install time: the entrypoint makes one in the volume, from the environment.
RUN mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/*

ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data

COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
RUN chmod 0755 /usr/local/bin/postgres-entrypoint.sh \
    && install -d -o postgres -g postgres -m 0700 "$PGDATA"

VOLUME /var/lib/postgresql/data
EXPOSE 5432
# SIGINT is PostgreSQL's fast shutdown, as in the official image.
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
