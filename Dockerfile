# The app's image. Build on a registry-free machine with the local stand-in base:
#   docker build --build-arg PYTHON_IMAGE=apl/python:3.11-bookworm -t apl-app .
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged UID: the process owns nothing it could rewrite. (Port 80 needs no
# root: Docker lets unprivileged container processes bind low ports.)
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin apl

WORKDIR /srv/apl
# Dependencies first: editing the app's code reuses this layer.
COPY app/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY gunicorn.conf.py ./
COPY db/ ./db/
COPY app/ ./app/

# The DB is found by name through Docker's embedded DNS, which forwards a name it does not know
# (the DB container while it is stopped) upstream; when nothing answers, glibc waits 5 s per try,
# outside the app's 2 s connect timeout. One second per try keeps a DB outage from stalling requests.
ENV RES_OPTIONS="timeout:1 attempts:2"

USER 10001:10001
EXPOSE 80
# Liveness only (/healthz never touches the DB): a DB outage must not make Docker see the app as broken.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:80/healthz', timeout=2).status != 200)"]
# Exec form: gunicorn is PID 1 and receives Docker's SIGTERM for a graceful stop.
CMD ["gunicorn", "app:create_app()"]
