# syntax=docker/dockerfile:1
# peering-operator: the Peering API server, the Kubernetes operator and peeringctl in one image.
#
#   docker build -t peering-operator .
#   docker run --rm -p 8080:8080 peering-operator serve --config examples/peering-operator.yaml \
#     --listen 0.0.0.0:8080 --data-dir /var/lib/peering-operator
#   docker run --rm --entrypoint peeringctl peering-operator --help
#
# There is no Docker daemon in our CI: controller/test/packaging/production-build.test.ts reads this file and
# repeats its stages in temporary folders (same COPY sources, `npm ci --omit=dev`), then runs the result.

ARG NODE_VERSION=20.20

# 1. Compile the TypeScript, with every dependency.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary fits; node-gyp then takes Node's own headers.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY controller/src controller/src
RUN npx tsc -p tsconfig.json

# 2. Production dependencies only, built for the runtime's Node.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The runtime: Node, the compiled program, production dependencies; no compiler, no npm cache, no root.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The same numeric ids as the Helm chart's securityContext (runAsNonRoot needs a numeric user).
RUN groupadd --system --gid 10001 peering \
  && useradd --system --uid 10001 --gid peering --home-dir /var/lib/peering-operator --no-create-home \
    --shell /usr/sbin/nologin peering \
  && mkdir -p /var/lib/peering-operator \
  && chown peering:peering /var/lib/peering-operator
COPY --from=deps /app/node_modules node_modules
COPY package.json package-lock.json ./
COPY --from=build /src/dist/controller/src dist/controller/src
# The example configuration, PeeringDB fixture and issuer accounts: `serve`, `demo` and `issuer` work out of the box.
COPY examples/peering-operator.yaml examples/issuer-accounts.yaml examples/
COPY examples/peeringdb examples/peeringdb
RUN chmod +x dist/controller/src/cli/peering-operator.js dist/controller/src/cli/peeringctl.js \
  && ln -s /app/dist/controller/src/cli/peering-operator.js /usr/local/bin/peering-operator \
  && ln -s /app/dist/controller/src/cli/peeringctl.js /usr/local/bin/peeringctl
USER 10001:10001
# 8080: the Peering API; 8081: the operator's health and metrics.
EXPOSE 8080 8081
VOLUME /var/lib/peering-operator
ENTRYPOINT ["peering-operator"]
CMD ["--help"]
