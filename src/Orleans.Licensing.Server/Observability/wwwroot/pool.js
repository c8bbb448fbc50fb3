// The pool view: polls the server's JSON API (same origin, relative URLs) and redraws without a reload.
(() => {
  'use strict';
  const POLL_MS = 2000, REPORT_MS = 30000, EVENTS_KEPT = 100;
  const EVENT_KINDS = 'checkout,checkin,expiry,denial,adoption,borrow,give-up,code-added,allocations-added,distribution-changed';
  const $ = id => document.getElementById(id);
  const state = { licenses: [], servers: [], events: [], overIssues: [], page: 0, lastReport: 0 };

  // The page is served under /pool/: the API is one level up, same origin.
  const get = async url => {
    const response = await fetch(new URL('../' + url, document.baseURI), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return response.json();
  };
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'text') node.textContent = v; else if (k === 'style') Object.assign(node.style, v); else node.setAttribute(k, v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  };
  const pct = (n, total) => total > 0 ? `${Math.min(100, 100 * n / total)}%` : '0%';

  // Membership status of a server, in the pool's words.
  const serverState = status => ({ Active: 'up', Dead: 'down', Joining: 'joining', Created: 'joining', ShuttingDown: 'stopping', Stopping: 'stopping' })[status] || String(status).toLowerCase();

  function renderServers() {
    const list = $('servers');
    list.replaceChildren(...state.servers.map(s => {
      const st = serverState(s.status);
      return el('li', { 'data-server': s.serverId, 'data-status': st, text: `${s.serverId}: ${st}${s.self ? ' (this server)' : ''}` });
    }));
  }

  function filtered() {
    const q = $('search').value.trim().toLowerCase();
    return state.licenses.filter(l => !q || l.code.toLowerCase().includes(q) || (l.product || '').toLowerCase().includes(q));
  }

  function renderCodes() {
    const size = Number($('page-size').value);
    const all = filtered();
    const pages = Math.max(1, Math.ceil(all.length / size));
    state.page = Math.min(state.page, pages - 1);
    const shown = all.slice(state.page * size, (state.page + 1) * size);
    $('page-info').textContent = `Page ${state.page + 1} of ${pages} (${all.length} code${all.length === 1 ? '' : 's'})`;
    $('prev').disabled = state.page === 0;
    $('next').disabled = state.page >= pages - 1;
    const membership = new Map(state.servers.map(s => [s.serverId, serverState(s.status)]));
    const over = new Set(state.overIssues.map(o => o.code));
    $('codes').replaceChildren(...shown.map(l => {
      const inUse = l.servers.reduce((n, s) => n + s.inUse, 0);
      const article = el('article', { class: `code${over.has(l.code) ? ' over' : ''}`, 'data-code': l.code, 'aria-labelledby': `code-${l.code}` });
      const title = el('h3', { id: `code-${l.code}`, text: l.code });
      if (over.has(l.code)) title.append(el('span', { class: 'over-badge', text: 'over-issued in the last hour' }));
      article.append(title, el('p', { class: 'facts', text:
        `${l.product}${l.trial ? ' · trial' : ''} · ${l.seats} seats · ${inUse} in use · free pool ${l.freePool} · leader ${l.leader} · version ${l.version}` }));
      for (const s of l.servers) {
        const st = s.status === 'Down' || membership.get(s.serverId) === 'down' ? 'down' : 'up';
        const summary = `${s.serverId} (${st}): ${s.allocated} allocated, ${s.inUse} in use, ${s.held} held, threshold ${Math.round(s.threshold * 100)}%`;
        const bar = el('div', { class: 'bar', role: 'img', 'aria-label': summary },
          el('span', { class: 'alloc', style: { width: pct(s.allocated, l.seats) } }),
          el('span', { class: 'used', style: { width: pct(s.inUse, l.seats) } }),
          el('span', { class: 'held', style: { left: pct(s.inUse, l.seats), width: pct(Math.max(0, s.held - s.inUse), l.seats) } }),
          el('span', { class: 'limit', style: { left: pct(s.allocated * s.threshold, l.seats) } }));
        article.append(el('div', { class: `row ${st}`, 'data-server': s.serverId, 'data-status': st, 'data-in-use': String(s.inUse), 'data-allocated': String(s.allocated) },
          el('span', { class: 'name', text: `${s.serverId}${s.serverId === l.leader ? ' ★ leader' : ''}` }), bar,
          el('span', { class: 'numbers', text: `${s.allocated} allocated · ${s.inUse} in use · ${s.held} held · ${st}` })));
      }
      return article;
    }));
  }

  function renderEvents() {
    const rows = state.events.map(e => el('tr', { 'data-kind': e.kind },
      el('td', { text: e.at.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '').replace(/\+00:00$/, '') }),
      el('td', { class: `kind-${e.kind}`, text: e.kind }), el('td', { text: e.code }), el('td', { text: e.serverId }),
      el('td', { text: e.clientId || '' }), el('td', { text: String(e.count) }), el('td', { text: e.detail || '' })));
    $('events').tBodies[0].replaceChildren(...rows);
  }

  async function poll() {
    try {
      const since = new Date(Date.now() - 15 * 60 * 1000).toISOString();
      const [licenses, servers, events] = await Promise.all([
        get('api/v1/licenses'), get('api/v1/servers'),
        get(`api/v1/usage?since=${encodeURIComponent(since)}&kind=${EVENT_KINDS}&order=desc&limit=${EVENTS_KEPT}`).catch(() => state.events)]);
      state.licenses = licenses.sort((a, b) => a.code.localeCompare(b.code));
      state.servers = servers;
      state.events = events;
      if (Date.now() - state.lastReport > REPORT_MS) {
        state.lastReport = Date.now();
        const from = new Date(Date.now() - 60 * 60 * 1000).toISOString();
        get(`api/v1/usage/report?since=${encodeURIComponent(from)}`).then(r => { state.overIssues = r.overIssues; renderCodes(); }).catch(() => {});
        get('api/v1/pool').then(p => { $('trust').textContent = `Pool ${p.poolId} · trust: ${p.trust}` + (p.trust === 'trial keys' ? ` · trial seats ${p.trialSeats} of ${p.trialCap}` : ''); }).catch(() => {});
      }
      renderServers(); renderCodes(); renderEvents();
      $('updated').textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      $('updated').textContent = `Not updated: ${e.message}`;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  $('search').addEventListener('input', () => { state.page = 0; renderCodes(); });
  $('page-size').addEventListener('change', () => { state.page = 0; renderCodes(); });
  $('prev').addEventListener('click', () => { state.page--; renderCodes(); });
  $('next').addEventListener('click', () => { state.page++; renderCodes(); });
  poll();
})();
