# SendGuard service image for Cloud Run (deploy/deploy.sh builds it with Cloud Build).
# Two stages: the build stage installs the package and its dependencies into a virtualenv;
# the runtime stage copies only that virtualenv, so no compiler, pip cache or source tree
# ships. No secret is ever baked in: configuration arrives as environment variables and
# Secret Manager references when the service is deployed.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY service ./service
# The runtime dependencies only, at the exact versions and hashes of requirements.lock
# (`make lock`); then the package itself without resolving anything again. `pip check`
# fails the build when pyproject.toml names a dependency the lock lacks (re-run make lock).
RUN pip install --no-compile --require-hashes --no-deps -r requirements.lock \
 && pip install --no-compile --no-deps . \
 && pip check \
 && pip uninstall --yes pip setuptools

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SENDGUARD_VAR_DIR=/tmp/sendguard \
    PORT=8080
RUN groupadd --system --gid 10001 sendguard \
 && useradd --system --uid 10001 --gid sendguard --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin sendguard
COPY --from=build /opt/venv /opt/venv
# Bytecode, written once here for the standard library and the virtualenv: the slim image
# ships none, and at run time (PYTHONDONTWRITEBYTECODE, a user who owns no file) every
# process would compile every module it imports again: `sendguard protect` of a 5 MB
# draft 0.8 s CPU instead of 0.3 s, and the same on each instance's start (issue 12).
# unchecked-hash: valid whatever the files' times (COPY), as nothing here ever changes.
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
      -x '/(test|tests|idle_test)/' /usr/local/lib/python3.11 /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# `sendguard serve` is PID 1 (exec form): it checks the settings and the policy (exit 2 with
# one line when either is broken), then runs granian's main process, which takes Cloud
# Run's SIGTERM, lets in-flight requests finish and exits within the graceful timeout
# (service/server.py). Workers, threads and timeouts come from the environment
# (SENDGUARD_HTTP_WORKERS, SENDGUARD_HTTP_THREADS, SENDGUARD_REQUEST_TIMEOUT,
# SENDGUARD_GRACEFUL_TIMEOUT). The migration job runs this image with
# `sendguard db upgrade` instead; instances never migrate at start.
CMD ["sendguard", "serve"]
