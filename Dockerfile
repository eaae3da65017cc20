# The geogrid API image: the Python package plus the web map's npm dependencies.
FROM node:20-bookworm-slim AS web
WORKDIR /app/web
COPY web/package.json web/package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geogrid ./geogrid
COPY api ./api
COPY data ./data
COPY web ./web
COPY --from=web /app/web/node_modules ./web/node_modules
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["geogrid", "serve", "--host", "0.0.0.0", "--port", "8000"]
