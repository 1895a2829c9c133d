# syntax=docker/dockerfile:1
# Node 20.20: the version the tests and CI run on (package.json engines >=20.19; dependencies are
# held at lines that support 20: undici 7, Vitest 4.1). Node 20 is past its end of life: moving
# to Node 22/24 means running CI on it first (docs/deployment.md, "Which Node").
# Pin the base by digest for reproducible, tamper-evident builds (docs/deployment.md):
#   docker build --build-arg NODE_IMAGE=node:20.20-bookworm-slim@sha256:<digest> .
ARG NODE_IMAGE=node:20.20-bookworm-slim

# Build stage: full dependencies, compile TypeScript to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and compiled code only. The files stay owned by root
# (no --chown) and the process runs as the unprivileged `node` user, so it cannot rewrite its
# own code or dependencies.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini forwards SIGTERM to node and reaps zombies; node drains jobs and exits.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
