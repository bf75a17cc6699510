# syntax=docker/dockerfile:1
# freeq IRC server (#16; docs/operator-guide.md "Running in Docker").
#   docker build -t freeq .
#   docker run -d --name freeq -p 6667:6667 -p 8080:8080 -v freeq-data:/data freeq
# Three stages: `build` (every dependency, `npm run build`), `deps` (the production dependencies
# only, `npm ci --omit=dev`, with the better-sqlite3 addon built for this image) and the runtime
# image (Debian slim, Node 20, the built output and the production node_modules; a non-root user).

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# the manifests first, so the dependency layer is reused until one of them changes
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY server/package.json server/
COPY sdk/package.json sdk/
COPY web/package.json web/
# no install scripts: tsc and vite need none, and "prepare" would build before the sources are here
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY server/package.json server/
COPY sdk/package.json sdk/
COPY web/package.json web/
# production dependencies only: no AT Protocol test stack (@atproto/pds, @did-plc/*), no TypeScript,
# no test tools. Then the one native addon: a prebuilt binary, or compiled with this image's toolchain
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3

FROM ${RUNTIME_IMAGE}
ENV NODE_ENV=production \
    FREEQ_DATA_DIR=/data \
    FREEQ_LISTEN_ADDR=0.0.0.0:6667 \
    FREEQ_TLS_LISTEN_ADDR=0.0.0.0:6697 \
    FREEQ_WEB_ADDR=0.0.0.0:8080
RUN groupadd --system --gid 10001 freeq \
 && useradd --system --uid 10001 --gid freeq --home-dir /data --no-create-home --shell /usr/sbin/nologin freeq \
 && mkdir -p /data && chown freeq:freeq /data && chmod 700 /data
WORKDIR /app
# the manifests and node_modules of every workspace (npm places a few packages in server/node_modules)
COPY --from=deps /app ./
COPY --from=build /src/protocol/dist protocol/dist
COPY --from=build /src/server/bin server/bin
COPY --from=build /src/server/dist server/dist
COPY --from=build /src/web/dist web/dist
USER freeq
# the database and the key files (back them up; `freeq-server keys` and `db rekey` run on them)
VOLUME ["/data"]
# IRC, IRC over TLS (with --tls-cert/--tls-key), HTTP: the web client, WebSocket /irc and the API
EXPOSE 6667 6697 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.FREEQ_WEB_ADDR || ':8080').split(':').pop() + '/api/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "server/bin/freeq-server.js"]
CMD []
