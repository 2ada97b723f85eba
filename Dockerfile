# wasteroute service image.
#
#   docker build -t wasteroute .
#   docker run -p 8000:8000 wasteroute
#
# Stage 1 builds the project and its dependencies into a virtual environment and
# builds the embedded road network's cache; stage 2 copies only that environment, the
# data and the cache onto a slim base, and runs as a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/wasteroute
COPY pyproject.toml README.md ./
COPY app ./app
COPY solver ./solver
RUN /opt/wasteroute/bin/pip install .
COPY data ./data
# the embedded network is built once here, so the service starts from the cache
RUN /opt/wasteroute/bin/python -c "from solver.network import load_network; \
load_network('/src/data/monaco.osm.pbf', cache_dir='/srv/wasteroute/cache')"

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/wasteroute/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WASTEROUTE_NETWORK_FILE=/srv/wasteroute/data/monaco.osm.pbf \
    WASTEROUTE_DATA_DIR=/srv/wasteroute/var \
    WASTEROUTE_CACHE_DIR=/srv/wasteroute/cache \
    WASTEROUTE_HOST=0.0.0.0 \
    WASTEROUTE_PORT=8000
# the data folder (SQLite store, job files) belongs to the service's user, so a volume
# mounted there (see compose.yaml) is writable by it
RUN groupadd --system --gid 10001 wasteroute \
 && useradd --system --uid 10001 --gid wasteroute --home-dir /srv/wasteroute wasteroute \
 && install -d -o wasteroute -g wasteroute /srv/wasteroute /srv/wasteroute/var
COPY --from=build /opt/wasteroute /opt/wasteroute
COPY --from=build --chown=wasteroute:wasteroute /src/data /srv/wasteroute/data
COPY --from=build --chown=wasteroute:wasteroute /srv/wasteroute/cache /srv/wasteroute/cache
WORKDIR /srv/wasteroute
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('WASTEROUTE_PORT', '8000'), timeout=4)"]
CMD ["wasteroute", "serve"]
