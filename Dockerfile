# syntax=docker/dockerfile:1
#
# One image for the services. Which one runs is the command, the same one
# `npm run start -w services/<name>` runs:
#
#   node services/<name>/dist/main.mjs        (webhook-ingest, token-broker, repo-api,
#                                              dispatcher, and on the cluster side
#                                              slurm-gateway: services/slurm-gateway/deploy/)
#
# or, with this image's default command, `docker run -e SERVICE=<name> ...`.
# Each service runs as a bundle that `npm run build` (scripts/build-services.mjs, esbuild) makes
# in the services-build stage below: the workspace's TypeScript compiled into one file, the npm
# packages left to node_modules. No tsx at run time (its loader thread and source maps cost
# each service ~35 MB); the image keeps the production dependencies only. (tsx is still among
# them, for the two simulators of the demo profile, which run from source.)
#
# Build: docker build -t gha-slurm .   (BuildKit, the default builder since Docker 23)

ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Only the files npm reads, so the dependency layers below are rebuilt when a manifest or the
# lockfile changes, not when code does. Globs that match nothing are skipped, so a workspace
# added later (or web/) needs no change here.
FROM base AS manifests
RUN --mount=type=bind,target=/context \
    cd /context && \
    for manifest in package.json package-lock.json .npmrc \
                    packages/*/package.json services/*/package.json \
                    web/package.json web/package-lock.json; do \
      if [ -f "$manifest" ]; then \
        mkdir -p "/app/$(dirname "$manifest")" && cp "$manifest" "/app/$manifest"; \
      fi; \
    done

# Production dependencies of every workspace; the root's devDependencies (test and benchmark
# tools) and each workspace's are left out. (web/'s runtime packages come along when it is a
# workspace: unused by the services, and small.)
FROM base AS deps
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev

# The SPA (web/, React + Vite), built when web/package.json exists; until then this stage
# leaves an empty web/dist and the image serves no SPA. It works whether web/ is a workspace
# of the root package.json (built with the root lockfile) or a project of its own. The whole
# context is copied in because a build script may type-check against packages/ too.
FROM base AS web-build
COPY --from=manifests /app ./
RUN --mount=type=bind,target=/context \
    --mount=type=cache,target=/root/.npm,sharing=locked \
    mkdir -p web/dist && \
    if [ ! -f web/package.json ]; then \
      echo "web/package.json not found: building the image without the SPA"; \
    else \
      cp -R /context/. . && \
      if node -e "process.exit((require('./package.json').workspaces || []).some((w) => w.replace(/^\.\//, '').replace(/\/$/, '') === 'web') ? 0 : 1)"; then \
        npm ci && npm run build -w web; \
      else \
        cd web && npm ci && npm run build; \
      fi; \
    fi

# The services' bundles: a full install (esbuild is a devDependency), then `npm run build`.
# Only services/<name>/dist/ leaves this stage (gathered under /out).
FROM base AS services-build
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY scripts/build-services.mjs scripts/
RUN npm run build && \
    for dist in services/*/dist; do mkdir -p "/out/$dist" && cp -R "$dist/." "/out/$dist/"; done

FROM base AS runtime
# NODE_OPTIONS: the services' node flag (the young generation's size is fixed when node
# starts; packages/core/src/heap-policy.ts says why).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=8
COPY --from=deps /app ./
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY --from=services-build /out/ ./
COPY --from=web-build /app/web/dist web/dist

# The health check the image and docker-compose.yml use: exits 0 when the service answers 2xx.
# `node healthcheck.mjs [url]`; without a url it asks http://127.0.0.1:<port>/readyz, the port
# being $PORT or the default port of $SERVICE. (The image has no curl; Node has fetch.)
COPY <<'EOF' /usr/local/lib/gha-slurm/healthcheck.mjs
const DEFAULT_PORTS = { 'webhook-ingest': 3001, 'token-broker': 3002, 'repo-api': 3003, dispatcher: 3004, 'slurm-gateway': 3005 };
const port = process.env.PORT || DEFAULT_PORTS[process.env.SERVICE ?? ''];
const url = process.argv[2] || (port ? `http://127.0.0.1:${port}/readyz` : '');
if (!url) {
  console.error('healthcheck: give a URL, or set SERVICE (or PORT)');
  process.exit(1);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!response.ok) console.error(`healthcheck: ${url} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`healthcheck: ${url}: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
EOF

# Code and dependencies belong to root: the user that runs them can read them, not change them.
USER node
EXPOSE 3001 3002 3003 3004 3005
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/usr/local/lib/gha-slurm/healthcheck.mjs"]
# exec: node becomes the process that receives SIGTERM and drains before it exits.
CMD ["sh", "-c", "exec node \"services/${SERVICE:?set SERVICE to webhook-ingest, token-broker, repo-api, dispatcher or slurm-gateway}/dist/main.mjs\""]
