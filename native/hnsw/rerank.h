// The rerank kernels (rerank.cc), registered on the addon's exports by hnsw.cc's Init.
#pragma once
#include <napi.h>

void registerRerank(Napi::Env env, Napi::Object exports);
