# mrl-server, CPU image.
#   build: docker build -t mrl-server .
#   run:   docker run -d -p 8080:8080 -v mrl-data:/data -e MRL_ADMIN_KEY="$(openssl rand -base64 32)" mrl-server
# The server listens on 0.0.0.0 here, so it refuses to start without an API key: set
# MRL_ADMIN_KEY (an admin key, kept only as its SHA-256), or MRL_AUTH=off to serve without keys.
# See docs/deploy.md (GPU image: docker/gpu.Dockerfile; compose: docker/compose.yaml).

# ---- build stage ---------------------------------------------------------------------------
# The full image has python3, make and g++ for the two native modules (better-sqlite3,
# hnswlib-node) and Node's headers under /usr/local/include/node.
FROM node:20-bookworm AS build
WORKDIR /app
# npm_config_nodedir: node-gyp builds against the image's own headers instead of downloading them.
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's postinstall would download the CUDA provider;
# the CPU provider ships inside the package. (The GPU image sets cuda12 instead.)
ENV npm_config_nodedir=/usr/local \
    ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# Dependencies first, so this layer is cached until the lockfile changes.
# --ignore-scripts: `npm ci` would otherwise run the package's own `prepare` (tsc) before the
# sources are copied in, and every dependency's install script (npm 10 in the official image
# ignores package.json's `allowScripts`). Only the two native modules need theirs, run by
# `npm rebuild` below: better-sqlite3 (prebuild-install, else node-gyp) and hnswlib-node (node-gyp).
# --omit=optional: @tensorflow/tfjs-node-gpu belongs to nothing in this image (TensorFlow.js
# runs on its wasm backend here).
RUN npm ci --omit=optional --ignore-scripts \
 && npm rebuild better-sqlite3 hnswlib-node \
 && node -e "require('better-sqlite3')(':memory:').close(); require('hnswlib-node'); require('onnxruntime-node')"
# The project's own HNSW binding and rerank kernels (native/hnsw), built against hnswlib-node's headers.
COPY native/hnsw/binding.gyp native/hnsw/hnsw.cc native/hnsw/rerank.cc native/hnsw/rerank.h ./native/hnsw/
RUN npm run build:native
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The encoders' ONNX graphs (models/*/model.onnx), which `npm ci --ignore-scripts` did not build
# (`prepare` does it elsewhere): built from the TF.js files and USE lite in node_modules, before
# the prune removes tsx; --strict fails the build if one does not convert.
COPY models ./models
COPY scripts/build-onnx-models.ts ./scripts/
# Then production dependencies only. onnxruntime-node ships native libraries for every platform
# (~240 MB of them for macOS, Windows and the other Linux architecture): keep this one's.
RUN npm run build \
 && node --import tsx scripts/build-onnx-models.ts models --strict \
 && test -f models/text-mrl/model.onnx && test -f models/fashion-mrl/model.onnx \
 && npm prune --omit=dev --omit=optional \
 && test ! -e node_modules/typescript && test ! -e node_modules/@tensorflow/tfjs-node-gpu \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 -type d \
      ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} + \
 && node -e "require('onnxruntime-node')"

# ---- runtime stage -------------------------------------------------------------------------
FROM node:20-bookworm-slim
# Configuration is by environment (see docs/deploy.md); these are the container's defaults.
# No MRL_ADMIN_KEY here on purpose: a key baked into an image is a key everyone has.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MRL_DATA_DIR=/data \
    MRL_KERNEL=auto
WORKDIR /app
# package.json is read at run time: it marks the package root (migrations/, models/) and makes
# dist/ ES modules.
COPY package.json ./
COPY migrations ./migrations
COPY --from=build /app/models ./models
COPY public ./public
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/hnsw/build/Release/mrl_hnsw.node ./native/hnsw/build/Release/
# `mrl` on the PATH: docker exec <container> mrl backup /data/backup.sqlite
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli.js "$@"\n' > /usr/local/bin/mrl \
 && chmod 0755 /usr/local/bin/mrl \
 && mkdir -p /data && chown node:node /data
# The official image's unprivileged user (uid 1000). A new named volume on /data takes the
# image's ownership; a bind mount must be writable by uid 1000.
USER node
VOLUME ["/data"]
EXPOSE 8080
# /ready is 200 once every index is loaded and 503 while loading or shutting down. A large data
# set can take a while to load on first start (no snapshot yet): raise --start-period for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: /ready turns 503, in-flight requests finish,
# snapshots are written, SQLite closes. Give it time: docker stop -t 30 (compose: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
