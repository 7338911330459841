# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg APP=auth|orders|inventory -t relay-<app> .  (docker-compose.yml builds all three)
# and the bus's init image: docker build --target bus-init -t relay-bus-init .
# Node 24, the active LTS, where the stack's Node 20 left security support in April 2026 (CI runs the
# end-to-end suite, apps included, on 24)
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS modules
WORKDIR /workspace
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
# Lockfile first: the dependency layer is reused until package*.json change, for all three apps.
# No install scripts, as package.json's allowScripts says (said here too: an image's npm may not read
# it): argon2 and the platform packages load their prebuilt binaries at run time.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM modules AS deps
COPY . .

# docker-compose.yml's one-shot nats-init: writes the closed bus's material (libs/nats-bus, plain
# JavaScript, no build) into the bus volumes. Before `build` so that targeting it needs no APP. Only
# libs/nats-bus over the dependencies: the image changes with the permission table or the lockfile, not
# with every source file, so compose restarts nats (to read a new table) only then. Root on purpose:
# --owner hands the files to the apps' `node` user (uid 1000).
FROM modules AS bus-init
COPY libs/nats-bus ./libs/nats-bus
CMD ["node", "libs/nats-bus/src/cli.js"]

FROM deps AS build
ARG APP
# The `build` target of apps/$APP/project.json (webpack-cli) defaults to its `production`
# configuration (NODE_ENV=production), so no --configuration flag. generatePackageJson
# (tools/webpack/relay-app.webpack.js) emits dist/apps/$APP/package.json + package-lock.json
# (pruned from the root lock).
RUN case "${APP}" in auth|orders|inventory) ;; \
      *) echo "build with --build-arg APP=auth|orders|inventory (got '${APP}')" >&2; exit 1 ;; \
    esac \
 && npx nx build "${APP}" --skip-nx-cache \
 && test -f "dist/apps/${APP}/main.js" -a -f "dist/apps/${APP}/package-lock.json"

FROM ${NODE_IMAGE} AS runtime
ARG APP
ENV NODE_ENV=production RELAY_APP=${APP} DATA_DIR=/app/.data
WORKDIR /app
# Only what this app's bundle requires (webpack keeps node_modules external), at the root lock's versions.
COPY --from=build /workspace/dist/apps/${APP}/package.json /workspace/dist/apps/${APP}/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /workspace/dist/apps/${APP}/ ./
# PGlite fallback (no DATABASE_URL) needs a writable DATA_DIR; nothing else is writable by the app.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000 3001 3002
# PORT unset means the app's contract default, so the probe derives it the same way.
# Liveness: the process answers (a NATS or database outage does not fail it; compose's own healthcheck
# probes readiness instead, /health/ready, for depends_on).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "const port = process.env.PORT || { auth: 3000, orders: 3001, inventory: 3002 }[process.env.RELAY_APP]; fetch('http://127.0.0.1:' + port + '/health/live').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself: the app turns not-ready, stops taking HTTP
# requests and NATS messages, finishes those in flight (at most SHUTDOWN_TIMEOUT_MS, default 6.5 s,
# then at most 3 s to close, inside `docker stop`'s 10 s) and exits 0. A HEALTHCHECK failure restarts nothing on plain Docker: a restart
# policy acts on exits only; Swarm (or an orchestrator's own liveness probe) acts on health.
CMD ["node", "main.js"]
