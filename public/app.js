// The mrl-server page: collections, search (by text or by id) and the latest evaluation.
// Plain DOM; every value from the API goes in as text, never as HTML.
import { chart, legend } from './plot.js';
import { qualityChart, qualitySummary } from './quality.js';

const $ = (id) => document.getElementById(id);

const state = {
  collections: [],
  /** encoder name -> input kind ('text', 'image', ...) from GET /models */
  inputKinds: new Map(),
  current: null,
  searchSeq: 0,
  evalSeq: 0,
  qualitySeq: 0,
};

// ---- helpers -----------------------------------------------------------------------------

/** An HTML element with properties/attributes and children (strings become text nodes). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// ---- API key ------------------------------------------------------------------------------
// A server with API keys answers 401: the page asks for a key once and keeps it for this tab
// only (sessionStorage: gone when the tab closes, never sent anywhere but this server).

const KEY_ITEM = 'mrl-api-key';
let keyPrompt = null;

/** Shows the key form (once, however many requests are waiting) and resolves with the key typed. */
function askForKey(reason) {
  if (keyPrompt) return keyPrompt;
  keyPrompt = new Promise((resolve) => {
    const form = $('key-form');
    $('key-reason').textContent = reason;
    form.hidden = false;
    $('key-input').focus();
    const submit = (e) => {
      e.preventDefault();
      const key = $('key-input').value.trim();
      if (!key) return;
      form.removeEventListener('submit', submit);
      sessionStorage.setItem(KEY_ITEM, key);
      $('key-input').value = '';
      form.hidden = true;
      keyPrompt = null;
      resolve(key);
    };
    form.addEventListener('submit', submit);
  });
  return keyPrompt;
}

function authHeaders() {
  const key = sessionStorage.getItem(KEY_ITEM);
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** GET a JSON endpoint; a non-2xx reply throws ApiError with the API's { error: { code, message } }. 401 asks for a key and retries. */
async function api(path) {
  for (;;) {
    let res;
    try {
      res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders() } });
    } catch (e) {
      throw new ApiError(0, 'NETWORK', `cannot reach the server (${e.message})`);
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: reported below for errors, and a 2xx non-JSON reply is itself an error
    }
    const err = body && typeof body === 'object' ? body.error : undefined;
    if (res.status === 401) {
      const had = sessionStorage.getItem(KEY_ITEM) !== null;
      sessionStorage.removeItem(KEY_ITEM);
      await askForKey(had ? 'That key was not accepted (unknown or revoked): enter another.' : 'This server needs an API key.');
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.slice(0, 300) || res.statusText));
    if (body === null) throw new ApiError(res.status, 'BAD_REPLY', `${path} did not answer JSON`);
    return body;
  }
}

function showError(container, err) {
  const e = err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err?.message ?? err));
  container.replaceChildren(
    h(
      'div',
      { class: 'error', role: 'alert' },
      h('span', { class: 'code' }, e.code),
      h('span', { class: 'message' }, e.message),
      e.status ? h('span', { class: 'status' }, `HTTP ${e.status}`) : null,
    ),
  );
}

const fmt = {
  int: (n) => Number(n).toLocaleString('en-US'),
  f4: (n) => (n === null || n === undefined ? '–' : Number(n).toFixed(4)), // label metrics are null without labels
  ms: (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n >= 1 ? n.toFixed(2) : n.toFixed(3)),
  si: (n) => {
    const units = [
      [1e12, 'T'],
      [1e9, 'G'],
      [1e6, 'M'],
      [1e3, 'k'],
    ];
    for (const [v, u] of units) if (Math.abs(n) >= v) return `${(n / v).toPrecision(3)} ${u}`;
    return String(Math.round(n));
  },
  bytes: (n) => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`),
};

/** A payload in one short line (the full JSON, capped, as the tooltip). */
function brief(payload) {
  if (payload === null || payload === undefined) return ['—', null];
  const full = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return [full.length > 90 ? `${full.slice(0, 89)}…` : full, full.length > 90 ? full.slice(0, 2000) : null];
}

/** 'text' when the collection's encoder takes text, 'image' for images, null without an encoder. */
function inputKind(c) {
  if (!c?.encoder) return null;
  return state.inputKinds.get(c.encoder) ?? 'unknown';
}

// ---- collections -------------------------------------------------------------------------

async function loadCollections() {
  const list = $('collections');
  $('collections-error').replaceChildren();
  try {
    const [cols, models] = await Promise.all([api('/collections'), api('/models').catch(() => ({ models: [] }))]);
    state.collections = cols.collections;
    state.inputKinds = new Map(models.models.map((m) => [m.name, m.input?.kind ?? (typeof m.input === 'string' ? m.input : 'unknown')]));
  } catch (err) {
    list.replaceChildren();
    showError($('collections-error'), err);
    return;
  }
  renderCollectionList();
  const wanted = decodeURIComponent(location.hash.slice(1));
  const pick = state.collections.find((c) => c.name === (state.current?.name ?? wanted));
  if (pick) return selectCollection(pick.name, { keepResults: state.current?.name === pick.name });
  // the selected collection is gone (dropped elsewhere): back to the empty state
  state.current = null;
  $('collection').hidden = true;
  $('empty').hidden = false;
}

function renderCollectionList() {
  const list = $('collections');
  if (!state.collections.length) {
    list.replaceChildren(h('li', { class: 'muted' }, 'No collections yet: POST /collections, then /ingest.'));
    return;
  }
  list.replaceChildren(
    ...state.collections.map((c) => {
      const kind = inputKind(c);
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'collection',
            'data-name': c.name,
            'aria-current': state.current?.name === c.name ? 'true' : null,
            onclick: () => selectCollection(c.name),
          },
          h('span', { class: 'name' }, c.name),
          h('span', { class: 'count' }, `${fmt.int(c.count)} ${c.count === 1 ? 'item' : 'items'}`),
          h('span', { class: 'meta' }, `${c.dim} dims${kind ? ` · ${c.encoder} (${kind})` : ''}`),
        ),
      );
    }),
  );
}

async function selectCollection(name, { keepResults = false } = {}) {
  const c = state.collections.find((x) => x.name === name);
  if (!c) return;
  state.current = c;
  if (decodeURIComponent(location.hash.slice(1)) !== name) history.replaceState(null, '', `#${encodeURIComponent(name)}`);
  renderCollectionList();
  $('empty').hidden = true;
  $('collection').hidden = false;
  $('c-name').textContent = c.name;
  renderFacts(c, null);
  setupSearch(c);
  if (!keepResults) {
    $('search-out').hidden = true;
    $('search-error').replaceChildren();
  }
  loadEval(c.name);
  loadQuality(c, false);
  try {
    const detail = await api(`/collections/${encodeURIComponent(name)}`);
    if (state.current?.name === name) renderFacts(detail, detail);
  } catch {
    // the list's figures stay; a search will report what is wrong
  }
}

function renderFacts(c, detail) {
  const kind = inputKind(c);
  const facts = [
    ['items', fmt.int(c.count)],
    ['dims', String(c.dim)],
    ['index prefix', String(c.indexDim)],
    ['rerank prefix', String(c.rerankDim)],
    ['encoder', c.encoder ? `${c.encoder} (${kind})` : 'none'],
  ];
  if (detail) {
    facts.push(['index', `${detail.index.state}, ${fmt.int(detail.index.elements - detail.index.deleted)} vectors`]);
    facts.push(['memory', `${fmt.bytes(detail.memory.indexBytes)} index + ${fmt.bytes(detail.memory.matrixBytes)} matrix`]);
  }
  $('c-facts').replaceChildren(...facts.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

// ---- search ------------------------------------------------------------------------------

function setupSearch(c) {
  const text = inputKind(c) === 'text';
  $('query-label').textContent = text ? 'Text query' : 'Item id';
  const input = $('query');
  input.placeholder = text ? 'e.g. interest rates' : 'an id stored in this collection';
  input.dataset.mode = text ? 'q' : 'id';
  $('query-hint').textContent = text
    ? `embedded with ${c.encoder}, top 10`
    : 'top 10 neighbours of that item (the item itself is left out)';
  // Hybrid needs the query as text for both lists: only a text-encoder collection has that.
  $('mode').querySelector('option[value="hybrid"]').disabled = !text;
  if (!text && $('mode').value === 'hybrid') $('mode').value = 'vector';
}

/** The query string of a search: the box as q or id (vector), as text (keyword), or q with hybrid=true; then the filter. */
function searchParams(value) {
  const mode = $('mode').value;
  const param = mode === 'keyword' ? 'text' : $('query').dataset.mode === 'q' ? 'q' : 'id';
  let qs = `${param}=${encodeURIComponent(value)}${mode === 'hybrid' ? '&hybrid=true' : ''}&k=10`;
  const filter = $('filter').value.trim();
  if (filter) qs += `&filter=${encodeURIComponent(filter)}`;
  return { qs, param };
}

async function runSearch(value) {
  const c = state.current;
  if (!c || !value) return;
  const { qs, param } = searchParams(value);
  const seq = ++state.searchSeq;
  const url = `/search?collection=${encodeURIComponent(c.name)}&${qs}`;
  const form = $('search');
  form.classList.add('busy');
  try {
    const reply = await api(url);
    if (seq !== state.searchSeq) return;
    $('search-error').replaceChildren();
    renderResults(c, reply, param);
  } catch (err) {
    if (seq !== state.searchSeq) return;
    $('search-out').hidden = true;
    showError($('search-error'), err);
  } finally {
    if (seq === state.searchSeq) form.classList.remove('busy');
  }
}

function renderResults(c, reply, param) {
  const image = inputKind(c) === 'image';
  $('results').classList.toggle('no-payload', image);
  $('stages').replaceChildren(
    ...reply.stages.map((st, i) =>
      h(
        'span',
        { class: 'stage', 'data-source': st.source },
        h('b', {}, `${i + 1}. ${st.source}`),
        ` ${st.dims} dims · ${fmt.int(st.candidates)} candidates · `,
        h('span', { class: 'ms' }, `${fmt.ms(st.ms)} ms`),
      ),
    ),
    ...(reply.keyword
      ? [
          h(
            'span',
            { class: 'stage', 'data-source': 'keyword' },
            h('b', {}, 'keyword'),
            ` BM25 · ${fmt.int(reply.keyword.candidates)} hits · `,
            h('span', { class: 'ms' }, `${fmt.ms(reply.keyword.ms)} ms`),
          ),
        ]
      : []),
    ...(reply.filter
      ? [
          h(
            'span',
            { class: 'stage', 'data-source': 'filter' },
            h('b', {}, 'filter'),
            ` ${reply.filter.plan}${reply.filter.fallback ? ' (fell back to exact)' : ''} · ${fmt.int(reply.filter.matched)} matched`,
          ),
        ]
      : []),
    h('span', { class: 'stage total' }, h('b', {}, 'total'), ' ', h('span', { class: 'ms' }, `${fmt.ms(reply.ms)} ms`)),
  );
  const rows = reply.results.map((r, i) => {
    const [text, title] = brief(r.payload);
    const id =
      param === 'id'
        ? h(
            'button',
            {
              type: 'button',
              class: 'link id',
              title: `search by ${r.id}`,
              onclick: () => {
                $('query').value = r.id;
                runSearch(r.id);
              },
            },
            r.id,
          )
        : h('span', { class: 'id' }, r.id);
    return h(
      'tr',
      {},
      h('td', { class: 'num rank' }, String(i + 1)),
      h('td', {}, id),
      h('td', { class: 'num score' }, fmt.f4(r.score)),
      h('td', { class: 'label' }, r.label ?? '—'),
      h('td', { class: 'payload-col payload', title }, text),
      h('td', { class: 'found' }, foundBy(r)),
    );
  });
  $('results').tBodies[0].replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'no results'))]));
  $('search-out').hidden = false;
}

/** Which list found a hit and at which rank: "vector #3 · keyword #1" (a plain vector search has no sources). */
function foundBy(r) {
  if (!r.sources) return 'vector';
  const parts = [];
  if (r.sources.vector) parts.push(`vector #${r.sources.vector.rank}`);
  if (r.sources.text) parts.push(`keyword #${r.sources.text.rank}`);
  return parts.join(' · ');
}

// ---- evaluation --------------------------------------------------------------------------

async function loadEval(name) {
  const seq = ++state.evalSeq;
  $('eval-error').replaceChildren();
  let reply;
  try {
    reply = await api(`/eval/latest?collection=${encodeURIComponent(name)}`);
  } catch (err) {
    if (seq !== state.evalSeq) return;
    if (err.status === 404) return renderEval(name, null, null);
    $('eval-body').hidden = true;
    $('eval-empty').hidden = true;
    return showError($('eval-error'), err);
  }
  if (seq === state.evalSeq) renderEval(name, reply.eval ?? null, reply.sweep ?? null);
}

function noEvalYet(name, what = 'no evaluation yet') {
  return [`${what} — run `, h('code', {}, `mrl eval --sweep --collection ${name}`), ' or ', h('code', {}, 'POST /eval/sweep')];
}

function renderEval(name, ev, sweep) {
  const empty = $('eval-empty');
  if (!ev && !sweep) {
    empty.replaceChildren(...noEvalYet(name));
    empty.hidden = false;
    $('eval-body').hidden = true;
    return;
  }
  empty.hidden = true;
  $('eval-body').hidden = false;
  if (sweep) {
    $('chart-dims').replaceChildren(dimsChart(sweep));
    $('chart-pareto').replaceChildren(...paretoChart(sweep));
  } else {
    for (const id of ['chart-dims', 'chart-pareto']) $(id).replaceChildren(h('p', { class: 'notice' }, ...noEvalYet(name, 'no sweep yet')));
  }
  $('eval-table').replaceChildren(...evalTable(name, ev, sweep));
}

const latencyTitle = (l) => `p50 ${fmt.ms(l.p50)} ms, p99 ${fmt.ms(l.p99)} ms`;

function dimsChart(sweep) {
  const pts = [...sweep.perDim]
    .sort((a, b) => a.dims - b.dims)
    .map((p) => ({
      x: p.dims,
      y: p.mapAt10,
      title: `${p.dims} dims: mAP@10 ${fmt.f4(p.mapAt10)}, top-1 ${fmt.f4(p.top1)}, recall@10 vs exact ${fmt.f4(p.recallAt10VsExact)}, ${latencyTitle(p.latencyMs)}`,
    }));
  if (!pts.length) return h('p', { class: 'muted' }, 'the sweep has no per-dims points');
  return chart({
    x: { label: 'dims (log₂)', log2: true },
    y: { label: 'mAP@10' }, // tick labels carry the decimals the ticks need (chart-core.js), so narrow ranges keep their digits
    layers: [{ points: pts, line: true, cls: 'series-a' }],
  });
}

function paretoChart(sweep) {
  const point = (p, note) => ({
    x: p.latencyMs.p50,
    y: p.mapAt10,
    note,
    title: `${p.label}: mAP@10 ${fmt.f4(p.mapAt10)}, recall@10 vs exact ${fmt.f4(p.recallAt10VsExact)}, ${latencyTitle(p.latencyMs)}, ${fmt.si(p.flopsPerQuery)}FLOP/query`,
  });
  const pareto = sweep.points.filter((p) => p.pareto).sort((a, b) => a.latencyMs.p50 - b.latencyMs.p50);
  const layers = [
    { points: sweep.points.filter((p) => !p.pareto).map((p) => point(p)), cls: 'series-muted' },
    { points: pareto.map((p) => point(p)), line: true, cls: 'series-a' },
    { points: [point(sweep.exact, 'exact')], shape: 'square', r: 4.5, cls: 'series-exact' },
  ];
  if (sweep.best) layers.push({ points: [point(sweep.best, 'best')], shape: 'ring', cls: 'series-best' });
  const svg = chart({
    x: { label: 'latency p50 (ms)', zero: true },
    y: { label: 'mAP@10' }, // tick labels carry the decimals the ticks need (chart-core.js), so narrow ranges keep their digits
    layers,
  });
  const keys = [
    { label: 'configuration', cls: 'series-muted' },
    { label: 'pareto front', cls: 'series-a', line: true },
    { label: 'exact, full dims', cls: 'series-exact', shape: 'square' },
  ];
  if (sweep.best) keys.push({ label: 'best within tolerance', cls: 'series-best', shape: 'ring' });
  return [svg, legend(keys)];
}

function evalTable(name, ev, sweep) {
  const out = [];
  if (ev) {
    const stages = ev.config?.stages?.map((st) => `${st.source} ${st.dims}d → ${st.keep}`).join(', ');
    const rows = [
      ['mAP@10', fmt.f4(ev.mapAt10)],
      ['mAP@10 (hit-normalised)', fmt.f4(ev.mapAt10HitNormalized)],
      ['precision@10', fmt.f4(ev.precisionAt10)],
      ['top-1', fmt.f4(ev.top1)],
      ['recall@10 vs exact', fmt.f4(ev.recallAt10VsExact)],
      ['latency p50', `${fmt.ms(ev.latencyMs.p50)} ms`],
      ['latency p99', `${fmt.ms(ev.latencyMs.p99)} ms`],
      ['queries / s', fmt.int(Math.round(ev.qps))],
      ['FLOPs / query', fmt.si(ev.flopsPerQuery)],
      ['queries', fmt.int(ev.queries)],
    ];
    out.push(
      h(
        'table',
        { class: 'figures', id: 'eval-figures' },
        h(
          'caption',
          {},
          'Evaluation ',
          h('span', { class: 'muted' }, `${new Date(ev.createdAt).toLocaleString()}${stages ? ` · ${stages}` : ''}`),
        ),
        h(
          'tbody',
          {},
          rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'num' }, v))),
        ),
      ),
    );
  } else {
    out.push(h('p', { class: 'notice' }, ...noEvalYet(name, 'no single-configuration evaluation yet')));
  }
  if (sweep) {
    const best = sweep.best
      ? [`best: `, h('b', {}, sweep.best.label), ` (p50 ${fmt.ms(sweep.best.latencyMs.p50)} ms, mAP@10 ${fmt.f4(sweep.best.mapAt10)})`]
      : ['no configuration within tolerance of exact'];
    out.push(
      h(
        'p',
        { class: 'sweep-summary muted' },
        `Sweep ${new Date(sweep.createdAt).toLocaleString()}: ${fmt.int(sweep.queries)} queries, ${sweep.points.length} configurations; `,
        ...best,
        `; tolerance recall ${sweep.tolerance.recall}, mAP@10 ${sweep.tolerance.mapAt10}${sweep.applied ? '; applied as the collection defaults' : ''}.`,
      ),
    );
  }
  return out;
}

// ---- quality -----------------------------------------------------------------------------

/** The stored report when the listing shows one (no work on the server); otherwise a button that computes it. */
async function loadQuality(c, compute) {
  const seq = ++state.qualitySeq;
  $('quality-error').replaceChildren();
  if (!c.quality && !compute) {
    $('quality-body').hidden = true;
    const button = h('button', { type: 'button', onclick: () => loadQuality(c, true) }, 'compute the report');
    $('quality-empty').replaceChildren('No quality report yet (computed at 5,000 items, then at every doubling) — ', button);
    $('quality-empty').hidden = false;
    return;
  }
  try {
    const report = await api(`/collections/${encodeURIComponent(c.name)}/quality`);
    if (seq !== state.qualitySeq) return;
    $('quality-empty').hidden = true;
    $('quality-body').hidden = false;
    $('chart-quality').replaceChildren(...qualityChart(report));
    $('quality-summary').replaceChildren(...qualitySummary(report, h));
  } catch (err) {
    if (seq !== state.qualitySeq) return;
    $('quality-body').hidden = true;
    $('quality-empty').hidden = true;
    showError($('quality-error'), err);
  }
}

// ---- wiring ------------------------------------------------------------------------------

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  runSearch($('query').value.trim());
});
$('refresh').addEventListener('click', () => loadCollections());
loadCollections();
