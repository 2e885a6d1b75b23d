// wtb console: plain DOM, no dependencies. Data comes only from the public
// HTTP API; the token lives in sessionStorage and travels in the
// Authorization header (never in a URL).

const TOKEN_KEY = 'wtb.token';
const MAX_ENTRIES = 200000; // entries kept per execution view (oldest dropped beyond)
const ROW_H = 24;           // timeline row height, px
const WF_ROW_H = 22;        // waterfall row height, px
const SMALL_LIST = 300;     // lists this short are rendered whole

// ---- stats the browser tests read -------------------------------------------------
const stats = { latencies: [], maxLatencies: 100000, usableAt: 0, rendered: 0 };
window.wtbConsole = { stats, seqs: () => current && current.seqs ? current.seqs() : [] };

// ---- small DOM helpers ------------------------------------------------------------
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k != null) el.append(k instanceof Node ? k : String(k));
  return el;
}
function svg(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) el.setAttribute(k, v);
  for (const k of kids.flat()) if (k != null) el.append(k instanceof Node ? k : String(k));
  return el;
}
const $ = (sel, root = document) => root.querySelector(sel);
function link(href, ...kids) { return h('a', { href, 'data-link': true }, ...kids); }
function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').slice(0, 23) + 'Z';
}
function fmtClock(iso) { return iso ? new Date(iso).toISOString().slice(11, 23) : ''; }
function fmtMS(ms) {
  if (ms == null) return '–';
  const a = Math.abs(ms);
  if (a >= 60000) return (ms / 60000).toFixed(1) + ' min';
  if (a >= 1000) return (ms / 1000).toFixed(2) + ' s';
  return (a < 10 ? ms.toFixed(1) : ms.toFixed(0)) + ' ms';
}
// fmtNum shows a score or metric as a person writes it: at most four
// decimals without float noise (0.8300000000000001 is 0.83), integers as
// they are, very small values with three significant digits.
function fmtNum(x) {
  if (x == null || x === '') return '–';
  if (typeof x === 'object') return JSON.stringify(x);
  const n = Number(x);
  if (!Number.isFinite(n)) return String(x);
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) < 0.001) return n.toPrecision(3);
  return n.toLocaleString('en-US', { maximumFractionDigits: Math.abs(n) >= 100 ? 1 : 4 });
}
function fmtMetrics(m) {
  return m ? Object.entries(m).map(([k, x]) => k + ' ' + fmtNum(x)).join(' · ') : '';
}
function fmtDelta(ms) { return ms == null ? '' : (ms > 0 ? '+' : ms < 0 ? '−' : '±') + fmtMS(Math.abs(ms)); }
// heads is a table head row; the columns named in numeric are right-aligned
// like their values.
function heads(names, numeric = []) {
  return h('thead', {}, h('tr', {}, ...names.map(t => h('th', { class: numeric.includes(t) ? 'num' : null, text: t }))));
}
function badge(status) { return h('span', { class: 'badge st-' + status, text: status }); }
function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }

// ---- API ---------------------------------------------------------------------------
class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
function authHeaders() {
  const t = sessionStorage.getItem(TOKEN_KEY);
  return t ? { Authorization: 'Bearer ' + t } : {};
}
async function api(path, opts = {}) {
  const res = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() }, signal: opts.signal });
  if (!res.ok) {
    let code = 'http_' + res.status, message = res.statusText;
    try { const b = await res.json(); code = b.error.code; message = b.error.message; } catch { /* not JSON */ }
    const err = new APIError(res.status, code, message);
    if (res.status === 401 || res.status === 403) askToken(err);
    throw err;
  }
  return opts.raw ? res : res.json();
}

// ---- token dialog ------------------------------------------------------------------
let tokenWaiters = [];
function askToken(err) {
  const dlg = $('#token-dialog');
  $('#token-error').textContent = err ? tokenMessage(err) : '';
  if (!dlg.open) dlg.showModal();
  $('#token-input').focus();
}
function tokenMessage(err) {
  const had = sessionStorage.getItem(TOKEN_KEY);
  if (err.status === 403) return 'This token may not read: ' + err.message + '. Use a token with the read scope.';
  return had ? 'The server refused this token (' + err.message + '). Check it and try again.'
    : 'This server requires a token (' + err.message + ').';
}
function setupToken() {
  $('#token-form').addEventListener('submit', () => {
    const v = $('#token-input').value.trim();
    $('#token-input').value = '';
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    route();
  });
  $('#token-button').addEventListener('click', () => askToken(null));
}

// ---- live stream: SSE over fetch, with the Authorization header --------------------
// EventSource cannot send headers; fetch() can, so the stream is authorised
// exactly like every other call. On any end the stream resumes from the
// last seq it delivered (Last-Event-ID), so nothing is missed or repeated.
function openStream({ topics, after, onEntries, onStatus, signal }) {
  let last = after;
  let attempt = 0;
  const run = async () => {
    while (!signal.aborted) {
      onStatus(attempt ? 'reconnecting' : 'connecting', last, attempt);
      try {
        const q = topics.map(t => 'topic=' + encodeURIComponent(t)).join('&');
        const headers = { Accept: 'text/event-stream', ...authHeaders() };
        if (last != null) headers['Last-Event-ID'] = String(last);
        const res = await fetch('/v1/stream?' + q, { headers, signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) {
          let m = res.statusText;
          try { m = (await res.json()).error.message; } catch { /* keep */ }
          askToken(new APIError(res.status, 'unauthorized', m));
          onStatus('unauthorized', last, attempt);
          return;
        }
        if (!res.ok || !res.body) throw new Error('stream answered ' + res.status);
        attempt = 0;
        onStatus('live', last, 0);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut, batch = [];
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let ev = 'message', id = null, data = '';
            for (const line of frame.split('\n')) {
              if (line.startsWith('event: ')) ev = line.slice(7);
              else if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (ev === 'entry' && data) {
              const e = JSON.parse(data);
              if (last == null || e.seq > last) { batch.push(e); last = e.seq; }
            } else if (ev === 'error' && data) {
              try { const x = JSON.parse(data); if (x.last_seq > (last ?? -1)) last = x.last_seq; } catch { /* keep */ }
            }
            void id;
          }
          if (batch.length) { onEntries(batch); onStatus('live', last, 0); }
        }
      } catch (err) {
        if (signal.aborted) return;
      }
      attempt++;
      onStatus('reconnecting', last, attempt);
      await sleep(Math.min(250 * 2 ** Math.min(attempt, 5), 4000), signal);
    }
  };
  run();
}
function sleep(ms, signal) {
  return new Promise(res => { const t = setTimeout(res, ms); signal && signal.addEventListener('abort', () => { clearTimeout(t); res(); }); });
}
function statusPill() {
  const el = h('span', { class: 'live-pill', role: 'status', 'aria-live': 'polite' });
  el.set = (state, seq, attempt) => {
    el.dataset.state = state;
    el.textContent = state === 'live' ? (seq != null ? 'live · caught up at seq ' + seq : 'live')
      : state === 'reconnecting' ? 'reconnecting' + (attempt > 1 ? ' (try ' + attempt + ')' : '') + (seq != null ? ' · from seq ' + seq : '')
      : state === 'unauthorized' ? 'not authorised' : state === 'stopped' ? 'not connected' : 'connecting';
  };
  el.set('connecting');
  return el;
}

// ---- virtual list: only the visible rows are in the DOM -----------------------------
class VirtualList {
  constructor({ rowHeight, render, className, label, onActivate, maxHeight, minHeight }) {
    this.rowHeight = rowHeight; this.render = render; this.onActivate = onActivate;
    this.maxHeight = maxHeight; this.minHeight = minHeight;
    this.items = []; this.selected = -1; this.follow = true;
    this.el = h('div', { class: 'vlist ' + (className || ''), tabindex: '0', role: 'listbox', 'aria-label': label });
    this.spacer = h('div', { class: 'vspacer' });
    this.el.append(this.spacer);
    this.el.addEventListener('scroll', () => {
      this.follow = this.el.scrollTop + this.el.clientHeight >= this.el.scrollHeight - this.rowHeight;
      this.draw();
    });
    this.el.addEventListener('keydown', e => this.key(e));
    this.el.addEventListener('click', e => {
      const row = e.target.closest('[data-index]');
      if (row && !e.target.closest('a')) { this.select(+row.dataset.index); this.onActivate && this.onActivate(this.items[this.selected]); }
    });
    this.pending = false;
  }
  setItems(items, keepFollow = true) {
    this.items = items;
    if (this.selected >= items.length) this.selected = items.length - 1;
    this.schedule(keepFollow);
  }
  schedule(keepFollow = true) {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.spacer.style.height = (this.items.length * this.rowHeight) + 'px';
      // A short list takes only the room it needs (up to maxHeight).
      if (this.maxHeight) this.el.style.height = Math.max(this.minHeight || 0, Math.min(this.maxHeight, this.items.length * this.rowHeight + 2)) + 'px';
      if (keepFollow && this.follow) this.el.scrollTop = this.el.scrollHeight;
      this.draw();
    });
  }
  draw() {
    const n = this.items.length;
    let from = 0, to = n;
    if (n > SMALL_LIST) {
      from = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - 20);
      to = Math.min(n, from + Math.ceil(this.el.clientHeight / this.rowHeight) + 40);
    }
    const keep = new Map();
    for (const c of [...this.spacer.children]) {
      const i = +c.dataset.index;
      if (i < from || i >= to || c.dataset.item !== String(this.key0(this.items[i]))) c.remove();
      else keep.set(i, c);
    }
    for (let i = from; i < to; i++) {
      let row = keep.get(i);
      if (!row) {
        row = this.render(this.items[i], i);
        row.dataset.index = i;
        row.dataset.item = String(this.key0(this.items[i]));
        row.setAttribute('role', 'option');
        row.style.top = (i * this.rowHeight) + 'px';
        this.spacer.append(row);
      }
      row.classList.toggle('selected', i === this.selected);
      row.setAttribute('aria-selected', i === this.selected ? 'true' : 'false');
    }
    if (this.afterDraw) this.afterDraw();
  }
  // selectWhere selects (and scrolls to) the first item pred accepts.
  selectWhere(pred) {
    const i = this.items.findIndex(pred);
    if (i >= 0) this.select(i);
    return i >= 0;
  }
  key0(item) { return item && (item.seq ?? item.key ?? item.execution_id ?? ''); }
  select(i) {
    if (!this.items.length) return;
    this.selected = Math.max(0, Math.min(this.items.length - 1, i));
    const top = this.selected * this.rowHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + this.rowHeight > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + this.rowHeight - this.el.clientHeight;
    this.follow = false;
    this.draw();
  }
  key(e) {
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.rowHeight) - 1);
    const moves = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) { this.select((this.selected < 0 ? -1 : this.selected) + moves[e.key]); }
    else if (e.key === 'Home') this.select(0);
    else if (e.key === 'End') this.select(this.items.length - 1);
    else if ((e.key === 'Enter' || e.key === ' ') && this.selected >= 0) { this.onActivate && this.onActivate(this.items[this.selected], e); }
    else return;
    e.preventDefault();
  }
}

// ---- router --------------------------------------------------------------------------
let current = null; // the current view: { abort, seqs? }
function navigate(href) { history.pushState(null, '', href); route(); }
function route() {
  if (current && current.abort) current.abort.abort();
  const view = $('#view');
  view.replaceChildren();
  const url = new URL(location.href);
  const p = url.pathname;
  const abort = new AbortController();
  current = { abort };
  for (const a of document.querySelectorAll('header.top nav a')) {
    a.classList.toggle('active', a.getAttribute('href') === '/' ? p === '/' : p.startsWith(a.getAttribute('href')));
  }
  let m;
  if (p === '/') executionsView(view, url, abort.signal);
  else if ((m = p.match(/^\/executions\/(.+)$/))) executionView(view, decodeURIComponent(m[1]), url, abort.signal);
  else if (p === '/compare') compareView(view, url, abort.signal);
  else if ((m = p.match(/^\/batches\/(.+)$/))) batchView(view, decodeURIComponent(m[1]), url, abort.signal);
  else view.append(h('p', { class: 'pad', text: 'No such page.' }));
}
// failure shows why a view could not load, in box (a part of the page).
function failure(box, err) {
  if (err.name === 'AbortError') return;
  const msg = err instanceof APIError ? err.message + ' (' + err.code + ')' : String(err.message || err);
  box.append(h('div', { class: 'banner error', role: 'alert', text: msg }));
}

// ---- executions list ---------------------------------------------------------------
const LIST_TOPICS = ['execution_started', 'execution_completed', 'execution_failed', 'execution_cancelled',
  'execution_paused', 'execution_resumed', 'node_completed', 'node_failed', 'checkpoint_created',
  'rollback_performed', 'ray_batch_test_started', 'ray_batch_test_completed', 'ray_batch_test_failed',
  'ray_batch_test_cancelled'].map(t => 'type:' + t);

function executionsView(view, url, signal) {
  const q = url.searchParams;
  document.title = 'Executions · wtb';
  const form = h('form', { class: 'filters', role: 'search' },
    h('label', {}, 'Status ', h('select', { name: 'status' },
      h('option', { value: '', text: 'any' }),
      ...['running', 'paused', 'completed', 'failed', 'cancelled'].map(s => h('option', { value: s, text: s, selected: q.get('status') === s })))),
    h('label', {}, 'Search ', h('input', { name: 'q', type: 'search', placeholder: 'execution or workflow id', value: q.get('q') || '' })),
    h('label', {}, 'Started after ', h('input', { name: 'since', type: 'datetime-local', step: '1', value: toLocalInput(q.get('since')) })),
    h('label', {}, 'before ', h('input', { name: 'until', type: 'datetime-local', step: '1', value: toLocalInput(q.get('until')) })),
    h('button', { type: 'submit', class: 'primary', text: 'Apply' }));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const p = new URLSearchParams();
    const fd = new FormData(form);
    for (const k of ['status', 'q']) if (fd.get(k)) p.set(k, fd.get(k));
    for (const k of ['since', 'until']) if (fd.get(k)) p.set(k, new Date(fd.get(k)).toISOString());
    navigate('/' + (p.toString() ? '?' + p : ''));
  });
  const pill = statusPill();
  const count = h('span', { class: 'muted' });
  const tbody = h('tbody');
  const table = h('table', { class: 'grid executions', tabindex: '0', 'aria-label': 'Executions, newest first' },
    heads(['Status', 'Execution', 'Workflow', 'Started', 'Duration', 'Nodes', 'Failed', 'Checkpoints', 'Rollbacks', 'Errors'],
      ['Duration', 'Nodes', 'Failed', 'Checkpoints', 'Rollbacks', 'Errors']), tbody);
  const more = h('button', { type: 'button', class: 'ghost', text: 'Load more', hidden: true });
  const empty = h('p', { class: 'empty muted', hidden: true });
  const problems = h('div');
  view.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', { text: 'Executions' }), count, h('div', { class: 'spacer' }), pill),
    form, problems, h('div', { class: 'table-wrap' }, table, empty), h('div', { class: 'row-center' }, more)));
  const showEmpty = () => {
    empty.hidden = rows.size > 0;
    empty.textContent = [...q.keys()].length ? 'No execution matches these filters.'
      : 'No executions recorded yet. Send events to POST /v1/events (or run wtb demo); they appear here as they arrive.';
  };

  const rows = new Map(); // execution id -> tr
  let cursor = null, selected = -1;
  const params = () => {
    const p = new URLSearchParams();
    for (const k of ['status', 'q', 'since', 'until', 'workflow']) if (q.get(k)) p.set(k, q.get(k));
    p.set('limit', '50');
    return p;
  };
  const rowOf = s => {
    const tr = h('tr', { 'data-exec': s.execution_id, class: 'exec-row' });
    fillRow(tr, s);
    return tr;
  };
  const fillRow = (tr, s) => {
    const target = s.workflow_id === '' && false ? '' : '/executions/' + encodeURIComponent(s.execution_id);
    tr.replaceChildren(
      h('td', {}, badge(s.status)),
      h('td', { class: 'mono' }, link(target, s.execution_id)),
      h('td', { class: 'mono', text: s.workflow_id || '–' }),
      h('td', { class: 'mono', title: s.started_at || '', text: fmtTime(s.started_at) }),
      h('td', { class: 'num', title: s.duration_ms != null ? null : 'not ended', text: s.duration_ms != null ? fmtMS(s.duration_ms) : '–' }),
      h('td', { class: 'num', text: s.nodes_executed }),
      h('td', { class: 'num' + (s.nodes_failed ? ' bad' : ''), text: s.nodes_failed }),
      h('td', { class: 'num', text: s.checkpoints_created }),
      h('td', { class: 'num' + (s.rollbacks ? ' warn' : ''), text: s.rollbacks }),
      h('td', { class: 'num' + (s.errors ? ' bad' : ''), text: s.errors }));
    tr.dataset.status = s.status;
  };
  const select = i => {
    const trs = [...tbody.children];
    if (!trs.length) return;
    selected = Math.max(0, Math.min(trs.length - 1, i));
    trs.forEach((tr, k) => tr.classList.toggle('selected', k === selected));
    trs[selected].scrollIntoView({ block: 'nearest' });
  };
  table.addEventListener('keydown', e => {
    const moves = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1 };
    if (e.key in moves) select(selected + moves[e.key]);
    else if (e.key === 'Enter' && selected >= 0) navigate($('a', tbody.children[selected]).getAttribute('href'));
    else return;
    e.preventDefault();
  });
  const load = async (after) => {
    const p = params();
    if (after) p.set('cursor', after);
    const page = await api('/v1/executions?' + p, { signal });
    for (const s of page.executions) {
      if (rows.has(s.execution_id)) { fillRow(rows.get(s.execution_id), s); continue; }
      const tr = rowOf(s);
      rows.set(s.execution_id, tr);
      tbody.append(tr);
    }
    cursor = page.next_cursor;
    more.hidden = !cursor;
    count.textContent = rows.size + (cursor ? '+' : '') + ' shown';
    showEmpty();
    if (!stats.usableAt) stats.usableAt = performance.now();
  };
  more.addEventListener('click', () => load(cursor).catch(err => failure(problems, err)));
  // Live: refresh the first page when lifecycle entries arrive; new rows go
  // on top, known rows change in place, the scroll position holds.
  const refresh = debounce(async () => {
    try {
      const page = await api('/v1/executions?' + params(), { signal });
      const fresh = [];
      for (const s of page.executions) {
        if (rows.has(s.execution_id)) fillRow(rows.get(s.execution_id), s);
        else fresh.push(s);
      }
      if (fresh.length) {
        const wrap = table.parentElement;
        const before = wrap.scrollHeight, top = wrap.scrollTop;
        const selTr = selected >= 0 ? tbody.children[selected] : null;
        // Each new row takes its place in the API's order (newest first):
        // right after the row the API lists before it, or on top.
        let prev = null;
        for (const s of page.executions) {
          let tr = rows.get(s.execution_id);
          if (fresh.includes(s)) {
            tr = rowOf(s); tr.classList.add('fresh'); rows.set(s.execution_id, tr);
            if (prev) prev.after(tr); else tbody.prepend(tr);
          }
          prev = tr;
        }
        if (selTr) selected = [...tbody.children].indexOf(selTr);
        if (top > 0) wrap.scrollTop = top + (wrap.scrollHeight - before);
        count.textContent = rows.size + (cursor ? '+' : '') + ' shown';
        showEmpty();
      }
    } catch (err) { if (err.name !== 'AbortError') pill.set('reconnecting'); }
  }, 200);
  load(null).then(() => {
    openStream({ topics: LIST_TOPICS, after: null, signal, onStatus: (s, seq, a) => pill.set(s, null, a), onEntries: refresh });
  }).catch(err => { pill.set(err.status === 401 || err.status === 403 ? 'unauthorized' : 'stopped'); failure(problems, err); });
}
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d - off).toISOString().slice(0, 19);
}

// ---- node runs (the same pairing as audit.NodeRuns) ---------------------------------
class RunTracker {
  constructor() { this.runs = []; this.open = new Map(); this.attempts = new Map(); this.reverted = new Set(); this.rollbacks = []; this.version = 0; }
  add(e) {
    const t = Date.parse(e.timestamp);
    const begin = (node, start, seq) => {
      const a = (this.attempts.get(node) || 0) + 1;
      this.attempts.set(node, a);
      this.runs.push({ key: 'r' + this.runs.length, node, attempt: a, status: 'running', start, end: null, duration: null,
        error: '', startSeq: seq, endSeq: 0, afterRollback: this.reverted.delete(node) });
      return this.runs.length - 1;
    };
    switch (e.event_type) {
      case 'node_started': this.open.set(e.node_id, begin(e.node_id, t, e.seq)); this.version++; break;
      case 'node_completed': case 'node_failed': case 'node_skipped': {
        let k = this.open.get(e.node_id);
        if (k == null) k = begin(e.node_id, e.event_type !== 'node_skipped' && e.duration_ms != null ? t - e.duration_ms : t, 0);
        this.open.delete(e.node_id);
        const r = this.runs[k];
        r.end = t; r.endSeq = e.seq;
        r.status = e.event_type === 'node_completed' ? 'completed' : e.event_type === 'node_failed' ? 'failed' : 'skipped';
        if (e.event_type === 'node_failed') r.error = e.error || '';
        r.duration = e.duration_ms != null ? e.duration_ms : t - r.start;
        this.version++;
        break;
      }
      case 'rollback_performed': {
        const d = e.details || {};
        for (const n of d.rolled_back_nodes || []) this.reverted.add(n);
        this.rollbacks.push({ at: t, to: String(d.to_checkpoint ?? ''), from: String(d.from_checkpoint ?? ''), seq: e.seq });
        this.version++;
        break;
      }
    }
  }
}

// ---- one execution -----------------------------------------------------------------
const SEVERITIES = ['debug', 'info', 'success', 'warning', 'error'];

function executionView(view, id, url, signal) {
  document.title = id + ' · wtb';
  const q = url.searchParams;
  const pill = statusPill();
  const head = h('div', { class: 'exec-head' });
  const notice = h('div', { class: 'banner', hidden: true });
  const problems = h('div');
  const wfWrap = h('div', { class: 'waterfall' });
  const lineage = h('div', { class: 'lineage' });
  const details = h('pre', { class: 'json', 'aria-live': 'polite', text: 'Select an entry to see its JSON.' });
  const detailTitle = h('div', { class: 'muted', text: '' });

  // Timeline filters: severity, node, type, debug; kept in the URL.
  const sevBoxes = SEVERITIES.filter(s => s !== 'debug').map(s => h('label', { class: 'chk sev-' + s },
    h('input', { type: 'checkbox', name: 'sev', value: s, checked: !(q.get('hide') || '').split(',').includes(s) }), s));
  const debugBox = h('input', { type: 'checkbox', name: 'debug', checked: q.get('debug') === '1' });
  const nodeSel = h('select', { name: 'node', 'aria-label': 'Node' }, h('option', { value: '', text: 'all nodes' }));
  const typeSel = h('select', { name: 'type', 'aria-label': 'Event type' }, h('option', { value: '', text: 'all types' }));
  const tlCount = h('span', { class: 'muted' });
  const filters = h('div', { class: 'tl-filters' }, ...sevBoxes, h('label', { class: 'chk' }, debugBox, 'debug'), nodeSel, typeSel, tlCount);

  const entries = [];     // every entry, in seq order (bounded by MAX_ENTRIES)
  let shown = [];         // the filtered entries
  const tracker = new RunTracker();
  const nodes = new Set(), types = new Set();
  let summary = null, lastSeq = null, dropped = 0;

  const list = new VirtualList({
    rowHeight: ROW_H, className: 'timeline', label: 'Event timeline', maxHeight: 18 * ROW_H + 2, minHeight: 3 * ROW_H + 2, // whole rows at the ends
    render: e => h('div', { class: 'tl-row sev-' + e.severity, 'data-seq': e.seq },
      h('span', { class: 'tl-time mono', text: fmtClock(e.timestamp) }),
      h('span', { class: 'tl-sev', text: e.severity }),
      h('span', { class: 'tl-node mono', text: e.node_id || '' }),
      h('span', { class: 'tl-type mono', text: e.event_type }),
      h('span', { class: 'tl-msg', text: e.message }),
      h('span', { class: 'tl-dur num', text: e.duration_ms ? fmtMS(e.duration_ms) : '' })),
    onActivate: e => showDetails(e),
  });
  const showDetails = e => {
    detailTitle.textContent = 'seq ' + e.seq + ' · ' + e.event_type;
    details.textContent = JSON.stringify(e, null, 2);
    details.dataset.seq = e.seq;
  };
  const keep = e => {
    const hidden = sevBoxes.filter(l => !l.firstChild.checked).map(l => l.firstChild.value);
    if (e.severity === 'debug' ? !debugBox.checked : hidden.includes(e.severity)) return false;
    if (nodeSel.value && e.node_id !== nodeSel.value) return false;
    if (typeSel.value && e.event_type !== typeSel.value) return false;
    return true;
  };
  const refilter = () => {
    shown = entries.filter(keep);
    list.setItems(shown);
    tlCount.textContent = shown.length + ' of ' + entries.length + ' entries';
    const p = new URLSearchParams(location.search);
    const hidden = sevBoxes.filter(l => !l.firstChild.checked).map(l => l.firstChild.value);
    hidden.length ? p.set('hide', hidden.join(',')) : p.delete('hide');
    debugBox.checked ? p.set('debug', '1') : p.delete('debug');
    nodeSel.value ? p.set('node', nodeSel.value) : p.delete('node');
    typeSel.value ? p.set('type', typeSel.value) : p.delete('type');
    history.replaceState(null, '', location.pathname + (p.toString() ? '?' + p : ''));
  };
  filters.addEventListener('change', refilter);
  const addOption = (sel, set, v) => {
    if (!v || set.has(v)) return;
    set.add(v);
    sel.append(h('option', { value: v, text: v }));
  };

  const wf = new VirtualList({
    rowHeight: WF_ROW_H, className: 'wf-list', label: 'Node runs',
    render: r => wfRow(r),
    onActivate: r => {
      const e = entries.find(x => x.seq === (r.endSeq || r.startSeq));
      if (!e) return;
      showDetails(e);
      list.selectWhere(x => x.seq === e.seq);
    },
  });
  wf.follow = false;
  let span = [0, 1];
  const wfRow = r => {
    const [t0, t1] = span;
    const w = Math.max(t1 - t0, 1);
    const end = r.end ?? t1;
    const left = ((r.start - t0) / w) * 100, width = Math.max(((end - r.start) / w) * 100, 0.25);
    return h('div', { class: 'wf-row' },
      h('span', { class: 'wf-label mono', title: r.node + (r.attempt > 1 ? ' attempt ' + r.attempt : '') },
        r.afterRollback ? h('span', { class: 'rb-mark', title: 'ran again after a rollback', text: '↺ ' }) : null,
        r.node, r.attempt > 1 ? h('span', { class: 'muted', text: ' #' + r.attempt }) : null),
      h('span', { class: 'wf-track' },
        h('span', { class: 'wf-bar ' + r.status, 'data-node': r.node, 'data-status': r.status,
          style: null, title: r.node + ' · ' + r.status + (r.duration != null ? ' · ' + fmtMS(r.duration) : '') + (r.error ? ' · ' + r.error : '') })),
      h('span', { class: 'wf-dur num', text: r.duration != null ? fmtMS(r.duration) : 'running' }));
  };
  wf.afterDraw = () => {
    const [t0, t1] = span;
    const w = Math.max(t1 - t0, 1);
    for (const row of wf.spacer.children) {
      const r = wf.items[+row.dataset.index];
      const bar = row.querySelector('.wf-bar');
      if (!r || !bar) continue;
      const end = r.end ?? t1;
      bar.style.left = ((r.start - t0) / w) * 100 + '%';
      bar.style.width = Math.max(((end - r.start) / w) * 100, 0.25) + '%';
    }
    wfMarks.replaceChildren(...tracker.rollbacks.map(rb => {
      const m = h('span', { class: 'wf-rollback', title: 'rollback to checkpoint ' + rb.to });
      m.style.left = ((rb.at - t0) / w) * 100 + '%';
      return m;
    }));
  };
  const wfMarks = h('div', { class: 'wf-marks' });
  const wfAxis = h('div', { class: 'wf-axis muted' });
  wfWrap.append(h('div', { class: 'wf-overlay' }, wfMarks), wf.el, wfAxis);

  let drawPending = false, lastVersion = -1;
  const redraw = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      if (entries.length) {
        const first = Date.parse(entries[0].timestamp);
        const last = Math.max(Date.parse(entries[entries.length - 1].timestamp), ...tracker.runs.slice(-50).map(r => r.end || 0));
        span = [Math.min(first, tracker.runs.length ? tracker.runs[0].start : first), last];
        wfAxis.textContent = fmtClock(new Date(span[0]).toISOString()) + ' → ' + fmtClock(new Date(span[1]).toISOString()) + ' · ' + fmtMS(span[1] - span[0]);
      }
      if (tracker.version !== lastVersion) {
        lastVersion = tracker.version;
        wf.items = tracker.runs.slice();
        for (const c of [...wf.spacer.children]) c.remove();
        wf.schedule(false);
        drawLineage();
      }
      tlCount.textContent = shown.length + ' of ' + entries.length + ' entries';
      renderHead();
    });
  };

  const lineageData = { checkpoints: [], branches: [] };
  const drawLineage = () => drawLineageGraph(lineage, lineageData, tracker.rollbacks);

  const ingest = (batch, live) => {
    const now = Date.now();
    let any = false;
    for (const e of batch) {
      if (lastSeq != null && e.seq <= lastSeq) continue; // never twice
      lastSeq = e.seq;
      entries.push(e);
      any = true;
      tracker.add(e);
      addOption(nodeSel, nodes, e.node_id);
      addOption(typeSel, types, e.event_type);
      if (e.event_type === 'checkpoint_created') lineageData.checkpoints.push({ id: String(/'([^']*)'/.exec(e.message)?.[1] ?? e.seq), node: (e.details || {}).completed_node || e.node_id || '', seq: e.seq, at: Date.parse(e.timestamp), terminal: !!(e.details || {}).is_terminal });
      if (e.event_type.startsWith('ray_batch_test_')) batchLink.hidden = false;
      if (e.event_type === 'branch_created' || e.event_type === 'execution_forked') lineageData.branches.push({ kind: e.event_type === 'branch_created' ? 'branch' : 'fork', seq: e.seq, message: e.message, target: (e.details || {}).new_execution_id || '', at: Date.parse(e.timestamp) });
      if (keep(e)) shown.push(e);
      if (live) {
        if (stats.latencies.length >= stats.maxLatencies) stats.latencies.shift();
        stats.latencies.push(now - Date.parse(e.timestamp));
      }
    }
    if (entries.length > MAX_ENTRIES) {
      const cut = entries.length - MAX_ENTRIES;
      entries.splice(0, cut);
      dropped += cut;
      shown = entries.filter(keep);
      notice.hidden = false;
      notice.textContent = 'Showing the latest ' + MAX_ENTRIES.toLocaleString() + ' entries; ' + dropped.toLocaleString() + ' older ones are left out (read them with GET /v1/audit or wtb audit export).';
    }
    if (any) { list.setItems(shown); redraw(); }
  };
  current.seqs = () => entries.map(e => e.seq);

  // The header is built once and its values change in place, so that a
  // live run neither moves the page nor resets what is typed in it.
  const headBadge = h('span');
  // A Ray batch test is recorded under its id: its page shows the variants.
  const batchLink = h('a', { class: 'button-link', href: '/batches/' + encodeURIComponent(id), 'data-link': true, hidden: true, text: 'Batch variants' });
  const facts = {};
  const factList = h('dl', { class: 'facts' }, ...['Workflow', 'Started', 'Duration', 'Nodes run', 'Failed', 'Checkpoints', 'Rollbacks', 'Errors', 'Entries', 'Seq']
    .map(k => { const dd = h('dd', { text: '–' }); facts[k] = dd; return h('div', {}, h('dt', { text: k }), dd); }));
  head.append(
    h('div', { class: 'exec-title' }, h('h1', { class: 'mono', text: id }), headBadge, h('div', { class: 'spacer' }), pill),
    factList,
    h('div', { class: 'actions' },
      batchLink,
      h('button', { type: 'button', class: 'ghost', text: 'Download trace', title: 'Chrome Trace Event JSON: open it in Perfetto or chrome://tracing', onclick: () => downloadTrace(id).catch(err => failure(problems, err)) }),
      compareBox(id)));
  const setFact = (k, v, cls) => { const dd = facts[k]; v = String(v); if (dd.textContent !== v) dd.textContent = v; dd.className = cls || ''; };
  const renderHead = () => {
    const s = summary || {};
    const live = summaryFromEntries(s, entries, tracker);
    if (headBadge.dataset.status !== live.status) { headBadge.dataset.status = live.status; headBadge.replaceChildren(badge(live.status)); }
    const sofar = entries.length > 1 ? Date.parse(entries[entries.length - 1].timestamp) - Date.parse(s.started_at || entries[0].timestamp) : null;
    setFact('Workflow', s.workflow_id || '–');
    setFact('Started', fmtTime(s.started_at));
    setFact('Duration', live.duration != null ? fmtMS(live.duration) : sofar != null ? fmtMS(sofar) + ' so far' : '–');
    setFact('Nodes run', live.nodes);
    setFact('Failed', live.failed, live.failed ? 'bad' : '');
    setFact('Checkpoints', live.checkpoints);
    setFact('Rollbacks', live.rollbacks, live.rollbacks ? 'warn' : '');
    setFact('Errors', live.errors, live.errors ? 'bad' : '');
    setFact('Entries', live.total.toLocaleString('en-US'));
    setFact('Seq', entries.length ? entries[0].seq + '–' + lastSeq : '–');
  };

  view.append(h('section', { class: 'page exec' }, head, notice, problems,
    h('div', { class: 'exec-grid' },
      h('div', { class: 'exec-main' },
        h('h2', { text: 'Node runs' }), wfWrap,
        h('h2', { text: 'Lineage' }), lineage,
        h('h2', { text: 'Timeline' }), filters, list.el),
      h('aside', { class: 'exec-side' }, h('h2', { text: 'Entry' }), detailTitle, details))));
  for (const [sel, key] of [[nodeSel, 'node'], [typeSel, 'type']]) if (q.get(key)) { addOption(sel, sel === nodeSel ? nodes : types, q.get(key)); sel.value = q.get(key); }

  (async () => {
    try {
      summary = await api('/v1/executions/' + encodeURIComponent(id) + '/summary', { signal });
      renderHead();
      // Everything recorded so far, page by page, then live from the last seq.
      let cursor = null;
      do {
        const p = new URLSearchParams({ execution_id: id, limit: '10000' });
        if (cursor) p.set('cursor', cursor);
        const page = await api('/v1/audit?' + p, { signal });
        ingest(page.entries, false);
        cursor = page.next_cursor;
        if (!stats.usableAt) { await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); stats.usableAt = performance.now(); }
      } while (cursor);
      if (!entries.length) renderHead();
      openStream({ topics: ['execution:' + id], after: lastSeq ?? 0, signal, onEntries: b => ingest(b, true),
        onStatus: (st, seq, a) => { pill.set(st, seq, a); } });
    } catch (err) {
      pill.set(err.status === 401 || err.status === 403 ? 'unauthorized' : 'stopped');
      failure(problems, err);
    }
  })();
}
function fact(k, v) { return h('div', {}, h('dt', { text: k }), h('dd', { text: String(v) })); }
function summaryFromEntries(s, entries, tracker) {
  // The summary as of the entries shown, so that the header follows the run live.
  const out = { status: s.status || 'running', duration: s.duration_ms, nodes: 0, failed: 0, checkpoints: 0, rollbacks: 0, errors: 0, total: entries.length };
  let paused = false, end = null;
  for (const e of entries) {
    switch (e.event_type) {
      case 'node_completed': out.nodes++; break;
      case 'node_failed': out.failed++; break;
      case 'checkpoint_created': out.checkpoints++; break;
      case 'rollback_performed': out.rollbacks++; break;
      case 'execution_paused': paused = true; break;
      case 'execution_resumed': paused = false; break;
    }
    if (e.severity === 'error') out.errors++;
    const m = /^(execution|ray_batch_test)_(completed|failed|cancelled)$/.exec(e.event_type);
    if (m) { out.status = m[2]; end = Date.parse(e.timestamp); }
  }
  if (end == null) out.status = paused ? 'paused' : 'running';
  if (end != null && entries.length) out.duration = end - Date.parse(s.started_at || entries[0].timestamp);
  else out.duration = null;
  void tracker;
  return out;
}
async function downloadTrace(id) {
  const res = await api('/v1/executions/' + encodeURIComponent(id) + '/trace', { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: 'trace-' + id.replace(/[^\w.-]/g, '_') + '.json' });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
function compareBox(id) {
  const input = h('input', { type: 'text', placeholder: 'other execution id', 'aria-label': 'Compare with execution' });
  const form = h('form', { class: 'inline' }, input, h('button', { type: 'submit', class: 'ghost', text: 'Compare' }));
  form.addEventListener('submit', e => { e.preventDefault(); if (input.value.trim()) navigate('/compare?a=' + encodeURIComponent(id) + '&b=' + encodeURIComponent(input.value.trim())); });
  return form;
}

// ---- lineage graph: checkpoints in order, rollbacks as arcs back, branches and forks below
function drawLineageGraph(box, data, rollbacks) {
  const cps = data.checkpoints.slice(-120);
  if (!cps.length && !rollbacks.length && !data.branches.length) {
    box.replaceChildren(h('p', { class: 'muted', text: 'No checkpoints, rollbacks, branches or forks yet.' }));
    return;
  }
  // Room above the spine only for rollback arcs, below it for branches.
  const gap = 64, x0 = 30, y = rollbacks.length ? 84 : 24;
  const W = x0 * 2 + Math.max(cps.length - 1, 1) * gap + (data.branches.length ? 160 : 20), H = y + (data.branches.length ? 52 + data.branches.length * 16 : 38);
  const pos = new Map();
  cps.forEach((c, i) => { if (!pos.has(c.id)) pos.set(c.id, x0 + i * gap); });
  const g = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Lineage of checkpoints, rollbacks, branches and forks' });
  if (cps.length > 1) g.append(svg('line', { x1: x0, y1: y, x2: x0 + (cps.length - 1) * gap, y2: y, class: 'lg-spine' }));
  // Place a rollback's arc from the last checkpoint before it to its target.
  for (const rb of rollbacks) {
    const before = cps.filter(c => c.seq < rb.seq).pop();
    const from = pos.get(rb.from) ?? (before ? pos.get(before.id) : null);
    const to = pos.get(rb.to);
    if (from == null || to == null) continue;
    const mid = (from + to) / 2, lift = Math.min(30, 12 + Math.abs(from - to) / 8);
    g.append(svg('path', { d: `M${from},${y - 9} Q${mid},${y - 9 - lift * 2} ${to},${y - 9}`, class: 'lg-rollback', 'marker-end': 'url(#lg-arrow)' },
      svg('title', {}, 'rollback to checkpoint ' + rb.to)));
    g.append(svg('text', { x: mid, y: y - 14 - lift, class: 'lg-rb-label', 'text-anchor': 'middle' }, '↺ to ' + rb.to));
  }
  g.prepend(svg('defs', {}, svg('marker', { id: 'lg-arrow', viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'lg-arrowhead' }))));
  cps.forEach((c, i) => {
    const x = x0 + i * gap;
    g.append(svg('circle', { cx: x, cy: y, r: 8, class: 'lg-cp' + (c.terminal ? ' terminal' : '') }, svg('title', {}, `checkpoint ${c.id} after ${c.node}`)));
    g.append(svg('text', { x, y: y + 4, class: 'lg-cp-id', 'text-anchor': 'middle' }, c.id.length > 3 ? c.id.slice(0, 3) : c.id));
    g.append(svg('text', { x, y: y + 26, class: 'lg-cp-node', 'text-anchor': 'middle' }, c.node.length > 10 ? c.node.slice(0, 9) + '…' : c.node));
  });
  data.branches.forEach((b, k) => {
    const before = cps.filter(c => c.seq < b.seq).pop();
    const x = before ? pos.get(before.id) : x0;
    const bx = x + 16, by = y + 44 + k * 16;
    g.append(svg('path', { d: `M${x},${y + 9} C${x},${by - 6} ${bx - 6},${by} ${bx},${by}`, class: 'lg-branch' }));
    const label = svg('text', { x: bx + 6, y: by + 4, class: 'lg-branch-label' }, (b.kind === 'fork' ? '⑂ fork ' : '⎇ branch ') + (b.target ? b.target.slice(0, 14) : ''));
    if (b.target) {
      const a = svg('a', { href: '/executions/' + encodeURIComponent(b.target), 'data-link': '' }, label);
      g.append(a);
    } else g.append(label);
    g.append(svg('circle', { cx: bx, cy: by, r: 4, class: 'lg-branch-dot' }, svg('title', {}, b.message)));
  });
  // A graph wider than its box keeps showing its newest end while the run
  // grows, unless the reader scrolled away from it.
  let scroller = box.querySelector('.lg-scroll');
  if (!scroller) {
    scroller = h('div', { class: 'lg-scroll' });
    scroller.stickEnd = true;
    scroller.addEventListener('scroll', () => {
      if (!scroller.drawing) scroller.stickEnd = scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 4;
    });
    box.replaceChildren(scroller);
  }
  scroller.drawing = true;
  scroller.replaceChildren(g);
  if (scroller.stickEnd) scroller.scrollLeft = scroller.scrollWidth;
  requestAnimationFrame(() => { scroller.drawing = false; });
}

// ---- compare -----------------------------------------------------------------------
function compareView(view, url, signal) {
  const q = url.searchParams;
  const a = q.get('a') || '', b = q.get('b') || '', batch = q.get('batch') || '';
  document.title = 'Compare · wtb';
  const ia = h('input', { name: 'a', value: a, placeholder: 'execution A', class: 'mono', 'aria-label': 'Execution A' });
  const ib = h('input', { name: 'b', value: b, placeholder: 'execution B', class: 'mono', 'aria-label': 'Execution B' });
  const form = h('form', { class: 'filters' }, h('label', {}, 'A ', ia), h('label', {}, 'B ', ib), h('button', { type: 'submit', class: 'primary', text: 'Compare' }));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const p = new URLSearchParams({ a: ia.value.trim(), b: ib.value.trim() });
    if (batch) p.set('batch', batch);
    navigate('/compare?' + p);
  });
  const out = h('div');
  view.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', { text: 'Compare two runs' })), form, out));
  if (!a || !b) { out.append(h('p', { class: 'muted', text: 'Enter two execution ids, or pick two variants of a batch.' })); return; }
  Promise.all([api('/v1/compare?a=' + encodeURIComponent(a) + '&b=' + encodeURIComponent(b), { signal }),
    batch ? api('/v1/batches/' + encodeURIComponent(batch), { signal }).catch(() => null) : null])
    .then(([c, bt]) => renderComparison(out, c, bt)).catch(err => failure(out, err));
}
function renderComparison(out, c, batch) {
  const side = (tag, s) => h('div', { class: 'cmp-card' },
    h('div', { class: 'cmp-tag', text: tag }), link('/executions/' + encodeURIComponent(s.execution_id), h('span', { class: 'mono', text: s.execution_id })),
    ' ', badge(s.status),
    h('div', { class: 'muted', text: (s.workflow_id || '–') + ' · ' + fmtTime(s.started_at) + ' · ' + (s.duration_ms != null ? fmtMS(s.duration_ms) : 'running') }));
  const dv = c.divergence;
  const banner = dv ? h('div', { class: 'banner diverge', role: 'note', 'data-step': dv.step, 'data-kind': dv.kind },
    h('strong', { text: dv.step < c.steps.length ? 'First divergence at step ' + (dv.step + 1) + ' (' + dv.kind + ')' : 'Diverge at the end (' + dv.kind + ')' }),
    h('div', { text: dv.message }),
    dv.step < c.steps.length ? h('button', { type: 'button', class: 'ghost', text: 'Show', onclick: () => $('.step.diverge')?.scrollIntoView({ block: 'center' }) }) : null)
    : h('div', { class: 'banner same', text: 'No divergence: the same steps, ending the same way.' });
  const sideCell = s => {
    if (!s) return h('td', { class: 'missing', text: '—' });
    if (s.kind === 'rollback') return h('td', {}, h('span', { class: 'rb-mark', text: '↺ ' }), 'rollback to checkpoint ', h('span', { class: 'mono', text: s.rollback.to_checkpoint }));
    const r = s.run;
    return h('td', {}, h('span', { class: 'mono', text: r.node_id }), r.attempt > 1 ? h('span', { class: 'muted', text: ' #' + r.attempt }) : null, ' ',
      h('span', { class: 'run-st st-' + r.status, text: r.status }), r.duration_ms != null ? h('span', { class: 'muted', text: ' ' + fmtMS(r.duration_ms) }) : null,
      r.error ? h('div', { class: 'err-text', text: r.error }) : null);
  };
  const steps = h('table', { class: 'grid steps' }, heads(['#', 'A', 'B', 'Δ duration', 'Differs in'], ['#', 'Δ duration']),
    h('tbody', {}, ...c.steps.map(st => h('tr', { class: 'step' + (dv && dv.step === st.index ? ' diverge' : (st.differences || []).length ? ' differs' : ''), 'data-step': st.index },
      h('td', { class: 'num', text: st.index + 1 }), sideCell(st.a), sideCell(st.b),
      h('td', { class: 'num ' + (st.duration_delta_ms > 0 ? 'slower' : st.duration_delta_ms < 0 ? 'faster' : ''), text: fmtDelta(st.duration_delta_ms) }),
      h('td', { text: (st.differences || []).join(', ') })))));
  const maxDur = Math.max(1, ...c.nodes.map(n => Math.max(n.duration_a_ms, n.duration_b_ms)));
  const bar = (v, cls) => { const s = h('span', { class: 'dbar ' + cls }); s.style.width = (v / maxDur * 100) + '%'; return s; };
  const nodes = h('table', { class: 'grid nodes' }, heads(['Node', 'Runs A', 'Runs B', 'Duration A / B', 'Δ'], ['Runs A', 'Runs B', 'Δ']),
    h('tbody', {}, ...c.nodes.map(n => h('tr', {},
      h('td', { class: 'mono', text: n.node_id }),
      h('td', { class: 'num', text: n.runs_a + (n.failed_a ? ' (' + n.failed_a + ' failed)' : '') }),
      h('td', { class: 'num', text: n.runs_b + (n.failed_b ? ' (' + n.failed_b + ' failed)' : '') }),
      h('td', { class: 'dbars' }, h('div', {}, bar(n.duration_a_ms, 'a'), h('span', { class: 'muted', text: fmtMS(n.duration_a_ms) })),
        h('div', {}, bar(n.duration_b_ms, 'b'), h('span', { class: 'muted', text: fmtMS(n.duration_b_ms) }))),
      h('td', { class: 'num ' + (n.delta_ms > 0 ? 'slower' : n.delta_ms < 0 ? 'faster' : ''), text: fmtDelta(n.delta_ms) })))));
  const sums = c.summary_diffs.length ? h('table', { class: 'grid sums' }, heads(['Summary', 'A', 'B', 'Δ'], ['A', 'B', 'Δ']),
    h('tbody', {}, ...c.summary_diffs.map(d => {
      const [a, b, delta] = summaryDiffValues(d);
      const judged = WORSE_WHEN_MORE.has(d.field) ? (delta.startsWith('+') ? 'slower' : delta.startsWith('−') ? 'faster' : '') : '';
      return h('tr', {}, h('td', { text: SUMMARY_LABELS[d.field] || d.field }), h('td', { class: 'num', text: a }), h('td', { class: 'num', text: b }),
        h('td', { class: 'num ' + judged, text: delta }));
    })))
    : h('p', { class: 'muted', text: 'The summaries are equal.' });
  out.replaceChildren(h('div', { class: 'cmp-cards' }, side('A', c.a), side('B', c.b)), banner);
  if (batch) {
    const va = batch.variants.find(v => v.execution_id === c.a.execution_id), vb = batch.variants.find(v => v.execution_id === c.b.execution_id);
    if (va && vb) out.append(h('h2', { text: 'Variants' }), h('table', { class: 'grid' },
      heads(['', 'Variant', 'Status', 'Score', 'Metrics', 'Duration'], ['Score', 'Duration']),
      h('tbody', {}, ...[['A', va], ['B', vb]].map(([t, v]) => h('tr', {}, h('td', {}, h('span', { class: 'cmp-tag', text: t })), h('td', { class: 'mono', text: v.name || '–' }),
        h('td', {}, badge(v.status)), h('td', { class: 'num', text: fmtNum(v.score) }), h('td', { class: 'small', text: fmtMetrics(v.metrics) || '–' }),
        h('td', { class: 'num', text: fmtMS(v.duration_ms) }))))));
  }
  out.append(h('h2', { text: 'Steps, aligned by node sequence' }), steps, h('h2', { text: 'Time per node' }), nodes, h('h2', { text: 'Summary differences' }), sums);
}

// WORSE_WHEN_MORE are the summary fields whose increase is shown in red.
const WORSE_WHEN_MORE = new Set(['duration', 'nodes_failed', 'rollbacks', 'errors']);
const SUMMARY_LABELS = { workflow_id: 'Workflow', status: 'Status', duration: 'Duration', total_entries: 'Entries',
  nodes_executed: 'Nodes run', nodes_failed: 'Nodes failed', checkpoints_created: 'Checkpoints', rollbacks: 'Rollbacks', errors: 'Errors' };
// summaryDiffValues renders a summary difference of GET /v1/compare (its
// values are text: "7926ms", "14", "completed") as A, B and B − A.
function summaryDiffValues(d) {
  const ms = v => { const m = /^(-?[\d.]+)ms$/.exec(v); return m ? +m[1] : null; };
  const int = v => /^-?\d+$/.test(v) ? +v : null;
  if (d.field === 'duration') {
    const a = ms(d.a), b = ms(d.b);
    return [a == null ? d.a : fmtMS(a), b == null ? d.b : fmtMS(b), a != null && b != null ? fmtDelta(b - a) : ''];
  }
  const a = int(d.a), b = int(d.b);
  if (a != null && b != null) return [fmtNum(a), fmtNum(b), (b > a ? '+' : '−') + fmtNum(Math.abs(b - a))];
  return [d.a || '–', d.b || '–', ''];
}

// ---- batch ----------------------------------------------------------------------------
// bestVariant is the batch's best combination, or while it runs the
// best-scoring variant so far.
function bestVariant(b) {
  if (b.best_combination) return b.best_combination + (b.best_score != null ? ' · ' + fmtNum(b.best_score) : '');
  const scored = b.variants.filter(v => v.score != null);
  if (!scored.length) return '–';
  const best = scored.reduce((x, y) => (y.score > x.score ? y : x));
  return (best.name || best.execution_id) + ' · ' + fmtNum(best.score) + (b.summary.status === 'running' ? ' (so far)' : '');
}
function batchView(view, id, url, signal) {
  document.title = id + ' · batch · wtb';
  const out = h('div');
  const pill = statusPill();
  view.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Batch ', h('span', { class: 'mono', text: id })),
    link('/executions/' + encodeURIComponent(id), 'timeline'), h('div', { class: 'spacer' }), pill), out));
  const picked = new Set();
  const render = b => {
    const s = b.summary;
    const scores = b.variants.map(v => v.score).filter(x => x != null);
    const maxScore = Math.max(1e-9, ...scores);
    const btn = h('button', { type: 'button', class: 'primary', text: 'Compare selected', disabled: picked.size !== 2 });
    btn.addEventListener('click', () => { const [x, y] = [...picked]; navigate('/compare?a=' + encodeURIComponent(x) + '&b=' + encodeURIComponent(y) + '&batch=' + encodeURIComponent(id)); });
    const rows = b.variants.map(v => {
      const box = h('input', { type: 'checkbox', 'aria-label': 'Select ' + v.name, checked: picked.has(v.execution_id) });
      box.addEventListener('change', () => { box.checked ? picked.add(v.execution_id) : picked.delete(v.execution_id); btn.disabled = picked.size !== 2; });
      const sb = h('span', { class: 'dbar a' }); sb.style.width = ((v.score ?? 0) / maxScore * 100) + '%';
      return h('tr', { 'data-variant': v.execution_id },
        h('td', {}, box), h('td', { class: 'mono', text: v.name || '–' }), h('td', {}, badge(v.status)),
        h('td', { class: 'num' }, v.score != null ? h('div', { class: 'score' }, sb, h('span', { text: fmtNum(v.score) })) : '–'),
        h('td', { class: 'small', text: fmtMetrics(v.metrics) }),
        h('td', { class: 'num', text: fmtMS(v.duration_ms) }),
        h('td', {}, v.error ? h('span', { class: 'err-text', text: v.error + (v.failed_at_node ? ' at ' + v.failed_at_node : '') }) : ''),
        h('td', { class: 'mono' }, link('/executions/' + encodeURIComponent(v.execution_id), v.execution_id)));
    });
    out.replaceChildren(
      h('dl', { class: 'facts' }, fact('Status', s.status), fact('Workflow', s.workflow_id || '–'), fact('Started', fmtTime(s.started_at)),
        fact('Duration', s.duration_ms != null ? fmtMS(s.duration_ms) : '–'), fact('Variants', b.variants.length),
        fact('Best', bestVariant(b))),
      h('div', { class: 'row-end' }, btn),
      h('table', { class: 'grid variants' }, heads(['', 'Variant', 'Status', 'Score', 'Metrics', 'Duration', 'Failure', 'Execution'], ['Score', 'Duration']), h('tbody', {}, ...rows)));
  };
  const load = () => api('/v1/batches/' + encodeURIComponent(id), { signal }).then(render);
  load().then(() => openStream({ topics: ['batch:' + id], after: null, signal, onStatus: (s, q, a) => pill.set(s, q, a), onEntries: debounce(() => load().catch(() => {}), 300) }))
    .catch(err => failure(out, err));
}

// ---- start ------------------------------------------------------------------------------
document.addEventListener('click', e => {
  const a = e.target.closest('a[data-link]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
setupToken();
route();
