# pgbouncer from Debian (the same package scripts/setup.sh installs), run as the unprivileged postgres user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends pgbouncer && rm -rf /var/lib/apt/lists/*
COPY docker/pgbouncer.ini /etc/pgbouncer/pgbouncer.ini
USER postgres
EXPOSE 6432
# the password comes from the environment, so it is written at start rather than baked into the image
CMD ["sh", "-c", "printf '\"postgres\" \"%s\"\\n' \"$PGPASSWORD\" > /tmp/userlist.txt && exec pgbouncer /etc/pgbouncer/pgbouncer.ini"]
