// The status page: polls status.json every second and shows it. Every value is set as text (textContent), never
// as markup: buffer names and owners come from peers.
'use strict';

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (cls) {
    td.className = cls;
  }
  row.appendChild(td);
  return td;
}

function rows(tableId, items, fill) {
  const body = document.querySelector('#' + tableId + ' tbody');
  const fresh = document.createElement('tbody');
  for (const item of items) {
    const tr = document.createElement('tr');
    fill(tr, item);
    fresh.appendChild(tr);
  }
  body.replaceWith(fresh);
}

function text(id, value) {
  document.getElementById(id).textContent = value === null || value === undefined ? '' : String(value);
}

function attachments(b) {
  const names = b.attachedDevices.slice();
  if (b.kernelDevices.length > 0) {
    names.push('kernel: ' + b.kernelDevices.join(', '));
  }
  return names.join('; ');
}

function format(f) {
  if (!f) {
    return '';
  }
  const planes = f.planes.map(p => p.buffer + ':' + p.offset + '+' + p.length + '/' + p.stride).join(' ');
  return f.fourcc + ' ' + f.modifier + ' ' + f.width + '×' + f.height + ' [' + planes + ']';
}

let lastThumbnail = null;

function show(s) {
  rows('exporters', s.exporters, (tr, e) => {
    tr.dataset.name = e.name;
    cell(tr, e.name, 'name');
    cell(tr, e.expName, 'exp-name');
    cell(tr, e.kind, 'kind');
    cell(tr, e.ranking, 'ranking num');
    cell(tr, e.devPath, 'dev-path');
  });
  rows('buffers', s.buffers, (tr, b) => {
    tr.dataset.id = b.id;
    cell(tr, b.id, 'id');
    cell(tr, b.size, 'size num');
    cell(tr, b.expName, 'exp-name');
    cell(tr, b.exporter, 'exporter');
    cell(tr, b.name, 'name');
    cell(tr, b.owner, 'owner');
    cell(tr, b.refCount, 'refs num');
    cell(tr, attachments(b), 'attachments');
    cell(tr, format(b.format), 'format');
  });
  text('buffer-count', '(' + s.buffers.length + ')');
  const p = s.pipeline;
  document.getElementById('pipeline-off').hidden = p.running;
  document.getElementById('pipeline').hidden = !p.running;
  if (p.running) {
    text('source', p.source);
    text('frames', p.framesProduced);
    text('fps', p.framesPerSecond.toFixed(1));
    text('source-dropped', p.sourceDropped);
    rows('consumers', p.consumers, (tr, c) => {
      tr.dataset.pid = c.pid;
      cell(tr, c.pid, 'pid num');
      cell(tr, c.sent, 'sent num');
      cell(tr, c.dropped, 'dropped num');
      cell(tr, c.held, 'held num');
    });
    const t = p.thumbnail;
    if (t) {
      text('thumbnail-info', 'frame ' + t.frame + ' (sequence ' + t.sequence + '), ' + t.width + '×' + t.height
          + ', ' + t.bytes + ' bytes');
      if (lastThumbnail !== t.frame) {
        lastThumbnail = t.frame;
        // a new URL per thumbnail: the browser fetches it anew
        document.getElementById('thumbnail').src = 'thumbnail.jpg?frame=' + encodeURIComponent(t.frame);
      }
    } else {
      text('thumbnail-info', 'none yet');
    }
  }
}

async function poll() {
  const state = document.getElementById('state');
  try {
    const r = await fetch('status.json', { cache: 'no-store' });
    if (!r.ok) {
      throw new Error('HTTP ' + r.status);
    }
    show(await r.json());
    state.className = '';
    state.textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    state.className = 'error';
    state.textContent = 'no status: ' + e.message;
  } finally {
    setTimeout(poll, 1000);
  }
}

poll();
