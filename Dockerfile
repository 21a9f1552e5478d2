# syntax=docker/dockerfile:1
# Multi-stage build: compile with dev dependencies, run with production ones as a non-root user.
# Node 22: several dependencies (cookie 2, file-type 22) declare node >= 22.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.lib.json nest-cli.json .swcrc ormconfig.ts ./
COPY src ./src
# The demo page and the client SDK (scripts/build-client.mjs writes dist/public and dist/client).
COPY scripts ./scripts
COPY client ./client
# No `npm prune --omit=dev`: package.json is the library's manifest (what `npm pack` ships), so
# the service's own runtime packages (PGlite, Fastify, pino...) are dev dependencies there and a
# prune would remove them.
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    AUTH_DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
# The embedded database lives here when DATABASE_URL is unset.
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Migrations are applied on start, under an advisory lock, before the port opens.
CMD ["node", "dist/src/main.js"]
