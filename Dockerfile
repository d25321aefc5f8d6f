# Image for docker-compose.yml: the code location, webserver, daemon and API share it.
FROM python:3.12-slim
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH \
    DAGSTER_HOME=/var/lib/teei/dagster
WORKDIR /opt/teei
RUN pip install --no-cache-dir uv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev \
 && cd dbt_project && dbt parse --quiet --profiles-dir . \
 && mkdir -p "$DAGSTER_HOME" && cp /opt/teei/docker/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
