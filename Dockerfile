# The worker's image, tagged with package.json's version as k8s/worker-deployment.yaml and docker-compose.yml
# name it. From the repository root:
#   docker build -t aiops-runbooks-worker:0.1.0 .
# Node 24 as everywhere else (NODE_RUNTIME in scripts/lib/tools.ts); Debian rather than Alpine, because
# @temporalio/core-bridge ships glibc builds only. test/deploy/ holds this file to the worker it describes.

# Build: compile the TypeScript and bundle the workflows once, so the worker never bundles at start.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# Production dependencies only: no TypeScript, no test packages. Every native module here (the Temporal core
# bridge, swc) is a prebuilt binary, so no stage needs a compiler.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: the compiled worker, the prebuilt workflow bundle and those dependencies; no sources, no npm cache.
FROM node:24.21.0-bookworm-slim
# pg_dump and pg_restore of the database's major version (POSTGRES_MAJOR in scripts/lib/tools.ts, postgres:15 in
# docker-compose.yml), pinned to it as the native stack pins them (DEBIAN_PACKAGES): the backup activities run them
# from Debian's /usr/lib/postgresql/15/bin, their default (POSTGRES_BIN_DIR unset), piping pg_dump into zstd,
# pinned as DEBIAN_PACKAGES pins it. The only things installed here; no recommended packages, and apt's lists
# removed in the same layer.
RUN apt-get update && apt-get install -y --no-install-recommends 'postgresql-client-15=15.*' 'zstd=1.5.4+dfsg2-5' && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# The kubelet probes the pod's address, so the health endpoints listen on every interface here.
ENV WORKER_HEALTH_ADDRESS=0.0.0.0:8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workflow-bundle.js ./dist/
# The image's own node user, by number, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/src/workers/main.js"]
