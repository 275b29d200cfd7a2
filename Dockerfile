# One image for the whole deployment (docker-compose.yaml): the user-code gRPC server, the
# webserver, the daemon, and every run container the DockerRunLauncher starts — the code server
# advertises this image through DAGSTER_CURRENT_IMAGE.
FROM python:3.11-slim-bookworm

# Spark needs a Java runtime (no compiler); procps gives Spark's launcher scripts `ps`. The man1 folder
# works around the Java package's postinst failing on slim images that strip /usr/share/man.
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*

ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/loan_pipeline/venv \
    PATH=/opt/loan_pipeline/venv/bin:$PATH \
    DAGSTER_HOME=/opt/dagster/dagster_home

WORKDIR /opt/loan_pipeline/app

# Dependencies first, at the exact versions of uv.lock, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache

# Then the project itself, installed (not editable) into the same environment.
COPY loan_pipeline ./loan_pipeline
RUN uv sync --frozen --no-dev --no-editable --no-cache

# Instance config for the webserver and daemon (run containers get it from the daemon), and the
# workspace pointing them at the user_code service.
COPY dagster.yaml /opt/dagster/dagster_home/dagster.yaml
COPY docker/workspace.yaml ./docker/workspace.yaml
RUN mkdir -p /opt/dagster/dagster_home/storage /opt/loan_pipeline/home /opt/loan_pipeline/data

EXPOSE 4000 3000

# Default role: the user-code gRPC server. docker-compose.yaml sets the command for the others.
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "loan_pipeline.definitions"]
