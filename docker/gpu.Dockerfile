# mrl-server, NVIDIA GPU image: onnxruntime-node with its CUDA execution provider.
#
#   UNVERIFIED. This file has never been built or run by the project: the machines it is
#   developed on have no image registry, no internet beyond the npm registry, and no GPU.
#   Treat it as a starting point and check it on a GPU host (docs/deploy.md says how).
#
# Build from the repository root, on a host with internet (the CUDA provider is downloaded
# from nuget.org at build time):
#   docker build -f docker/gpu.Dockerfile -t mrl-server:gpu .
# Run (NVIDIA driver for CUDA 12 and the NVIDIA Container Toolkit on the host):
#   docker run -d --gpus all -p 8080:8080 -v mrl-data-gpu:/data mrl-server:gpu
#
# CUDA 12 + cuDNN 9: what onnxruntime-node's CUDA provider is built against (a build for
# CUDA 12.x runs on any 12.x runtime; cuDNN 8 and 9 are not interchangeable; there is no CUDA 13
# build). The host driver must support CUDA 12.4 or newer.
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
ARG NODE_IMAGE=node:20-bookworm

# Node 20 itself comes from the official image: its release binary runs on Ubuntu 22.04's glibc.
FROM ${NODE_IMAGE} AS node

# ---- build stage: native modules compiled against Ubuntu 22.04, the runtime's own OS ------------
FROM ${CUDA_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
COPY --from=node /usr/local/include/node /usr/local/include/node
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
WORKDIR /app
# ONNXRUNTIME_NODE_INSTALL=cuda12 (it wins over .npmrc's `skip`): onnxruntime-node's install
# script downloads libonnxruntime_providers_{cuda,shared,tensorrt}.so (nuget package
# Microsoft.ML.OnnxRuntime.Gpu.Linux) into its bin/napi-v6/linux/x64.
ENV npm_config_nodedir=/usr/local \
    ONNXRUNTIME_NODE_INSTALL=cuda12 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
# --omit=optional: @tensorflow/tfjs-node-gpu is deliberately NOT installed. It needs CUDA 11.2 +
# cuDNN 8.1 (libtensorflow 2.9), which cannot share an image with CUDA 12 + cuDNN 9; TensorFlow.js
# (the shipped encoders) runs on its wasm backend instead, on the CPU.
# --ignore-scripts + explicit steps: as in the CPU Dockerfile (the package's own `prepare` must
# not run before the sources are here). The onnxruntime-node install script is run directly,
# so no npm script policy can skip it; the `test -f` fails the build if the download did not
# happen.
RUN npm ci --omit=optional --ignore-scripts \
 && npm rebuild better-sqlite3 hnswlib-node \
 && node node_modules/onnxruntime-node/script/install \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
# The project's own HNSW binding (native/hnsw), built against hnswlib-node's headers.
COPY native/hnsw/binding.gyp native/hnsw/hnsw.cc ./native/hnsw/
RUN npm run build:native
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The encoders' ONNX graphs (models/*/model.onnx), which `npm ci --ignore-scripts` did not build
# (`prepare` does it elsewhere): built from the TF.js files and USE lite in node_modules, before
# the prune removes tsx; --strict fails the build if one does not convert.
COPY models ./models
COPY scripts/build-onnx-models.ts ./scripts/
RUN npm run build \
 && node --import tsx scripts/build-onnx-models.ts models --strict \
 && test -f models/text-mrl/model.onnx && test -f models/fashion-mrl/model.onnx \
 && npm prune --omit=dev --omit=optional \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 -type d \
      ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} + \
 && node -e "require('better-sqlite3')(':memory:').close(); require('hnswlib-node'); require('onnxruntime-node')"

# ---- runtime stage ----------------------------------------------------------------------------
FROM ${CUDA_IMAGE}
COPY --from=node /usr/local/bin/node /usr/local/bin/node
# The same unprivileged user as the official Node images (uid 1000).
RUN groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# MRL_KERNEL=gpu: vector kernels on onnxruntime's CUDA provider. The CUDA base image already sets
# NVIDIA_VISIBLE_DEVICES=all and NVIDIA_DRIVER_CAPABILITIES=compute,utility.
# On 0.0.0.0 the server refuses to start without an API key: run with -e MRL_ADMIN_KEY=… (or an
# explicit -e MRL_AUTH=off). No key is baked into the image.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    MRL_DATA_DIR=/data \
    MRL_KERNEL=gpu
WORKDIR /app
COPY package.json ./
COPY migrations ./migrations
COPY --from=build /app/models ./models
COPY public ./public
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/hnsw/build/Release/mrl_hnsw.node ./native/hnsw/build/Release/
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli.js "$@"\n' > /usr/local/bin/mrl \
 && chmod 0755 /usr/local/bin/mrl \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
