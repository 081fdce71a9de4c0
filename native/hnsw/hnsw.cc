// mrl_hnsw: hnswlib's HierarchicalNSW (the headers hnswlib-node ships, so snapshot files are the
// same format) behind handles that every thread of the process can use, with index insertion off
// the calling thread (addBatch runs on libuv's thread pool).
//
// hnswlib allows concurrent insertions but not a search during an insertion (a reader can see an
// entry point raised before its links exist). Each index therefore has a readers-writer lock, and
// one insertion at a time (Entry::writing). An insertion (insertRow) holds the lock alone only to
// set up the new element and, at the end, to write the links it worked out: the neighbour
// searches and the heuristic's choices, nearly all of its work, run under the shared lock beside
// the searches; growing a full graph copies its arrays under the shared lock too and holds it
// alone only to swap them in (grow). Deletions hold it alone; saves and label listings share it
// once the insertion under way ended. A writer that waits makes new readers queue behind it (the
// turnstile), so a stream of searches cannot starve insertion; and an insertion hands the lock to
// the searches waiting before it takes it alone (so it cannot starve them by taking the lock again
// before a woken reader runs).
#include <napi.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "hnswlib/hnswlib.h"
#include "rerank.h"

namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;

struct FairLock {
  std::mutex turn;
  std::shared_mutex rw;
  std::atomic<int> readersWaiting{0}, writersWaiting{0};
  // How long readers waited for the lock (for the index's stats): the longest wait, the sum, the count.
  std::atomic<int64_t> maxWaitNs{0}, totalWaitNs{0}, waits{0};
  void lockShared() {
    if (writersWaiting.load() == 0 && rw.try_lock_shared()) return;
    auto t0 = std::chrono::steady_clock::now();
    readersWaiting.fetch_add(1);
    { std::lock_guard<std::mutex> t(turn); }
    rw.lock_shared();
    readersWaiting.fetch_sub(1);
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    totalWaitNs.fetch_add(ns);
    waits.fetch_add(1);
    for (int64_t m = maxWaitNs.load(); ns > m && !maxWaitNs.compare_exchange_weak(m, ns);) {
    }
  }
  // Between two insertions: lets the readers that wait now take the lock first.
  void letReadersIn() {
    for (int spins = 0; readersWaiting.load() > 0 && spins < 100000; spins++) std::this_thread::yield();
  }
  void unlockShared() { rw.unlock_shared(); }
  void lock() {
    writersWaiting.fetch_add(1);
    std::lock_guard<std::mutex> t(turn);
    rw.lock();
    writersWaiting.fetch_sub(1);
  }
  void unlock() { rw.unlock(); }
};

struct SharedGuard {
  FairLock& l;
  explicit SharedGuard(FairLock& l) : l(l) { l.lockShared(); }
  ~SharedGuard() { l.unlockShared(); }
};
struct ExclusiveGuard {
  FairLock& l;
  explicit ExclusiveGuard(FairLock& l) : l(l) { l.lock(); }
  ~ExclusiveGuard() { l.unlock(); }
};

struct Entry {
  const size_t dim;
  hnswlib::InnerProductSpace space;
  std::unique_ptr<Hnsw> index;
  FairLock lock;
  // Held for the whole of one insertion (insertRow): one at a time, and a save or a listing of
  // labels never sees an element that is counted but not linked yet.
  std::mutex writing;
  explicit Entry(size_t d) : dim(d), space(d) {}
};

std::mutex registryLock;
std::unordered_map<uint32_t, std::shared_ptr<Entry>> registry;
uint32_t nextId = 1;

uint32_t put(std::shared_ptr<Entry> e) {
  std::lock_guard<std::mutex> g(registryLock);
  uint32_t id = nextId++;
  registry.emplace(id, std::move(e));
  return id;
}

std::shared_ptr<Entry> find(uint32_t id) {
  std::lock_guard<std::mutex> g(registryLock);
  auto it = registry.find(id);
  return it == registry.end() ? nullptr : it->second;
}

// Grows a full graph's arrays by half (+1,024). hnswlib's resizeIndex reallocates them under the
// caller's lock, and the copy (~10 ms at 50k rows of 32 dims) held searches for as long. Here the
// new arrays are made and filled under the shared lock, searches reading the old ones meanwhile
// (nothing writes them: the caller holds e.writing), then put in place under the exclusive lock,
// a few swaps; the old ones are freed after it. The same arrays and values as resizeIndex.
void grow(Entry& e) {
  Hnsw& h = *e.index;
  size_t cap = h.max_elements_;
  if (h.cur_element_count < cap) return;
  size_t next = static_cast<size_t>(std::ceil(cap * 1.5)) + 1024;
  auto pool = std::make_unique<hnswlib::VisitedListPool>(1, static_cast<int>(next));
  std::vector<std::mutex> locks(next);
  std::vector<int> levels;
  char* level0 = static_cast<char*>(malloc(next * h.size_data_per_element_));
  char** links = static_cast<char**>(malloc(sizeof(void*) * next));
  if (level0 == nullptr || links == nullptr) {
    free(level0);
    free(links);
    throw std::runtime_error("Not enough memory: growing the index failed");
  }
  {
    SharedGuard g(e.lock);
    size_t n = h.cur_element_count;
    memcpy(level0, h.data_level0_memory_, n * h.size_data_per_element_);
    memcpy(links, h.linkLists_, sizeof(void*) * n);
    levels.reserve(next);
    levels.assign(h.element_levels_.begin(), h.element_levels_.end());
    levels.resize(next);
  }
  {
    e.lock.letReadersIn();
    ExclusiveGuard g(e.lock);
    std::swap(h.data_level0_memory_, level0);
    std::swap(h.linkLists_, links);
    h.element_levels_.swap(levels);
    h.link_list_locks_.swap(locks);
    h.visited_list_pool_.swap(pool);
    h.max_elements_ = next;
  }
  free(level0);  // the old arrays (and, leaving scope, the old locks, levels and visited lists)
  free(links);
}

using hnswlib::linklistsizeint;
using hnswlib::tableint;
using Candidates = std::priority_queue<std::pair<float, tableint>, std::vector<std::pair<float, tableint>>, Hnsw::CompareByFirst>;

// What one level of an insertion writes: the new element's links, and the whole new list of
// each of its neighbours (the new element appended, or the list re-chosen by the heuristic).
struct LevelLinks {
  int level;
  std::vector<tableint> own;
  std::vector<std::pair<tableint, std::vector<tableint>>> others;
};

linklistsizeint* linksAt(Hnsw& h, tableint id, int level) { return level == 0 ? h.get_linklist0(id) : h.get_linklist(id, level); }

// hnswlib's greedy descent: from `from` at level `top`, the closest element to `point` found by
// walking each level's links down to level `above` + 1 (a search's and an insertion's first part).
tableint descend(Hnsw& h, const void* point, tableint from, int top, int above) {
  tableint cur = from;
  float curdist = h.fstdistfunc_(point, h.getDataByInternalId(cur), h.dist_func_param_);
  for (int level = top; level > above; level--) {
    for (bool changed = true; changed;) {
      changed = false;
      linklistsizeint* ll = h.get_linklist(cur, level);
      int size = h.getListCount(ll);
      const tableint* links = reinterpret_cast<const tableint*>(ll + 1);
      for (int i = 0; i < size; i++) {
        float d = h.fstdistfunc_(point, h.getDataByInternalId(links[i]), h.dist_func_param_);
        if (d < curdist) {
          curdist = d;
          cur = links[i];
          changed = true;
        }
      }
    }
  }
  return cur;
}

// One level of hnswlib's addPoint up to its writes, under the shared lock: the neighbour search
// from currObj (moved to the closest neighbour, the next level's entry), the heuristic's choice,
// and what mutuallyConnectNewElement would write into each neighbour's list. With one insertion
// at a time (Entry::writing) nothing changes the lists read here before writeLevel runs.
LevelLinks planLevel(Hnsw& h, const float* point, tableint cur, tableint& currObj, int level, bool epDeleted, tableint ep) {
  Candidates top = h.searchBaseLayer(currObj, point, level);
  if (epDeleted) {
    top.emplace(h.fstdistfunc_(point, h.getDataByInternalId(ep), h.dist_func_param_), ep);
    if (top.size() > h.ef_construction_) top.pop();
  }
  h.getNeighborsByHeuristic2(top, h.M_);
  LevelLinks out{level, {}, {}};
  while (!top.empty()) {
    out.own.push_back(top.top().second);  // farthest first, as hnswlib writes them
    top.pop();
  }
  currObj = out.own.back();
  size_t maxLinks = level ? h.maxM_ : h.maxM0_;
  for (tableint n : out.own) {
    linklistsizeint* ll = linksAt(h, n, level);
    size_t size = h.getListCount(ll);
    const tableint* links = reinterpret_cast<const tableint*>(ll + 1);
    std::vector<tableint> list(links, links + size);
    if (size < maxLinks) {
      list.push_back(cur);
    } else {
      Candidates c;
      c.emplace(h.fstdistfunc_(h.getDataByInternalId(cur), h.getDataByInternalId(n), h.dist_func_param_), cur);
      for (tableint x : list) c.emplace(h.fstdistfunc_(h.getDataByInternalId(x), h.getDataByInternalId(n), h.dist_func_param_), x);
      h.getNeighborsByHeuristic2(c, maxLinks);
      list.clear();
      while (!c.empty()) {
        list.push_back(c.top().second);
        c.pop();
      }
    }
    out.others.emplace_back(n, std::move(list));
  }
  return out;
}

void writeLevel(Hnsw& h, tableint cur, const LevelLinks& l) {
  linklistsizeint* own = linksAt(h, cur, l.level);
  std::copy(l.own.begin(), l.own.end(), reinterpret_cast<tableint*>(own + 1));
  h.setListCount(own, static_cast<unsigned short>(l.own.size()));
  for (const auto& [n, list] : l.others) {
    linklistsizeint* ll = linksAt(h, n, l.level);
    std::copy(list.begin(), list.end(), reinterpret_cast<tableint*>(ll + 1));
    h.setListCount(ll, static_cast<unsigned short>(list.size()));
  }
}

// hnswlib's addPoint for a new label, split so that searches go on while it runs: the element is
// set up (unreachable: nothing links to it yet) under the exclusive lock, its neighbours are
// searched and every link it changes is worked out under the shared lock (nearly all the work),
// and the links are written under the exclusive lock again, all levels at once, so a search sees
// the element linked at every level or not at all. A label already present takes hnswlib's own
// update under the exclusive lock. The caller holds e.writing.
void insertRow(Entry& e, const float* point, uint32_t label) {
  Hnsw& h = *e.index;
  tableint cur;
  int curlevel, maxlevelcopy;
  tableint currObj;
  grow(e);
  {
    e.lock.letReadersIn();
    ExclusiveGuard g(e.lock);
    cur = static_cast<tableint>(h.cur_element_count.load());
    bool added;
    {
      std::lock_guard<std::mutex> lt(h.label_lookup_lock);
      added = h.label_lookup_.emplace(label, cur).second;
    }
    if (!added) {  // a new value for a label already in the graph
      h.addPoint(point, label, false);
      return;
    }
    h.cur_element_count++;
    curlevel = h.getRandomLevel(h.mult_);
    h.element_levels_[cur] = curlevel;
    memset(h.data_level0_memory_ + cur * h.size_data_per_element_ + h.offsetLevel0_, 0, h.size_data_per_element_);
    hnswlib::labeltype lab = label;
    memcpy(h.getExternalLabeLp(cur), &lab, sizeof(lab));
    memcpy(h.getDataByInternalId(cur), point, h.data_size_);
    if (curlevel) {
      h.linkLists_[cur] = static_cast<char*>(malloc(h.size_links_per_element_ * curlevel + 1));
      if (h.linkLists_[cur] == nullptr) throw std::runtime_error("Not enough memory: addPoint failed to allocate linklist");
      memset(h.linkLists_[cur], 0, h.size_links_per_element_ * curlevel + 1);
    }
    maxlevelcopy = h.maxlevel_;
    currObj = h.enterpoint_node_;
    if (static_cast<int>(currObj) == -1) {  // the first element
      h.enterpoint_node_ = cur;
      h.maxlevel_ = curlevel;
      return;
    }
  }
  const tableint ep = currObj;
  std::vector<LevelLinks> levels;
  {
    SharedGuard g(e.lock);
    if (curlevel < maxlevelcopy) currObj = descend(h, point, currObj, maxlevelcopy, curlevel);
    bool epDeleted = h.isMarkedDeleted(ep);
    for (int level = std::min(curlevel, maxlevelcopy); level >= 0; level--) levels.push_back(planLevel(h, point, cur, currObj, level, epDeleted, ep));
  }
  e.lock.letReadersIn();
  ExclusiveGuard g(e.lock);
  for (const auto& l : levels) writeLevel(h, cur, l);
  if (curlevel > maxlevelcopy) {
    h.enterpoint_node_ = cur;
    h.maxlevel_ = curlevel;
  }
}

// Loads a file into a new entry; throws std::runtime_error when hnswlib cannot read it or its
// dims differ from `dim`.
std::shared_ptr<Entry> loadEntry(const std::string& path, size_t dim) {
  auto e = std::make_shared<Entry>(dim);
  e->index = std::make_unique<Hnsw>(&e->space, path, false, 0, false);
  size_t fileDim = (e->index->label_offset_ - e->index->offsetData_) / sizeof(float);
  if (fileDim != dim) throw std::runtime_error("index file has " + std::to_string(fileDim) + " dims, expected " + std::to_string(dim));
  return e;
}

// A promise settled from a thread-pool job's completion. Raw N-API calls whose failures are
// ignored: when the job completes while its thread's environment is being torn down (a worker
// thread exiting), node-addon-api would throw, and a throw in a dying environment is fatal.
class Settle {
 public:
  explicit Settle(napi_env env) { napi_create_promise(env, &deferred, &promise); }
  napi_value Promise() const { return promise; }
  void resolveUndefined(napi_env env) {
    napi_value v;
    if (napi_get_undefined(env, &v) == napi_ok) napi_resolve_deferred(env, deferred, v);
  }
  void reject(napi_env env, const std::string& message) {
    napi_value msg, err;
    if (napi_create_string_utf8(env, message.c_str(), message.size(), &msg) != napi_ok) return;
    if (napi_create_error(env, nullptr, msg, &err) != napi_ok) return;
    napi_reject_deferred(env, deferred, err);
  }

 private:
  napi_deferred deferred = nullptr;
  napi_value promise = nullptr;
};

Napi::Value fail(Napi::Env env, const std::string& msg) {
  Napi::Error::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

#define ENTRY(env, v)                                                        \
  auto e = find((v).As<Napi::Number>().Uint32Value());                       \
  if (!e) return fail(env, "mrl_hnsw: unknown or released index handle");

// create(dim, maxElements, m, efConstruction, seed) -> handle
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t dim = info[0].As<Napi::Number>().Uint32Value();
  size_t maxElements = info[1].As<Napi::Number>().Uint32Value();
  size_t m = info[2].As<Napi::Number>().Uint32Value();
  size_t efc = info[3].As<Napi::Number>().Uint32Value();
  size_t seed = info[4].As<Napi::Number>().Uint32Value();
  try {
    auto e = std::make_shared<Entry>(dim);
    e->index = std::make_unique<Hnsw>(&e->space, maxElements, m, efc, seed, false);
    return Napi::Number::New(env, put(std::move(e)));
  } catch (const std::exception& err) {
    return fail(env, err.what());
  }
}

// loadSync(path, dim) -> handle
Napi::Value LoadSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    auto e = loadEntry(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Number>().Uint32Value());
    return Napi::Number::New(env, put(std::move(e)));
  } catch (const std::exception& err) {
    return fail(env, err.what());
  }
}

// saveSync(handle, path): searches go on meanwhile; it waits for the insertion under way to end
Napi::Value SaveSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  try {
    std::lock_guard<std::mutex> w(e->writing);
    SharedGuard g(e->lock);
    e->index->saveIndex(info[1].As<Napi::String>().Utf8Value());
  } catch (const std::exception& err) {
    return fail(env, err.what());
  }
  return env.Undefined();
}

// add(handle, label, vector: Float32Array(dim)) on the calling thread
Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  uint32_t label = info[1].As<Napi::Number>().Uint32Value();
  auto v = info[2].As<Napi::Float32Array>();
  if (v.ElementLength() != e->dim) return fail(env, "mrl_hnsw: vector length differs from the index's dims");
  try {
    std::lock_guard<std::mutex> w(e->writing);
    insertRow(*e, v.Data(), label);
  } catch (const std::exception& err) {
    return fail(env, err.what());
  }
  return env.Undefined();
}

class AddWorker : public Napi::AsyncWorker {
 public:
  AddWorker(Napi::Env env, std::shared_ptr<Entry> e, std::vector<uint32_t> labels, std::vector<float> data, int nice)
      : Napi::AsyncWorker(env),
        settle(env),
        e(std::move(e)),
        labels(std::move(labels)),
        data(std::move(data)),
        nice(nice) {}
  napi_value promise() { return settle.Promise(); }
  void Execute() override {
    // A background insertion yields the cores to the threads serving requests: this pool thread
    // runs at `nice` while it inserts (Linux nice values are per thread), then goes back where it
    // can (raising priority again may need privileges; otherwise the thread stays lowered).
    pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    int before = getpriority(PRIO_PROCESS, tid);
    if (nice > before) setpriority(PRIO_PROCESS, tid, nice);
    try {
      for (size_t i = 0; i < labels.size(); i++) {
        std::lock_guard<std::mutex> w(e->writing);
        insertRow(*e, data.data() + i * e->dim, labels[i]);
      }
    } catch (const std::exception& err) {
      message = err.what();
      SetError(message);
    }
    if (nice > before) setpriority(PRIO_PROCESS, tid, before);
  }
  void OnOK() override { settle.resolveUndefined(Env()); }
  void OnError(const Napi::Error&) override { settle.reject(Env(), message); }

 private:
  Settle settle;
  std::string message;
  std::shared_ptr<Entry> e;
  std::vector<uint32_t> labels;
  std::vector<float> data;
  int nice;
};

// addBatch(handle, labels: Uint32Array(n), rows: Float32Array(n * dim), nice = 0) -> Promise,
// inserted on the thread pool in order (the inputs are copied first), at nice value `nice`
Napi::Value AddBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  auto labels = info[1].As<Napi::Uint32Array>();
  auto rows = info[2].As<Napi::Float32Array>();
  if (rows.ElementLength() != labels.ElementLength() * e->dim) return fail(env, "mrl_hnsw: rows and labels differ in count");
  std::vector<uint32_t> l(labels.Data(), labels.Data() + labels.ElementLength());
  std::vector<float> d(rows.Data(), rows.Data() + rows.ElementLength());
  int nice = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 0;
  auto* w = new AddWorker(env, e, std::move(l), std::move(d), nice);
  napi_value p = w->promise();
  w->Queue();
  return Napi::Value(env, p);
}

// markDelete(handle, label) -> whether it was there and live
Napi::Value MarkDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  try {
    ExclusiveGuard g(e->lock);
    e->index->markDelete(info[1].As<Napi::Number>().Uint32Value());
    return Napi::Boolean::New(env, true);
  } catch (const std::exception&) {
    return Napi::Boolean::New(env, false);
  }
}

class JsFilter : public hnswlib::BaseFilterFunctor {
 public:
  JsFilter(Napi::Env env, Napi::Function fn) : env(env), fn(fn) {}
  bool operator()(hnswlib::labeltype id) override {
    if (failed) return false;
    Napi::Value r = fn.Call({Napi::Number::New(env, static_cast<double>(id))});
    if (env.IsExceptionPending()) {
      failed = true;
      return false;
    }
    return r.ToBoolean().Value();
  }
  bool failed = false;

 private:
  Napi::Env env;
  Napi::Function fn;
};

// search(handle, query: Float32Array(dim), k, ef, filter?) -> Float64Array [n seqs, then their n
// scores], best first, score = 1 - inner-product distance. hnswlib's own searchKnn with `ef` per call (its
// ef_ is one value per index, not safe to set from several threads).
Napi::Value Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  auto q = info[1].As<Napi::Float32Array>();
  if (q.ElementLength() != e->dim) return fail(env, "mrl_hnsw: query length differs from the index's dims");
  size_t k = info[2].As<Napi::Number>().Uint32Value();
  size_t ef = info[3].As<Napi::Number>().Uint32Value();
  std::unique_ptr<JsFilter> filter;
  if (info.Length() > 4 && info[4].IsFunction()) filter = std::make_unique<JsFilter>(env, info[4].As<Napi::Function>());
  std::vector<std::pair<float, hnswlib::labeltype>> out;
  try {
    SharedGuard g(e->lock);
    Hnsw& h = *e->index;
    if (h.cur_element_count > 0 && k > 0) {
      const void* qd = q.Data();
      hnswlib::tableint cur = descend(h, qd, h.enterpoint_node_, h.maxlevel_, 0);
      size_t beam = std::max(ef, k);
      auto top = (h.num_deleted_ == 0 && !filter) ? h.searchBaseLayerST<true>(cur, qd, beam, nullptr)
                                                   : h.searchBaseLayerST<false>(cur, qd, beam, filter.get());
      while (top.size() > k) top.pop();
      out.resize(top.size());
      for (size_t i = top.size(); i-- > 0;) {
        out[i] = {top.top().first, h.getExternalLabel(top.top().second)};
        top.pop();
      }
    }
  } catch (const std::exception& err) {
    return fail(env, err.what());
  }
  if (env.IsExceptionPending()) return env.Undefined();
  // One typed array, filled in place: N-API's per-element Set on two Arrays cost ~0.25 µs an
  // element (200 µs for 400 candidates), more than the JS loop that spreads this one out.
  size_t n = out.size();
  auto res = Napi::Float64Array::New(env, 2 * n);
  double* d = res.Data();
  for (size_t i = 0; i < n; i++) {
    d[i] = static_cast<double>(out[i].second);
    d[n + i] = 1.0 - static_cast<double>(out[i].first);
  }
  return res;
}

// labels(handle) -> Uint32Array of every label in the graph (deleted ones included)
Napi::Value Labels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  std::vector<uint32_t> ids;
  {
    std::lock_guard<std::mutex> w(e->writing);  // not a label whose insertion is under way
    SharedGuard g(e->lock);
    std::lock_guard<std::mutex> l(e->index->label_lookup_lock);
    ids.reserve(e->index->label_lookup_.size());
    for (auto& kv : e->index->label_lookup_) ids.push_back(static_cast<uint32_t>(kv.first));
  }
  auto arr = Napi::Uint32Array::New(env, ids.size());
  std::copy(ids.begin(), ids.end(), arr.Data());
  return arr;
}

// count(handle) -> elements including deleted ones (what a search asks, without stats' array)
Napi::Value Count(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  return Napi::Number::New(env, static_cast<double>(e->index->cur_element_count.load()));
}

// stats(handle) -> [elements, capacity, searches that waited for an insertion, their total wait
// in ms, the longest in ms]
Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  auto arr = Napi::Array::New(env, 5);
  arr.Set(0u, Napi::Number::New(env, static_cast<double>(e->index->cur_element_count.load())));
  arr.Set(1u, Napi::Number::New(env, static_cast<double>(e->index->max_elements_)));
  arr.Set(2u, Napi::Number::New(env, static_cast<double>(e->lock.waits.load())));
  arr.Set(3u, Napi::Number::New(env, e->lock.totalWaitNs.load() / 1e6));
  arr.Set(4u, Napi::Number::New(env, e->lock.maxWaitNs.load() / 1e6));
  return arr;
}

// release(handle): the index is freed once no insertion in flight holds it
// share(handle) -> another handle to the same graph, for another thread (each handle is released
// on its own; the graph goes with the last one, and with the last insertion still using it)
Napi::Value Share(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  return Napi::Number::New(env, put(std::move(e)));
}

// deleted(handle) -> elements marked deleted
Napi::Value Deleted(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ENTRY(env, info[0]);
  return Napi::Number::New(env, static_cast<double>(e->index->num_deleted_.load()));
}

Napi::Value Release(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> g(registryLock);
  registry.erase(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// scanTop(rows: Float32Array, seqs: Uint32Array, start, end, query: Float32Array(d), want)
//   -> { seqs: Uint32Array, scores: Float32Array }
// The exact top `want` by inner product of the rows in slots [start, end) (d values each, slot i
// at rows[i*d]), skipping slots whose seq is 0; best first, ties to the earlier slot. The pending
// rows' scan (src/search/pending.ts), on the calling thread.
Napi::Value ScanTop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto rows = info[0].As<Napi::Float32Array>();
  auto seqs = info[1].As<Napi::Uint32Array>();
  size_t start = info[2].As<Napi::Number>().Uint32Value();
  size_t end = info[3].As<Napi::Number>().Uint32Value();
  auto q = info[4].As<Napi::Float32Array>();
  size_t want = info[5].As<Napi::Number>().Uint32Value();
  size_t d = q.ElementLength();
  if (end > seqs.ElementLength() || end * d > rows.ElementLength() || start > end)
    return fail(env, "mrl_hnsw.scanTop: slots out of range");
  const float* r = rows.Data();
  const uint32_t* sq = seqs.Data();
  const float* qd = q.Data();
  // Min-heap of (score, -slot): its top is the worst kept row (the lowest score, then the latest slot).
  // Scores in float32, as the graph scores (hnswlib's inner product), summed in 8 lanes.
  using Kept = std::pair<float, int64_t>;
  std::priority_queue<Kept, std::vector<Kept>, std::greater<Kept>> heap;
  for (size_t slot = start; slot < end && want > 0; slot++) {
    if (sq[slot] == 0) continue;
    const float* row = r + slot * d;
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= d; k += 8)
      for (size_t j = 0; j < 8; j++) lanes[j] += qd[k + j] * row[k + j];
    float dot = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (; k < d; k++) dot += qd[k] * row[k];
    Kept item{dot, -static_cast<int64_t>(slot)};
    if (heap.size() < want) heap.push(item);
    else if (item > heap.top()) {
      heap.pop();
      heap.push(item);
    }
  }
  size_t n = heap.size();
  auto outSeqs = Napi::Uint32Array::New(env, n);
  auto outScores = Napi::Float32Array::New(env, n);
  for (size_t i = n; i-- > 0;) {
    outSeqs[i] = sq[-heap.top().second];
    outScores[i] = heap.top().first;
    heap.pop();
  }
  Napi::Object res = Napi::Object::New(env);
  res.Set("seqs", outSeqs);
  res.Set("scores", outScores);
  return res;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerRerank(env, exports);
  exports.Set("scanTop", Napi::Function::New(env, ScanTop));
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("loadSync", Napi::Function::New(env, LoadSync));
  exports.Set("saveSync", Napi::Function::New(env, SaveSync));
  exports.Set("add", Napi::Function::New(env, Add));
  exports.Set("addBatch", Napi::Function::New(env, AddBatch));
  exports.Set("markDelete", Napi::Function::New(env, MarkDelete));
  exports.Set("search", Napi::Function::New(env, Search));
  exports.Set("labels", Napi::Function::New(env, Labels));
  exports.Set("count", Napi::Function::New(env, Count));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("release", Napi::Function::New(env, Release));
  exports.Set("share", Napi::Function::New(env, Share));
  exports.Set("deleted", Napi::Function::New(env, Deleted));
  return exports;
}

}  // namespace

NODE_API_MODULE(mrl_hnsw, Init)
