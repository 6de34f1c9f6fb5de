# monitor in a container: non-root, state on a volume, config at /etc/monitor/config.toml.
# Build and run: deploy/README.md. Secrets come from the environment (-e / --env-file).
FROM python:3.11-slim

# EXTRAS="[postgres]" adds the PostgreSQL store (psycopg) to the image.
ARG EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_CONFIG=/etc/monitor/config.toml \
    MONITOR_HEALTHZ=http://127.0.0.1:9464/healthz

RUN groupadd --system --gid 10001 monitor \
 && useradd --system --uid 10001 --gid monitor --home-dir /var/lib/monitor \
    --no-create-home --shell /usr/sbin/nologin monitor

WORKDIR /opt/monitor
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install ".${EXTRAS}"

# The default config and rule pack, made container-shaped: state on the volume, metrics
# and /healthz on all interfaces of the container (publish the port to reach them).
# `monitor check` fails the build if an edit did not apply; mount your own config over it.
COPY rules /etc/monitor/rules
COPY config.toml /etc/monitor/config.toml
RUN sed -i \
      -e 's|^path = "state/monitor.db"|path = "/var/lib/monitor/monitor.db"|' \
      -e 's|^# \[metrics\]|[metrics]|' \
      -e 's|^# listen = "127.0.0.1:9464"|listen = "0.0.0.0:9464"|' \
      /etc/monitor/config.toml \
 && grep -q '^path = "/var/lib/monitor/monitor.db"' /etc/monitor/config.toml \
 && grep -q '^listen = "0.0.0.0:9464"' /etc/monitor/config.toml \
 && monitor check -c /etc/monitor/config.toml \
 && mkdir -p /var/lib/monitor && chown monitor:monitor /var/lib/monitor

# Created and owned above, so a fresh named volume starts out writable by the monitor user.
VOLUME /var/lib/monitor
USER monitor
WORKDIR /var/lib/monitor
EXPOSE 9464

# /healthz answers 200 while the scheduler runs and the database is writable, 503 otherwise.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen(os.environ['MONITOR_HEALTHZ'], timeout=5)"]

# The daemon takes up to 30 s to stop cleanly: run with --stop-timeout 45.
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run", "-c", "/etc/monitor/config.toml"]
