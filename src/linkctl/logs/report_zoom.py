"""The closer look's script in `logs analyze`'s page (report_html.py puts it inline, with its data)."""

# The closer look: one link between two moments, drawn by this inline script from
# the kept periods (JSON in the page), with the overview's rules (true length, MIN_PX
# at least, widened ones marked). A click on a timeline row or a down burst's button
# opens it there.
ZOOM_JS = r"""
(() => {
  const data = JSON.parse(document.getElementById('zoomdata').textContent);
  const W = @WIDTH@, L = @LEFT@, R = 20, MIN = @MIN_PX@, NS = 'http://www.w3.org/2000/svg';
  const svg = document.getElementById('zoom'), pick = document.getElementById('zoomlink');
  const words = document.getElementById('zoomwords');
  let link = 0, t0 = 0, t1 = data.span;
  const fmt = t => data.wall
    ? new Date((data.lo + data.offset + t) * 1000).toISOString().replace('T', ' ').replace('Z', '')
        .replace(/\.000$/, '') + data.zone
    : '+' + t.toFixed(3) + ' s';
  const secs = s => s >= 3600 ? (s / 3600).toFixed(1) + ' h' : s >= 60 ? (s / 60).toFixed(1) + ' min'
    : s.toPrecision(3) + ' s';
  const el = (name, attrs, text) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  function draw() {
    svg.replaceChildren();
    const d = data.links[link], scale = (W - L - R) / (t1 - t0);
    el('text', {class: 'label', x: 6, y: 23}, d.label);
    el('rect', {class: 'up', x: L, y: 16, width: W - L - R, height: 16});
    let n = 0, down = 0;
    for (const [s, len, open] of d.periods) {
      if (s + len < t0 || s >= t1) continue;
      const a = Math.max(s, t0), b = Math.min(s + len, t1);
      n += 1; down += b - a;
      const x = L + (a - t0) * scale, w = (b - a) * scale;
      const title = 'down ' + secs(len) + (open ? ' (still down at the end of the log)' : '');
      const r = w < MIN
        ? el('rect', {class: 'down widened', x: x.toFixed(2), y: 16, width: MIN, height: 16})
        : el('rect', {class: 'down', x: x.toFixed(2), y: 16, width: w.toFixed(2), height: 16});
      const t = document.createElementNS(NS, 'title');
      t.textContent = w < MIN ? title + ', drawn ' + MIN + ' px wide' : title;
      r.appendChild(t);
    }
    el('line', {class: 'axis', x1: L, y1: 40, x2: W - R, y2: 40});
    for (let i = 0; i <= 4; i++) {
      const x = L + i * (W - L - R) / 4;
      el('line', {class: 'axis', x1: x, y1: 40, x2: x, y2: 44});
      el('text', {class: 'tick', x: x, y: 56, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle'},
         fmt(t0 + i * (t1 - t0) / 4));
    }
    pick.value = String(link);
    words.textContent = `${d.name}, ${secs(t1 - t0)} shown (1 px = ${secs(1 / scale)}): ` +
      `${n} down period(s) here, down ${secs(down)} ` +
      `(${(100 * down / (t1 - t0)).toPrecision(2)} % of this view)` +
      (d.omitted ? `; ${d.omitted} period(s) of this link are counted, not kept, and not drawn` : '');
  }
  function show(l, a, b) {
    link = l;
    const w = Math.max(b - a, 0.01);
    t0 = a; t1 = a + w;
    draw();
  }
  const centre = () => (t0 + t1) / 2, width = () => t1 - t0;
  const act = {
    all: () => show(link, 0, data.span),
    in: () => show(link, centre() - width() / 8, centre() + width() / 8),
    out: () => show(link, centre() - width() * 2, centre() + width() * 2),
    left: () => show(link, t0 - width() * 0.75, t1 - width() * 0.75),
    right: () => show(link, t0 + width() * 0.75, t1 + width() * 0.75),
  };
  for (const b of document.querySelectorAll('#zoomctl button')) b.onclick = () => act[b.dataset.act]();
  pick.onchange = () => show(Number(pick.value), t0, t1);
  for (const b of document.querySelectorAll('button.closer')) {
    b.onclick = () => {
      const [l, a, z] = b.dataset.zoom.split(' ').map(Number);
      show(l, a, z);
      svg.scrollIntoView();
    };
  }
  const overview = document.getElementById('timeline');
  overview.addEventListener('click', ev => {
    const row = ev.target.closest('g.row');
    if (!row) return;
    const box = overview.getBoundingClientRect();
    const x = (ev.clientX - box.left) * (W / box.width);
    const t = (x - L) / (W - L - R) * data.span, w = data.span / 24;
    show(Number(row.dataset.link), t - w / 2, t + w / 2);
    svg.scrollIntoView();
  });
  // A label of wide glyphs ('wwww...') is still wider than its column, cut as it is: pressed in.
  for (const t of document.querySelectorAll('#timeline text.label')) {
    if (t.getComputedTextLength() > L - 10) {
      t.setAttribute('textLength', L - 10);
      t.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }
  }
  const first = data.links.length ? data.links[0].periods[0] : undefined;
  if (first) show(0, Math.max(first[0] - 60, 0), Math.max(first[0] - 60, 0) + Math.min(data.span, 3600));
  else if (data.links.length) draw();
  else words.textContent = 'no link to draw: nothing to look at closer';
})();
"""
