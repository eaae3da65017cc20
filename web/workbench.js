// The draft editor: pick road blocks (click or lasso) and hand them to a grid, merge grids, split one along a drawn
// line, undo and redo. Every edit goes to /v1/plans/{draft}/edits and answers with the live checks of the whole
// draft; a refusal (409) shows its reasons and offers to apply the edit anyway ("force").
import { $, ApiError, enc, esc, getJSON, isDraft, planName, postJSON, state, status } from './core.js';
import { checksTable, OPS } from './labels.js';
import { EMPTY, loadCollections, map, planTiles, showCollection, showPlanOn, vectorSource } from './app.js';

const ed = { tool: 'select', blocks: new Set(), merge: [], sketch: [], drawing: false, draft: null };
const HINTS = {
  select: '点击地块选择或取消，再选择目标网格并“移交”。',
  lasso: '按住鼠标拖动，圈住的地块（过半在圈内）被选中。',
  merge: '依次点击要合并的网格（第一个保留编码），再按“确认合并”。',
  split: '在地图上依次点击画分割线（从网格外画到网格外），再按“完成分割”。线在道路 15 m 内时沿道路。',
};

const BLOCK_LAYERS = [
  { id: 'blocks-line', type: 'line', paint: { 'line-color': '#ffffff', 'line-width': 0.8 } },
  { id: 'blocks-hit', type: 'fill', paint: { 'fill-opacity': 0 } },
  { id: 'blocks-selected', type: 'fill', filter: ['in', ['get', 'id'], ['literal', []]], paint: { 'fill-color': '#2171b5', 'fill-opacity': 0.55 } },
];

function addSketchLayers() {
  map.addSource('sketch', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'sketch-fill', type: 'fill', source: 'sketch', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#2171b5', 'fill-opacity': 0.15 } });
  map.addLayer({ id: 'sketch-line', type: 'line', source: 'sketch', paint: { 'line-color': '#e31a1c', 'line-width': 2.5, 'line-dasharray': [2, 1] } });
}

function showBlocks() {
  if (!ed.draft) {
    for (const l of BLOCK_LAYERS) if (map.getLayer(l.id)) map.setLayoutProperty(l.id, 'visibility', 'none');
    return;
  }
  vectorSource(map, 'blocks', [planTiles(ed.draft, 'blocks') + `?v=${state.version}`], 12, BLOCK_LAYERS, 'grids-line');
  for (const l of BLOCK_LAYERS) map.setLayoutProperty(l.id, 'visibility', 'visible');
}

function editing() {
  return document.body.dataset.tab === 'edit' && ed.draft;
}

function setTool(tool) {
  ed.tool = tool;
  for (const b of document.querySelectorAll('[data-tool]')) b.setAttribute('aria-pressed', String(b.dataset.tool === tool));
  $('tool-hint').textContent = HINTS[tool];
  $('merge-go').hidden = tool !== 'merge';
  $('split-go').hidden = tool !== 'split';
  document.body.dataset.tool = tool;
  clearSketch();
  if (tool === 'split' && editing()) map.doubleClickZoom.disable();
  else map.doubleClickZoom.enable();
}

function clearSketch() {
  ed.sketch = [];
  ed.merge = [];
  map.getSource('sketch')?.setData(EMPTY);
  showSelection();
}

function showSelection() {
  if (map.getLayer('blocks-selected')) map.setFilter('blocks-selected', ['in', ['get', 'id'], ['literal', [...ed.blocks]]]);
  if (map.getLayer('grids-changed')) map.setFilter('grids-changed', ['in', ['get', 'code'], ['literal', ed.merge]]);
  const parts = [];
  if (ed.blocks.size) parts.push(`已选 <b>${ed.blocks.size}</b> 个地块`);
  if (ed.merge.length) parts.push(`合并：<b>${ed.merge.map(esc).join(' + ')}</b>`);
  if (ed.sketch.length) parts.push(`分割线 ${ed.sketch.length} 个点`);
  $('selection').innerHTML = parts.join('；') || '<span class="hint">未选择</span>';
  document.body.dataset.selected = String(ed.blocks.size);
}

// --- showing a draft -------------------------------------------------------------------------------------------
export function showDraft(c) {
  ed.draft = isDraft(c) ? planName(c) : null;
  ed.blocks.clear();
  $('copy-box').hidden = Boolean(ed.draft);
  $('editor').hidden = !ed.draft;
  $('copy-name').value = ed.draft ? '' : `${planName(c)}-草案`;
  if (!map.getSource('sketch')) return; // before the map's style loaded: initWorkbench shows it on load
  showBlocks();
  clearSketch();
  if (ed.draft) refreshDraft().catch((err) => status(err.message, true));
}

async function refreshDraft(answer) {
  const checks = answer || (await getJSON(`v1/plans/${enc(ed.draft)}/checks`));
  $('checks').innerHTML = checksTable(checks.checks);
  $('undo').disabled = !checks.can_undo;
  $('redo').disabled = !checks.can_redo;
  const { grids } = await getJSON(`v1/plans/${enc(ed.draft)}/grids`);
  const keep = $('target').value;
  $('target').innerHTML = grids.map((g) => `<option value="${esc(g.code)}">${esc(g.code)} ${esc(g.name ?? '')}</option>`).join('');
  if (grids.some((g) => g.code === keep)) $('target').value = keep;
  const { edits } = await getJSON(`v1/plans/${enc(ed.draft)}/edits`);
  $('edit-log').innerHTML = edits.slice(0, 30).map((e) => {
    const gone = e.state === 'undone' || e.state === 'discarded' ? ' <small class="hint">(已撤销)</small>' : '';
    return `<li>#${e.seq} ${esc(OPS[e.op] || e.op)}${gone} · ${esc(e.actor)} · ${esc(e.created_at.slice(11, 19))}</li>`;
  }).join('');
  document.body.dataset.grids = String(checks.checks.grids);
}

function afterEdit(answer) {
  state.version += 1;
  showPlanOn(map, state.current, state.version);
  showBlocks();
  ed.blocks.clear();
  clearSketch();
  const e = answer.edit;
  const what = { ...(e.summary || {}) };
  const changed = answer.changed.features.map((f) => f.properties.code);
  const removed = answer.removed.length ? `；删除 ${answer.removed.map(esc).join('，')}` : '';
  $('edit-message').innerHTML = `<span class="ok">${esc(OPS[e.op] || e.op)}完成</span>：${changed.map(esc).join('，')}${removed}${e.forced ? ' <span class="bad">(强制)</span>' : ''}`;
  document.body.dataset.edits = String(e.seq);
  document.body.dataset.lastOp = e.op;
  status(what.breaks?.length ? '已强制执行，请检查' : '');
  return refreshDraft(answer);
}

function refused(err, retry) {
  const breaks = err.body?.breaks || [];
  const items = breaks.map((b) => `<li>${esc(b.reason)}</li>`).join('');
  $('edit-message').innerHTML = `<p class="error">被拒绝：${esc(err.message)}</p>${items ? `<ul class="error">${items}</ul>` : ''}`
    + (err.status === 409 && breaks.length ? '<button type="button" id="force">仍然执行 (force)</button>' : '');
  const force = $('force');
  if (force) force.addEventListener('click', () => retry(true));
  document.body.dataset.refused = String(Date.now());
}

async function send(body) {
  const go = async (force) => {
    try {
      await afterEdit(await postJSON(`v1/plans/${enc(ed.draft)}/edits`, force ? { ...body, force: true } : body));
    } catch (err) {
      if (err instanceof ApiError) refused(err, go);
      else status(err.message, true);
    }
  };
  await go(false);
}

async function step(which) {
  try {
    await afterEdit(await postJSON(`v1/plans/${enc(ed.draft)}/${which}`));
  } catch (err) {
    $('edit-message').innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

// --- map interaction -------------------------------------------------------------------------------------------
function gridAt(point) {
  const f = map.queryRenderedFeatures(point, { layers: ['grids-fill'] })[0];
  return f?.properties.code;
}

function onClick(e) {
  if (!editing()) return;
  if (ed.tool === 'select') {
    const f = map.queryRenderedFeatures(e.point, { layers: ['blocks-hit'] })[0];
    if (!f) return;
    const id = f.properties.id;
    if (ed.blocks.has(id)) ed.blocks.delete(id);
    else ed.blocks.add(id);
    showSelection();
  } else if (ed.tool === 'merge') {
    const code = gridAt(e.point);
    if (code && !ed.merge.includes(code)) ed.merge.push(code);
    showSelection();
  } else if (ed.tool === 'split') {
    ed.sketch.push([e.lngLat.lng, e.lngLat.lat]);
    map.getSource('sketch').setData({ type: 'Feature', geometry: { type: 'LineString', coordinates: ed.sketch.length > 1 ? ed.sketch : [...ed.sketch, ...ed.sketch] } });
    showSelection();
  }
}

function lassoStart(e) {
  if (!editing() || ed.tool !== 'lasso') return;
  e.preventDefault();
  ed.drawing = true;
  ed.sketch = [[e.lngLat.lng, e.lngLat.lat]];
  map.dragPan.disable();
}

function lassoMove(e) {
  if (!ed.drawing) return;
  ed.sketch.push([e.lngLat.lng, e.lngLat.lat]);
  map.getSource('sketch').setData({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...ed.sketch, ed.sketch[0]]] } });
}

async function lassoEnd() {
  if (!ed.drawing) return;
  ed.drawing = false;
  map.dragPan.enable();
  const ring = [...ed.sketch, ed.sketch[0]];
  ed.sketch = [];
  if (ring.length < 4) return;
  try {
    const found = await postJSON(`v1/plans/${enc(ed.draft)}/blocks/select`, { geometry: { type: 'Polygon', coordinates: [ring] } });
    for (const id of found.blocks) ed.blocks.add(id);
    showSelection();
  } catch (err) {
    status(err.message, true);
  }
}

function splitLine() {
  if (ed.sketch.length < 2) return status('分割线至少需要两个点', true);
  const a = map.project(ed.sketch[Math.floor((ed.sketch.length - 1) / 2)]);
  const b = map.project(ed.sketch[Math.floor((ed.sketch.length - 1) / 2) + 1]);
  const code = gridAt([(a.x + b.x) / 2, (a.y + b.y) / 2]);
  if (!code) return status('分割线中点不在任何网格内', true);
  return send({ op: 'split', code, line: { type: 'LineString', coordinates: ed.sketch } });
}

async function copyDraft(event) {
  event.preventDefault();
  const name = $('copy-name').value.trim();
  try {
    const answer = await postJSON(`v1/plans/${enc(planName(state.current))}/copy`, { name });
    await loadCollections(`plan.${answer.plan}`);
    showCollection(`plan.${answer.plan}`, { fit: false });
    status(`已复制为草案 ${answer.plan}（${answer.blocks} 个地块）`);
  } catch (err) {
    status(err.message, true);
  }
}

export function initWorkbench() {
  map.on('load', () => {
    addSketchLayers();
    if (state.current) showDraft(state.current);
  });
  map.on('click', onClick);
  map.on('mousedown', lassoStart);
  map.on('mousemove', lassoMove);
  map.on('mouseup', lassoEnd);
  for (const b of document.querySelectorAll('[data-tool]')) b.addEventListener('click', () => setTool(b.dataset.tool));
  $('assign').addEventListener('click', () => {
    if (!ed.blocks.size) return status('先选择地块', true);
    return send({ op: 'move', blocks: [...ed.blocks], to: $('target').value });
  });
  $('merge-go').addEventListener('click', () => (ed.merge.length < 2 ? status('至少点击两个网格', true) : send({ op: 'merge', codes: ed.merge })));
  $('split-go').addEventListener('click', splitLine);
  $('sketch-clear').addEventListener('click', () => { ed.blocks.clear(); clearSketch(); });
  $('set-go').addEventListener('click', () => {
    const body = { op: 'set', code: $('target').value };
    if ($('set-tier').value) body.tier = $('set-tier').value;
    if ($('set-name').value.trim()) body.name = $('set-name').value.trim();
    return body.tier || body.name ? send(body) : status('选择等级或填写名称', true);
  });
  $('recode-go').addEventListener('click', () => send({ op: 'recode' }));
  $('undo').addEventListener('click', () => step('undo'));
  $('redo').addEventListener('click', () => step('redo'));
  $('copy-form').addEventListener('submit', copyDraft);
  document.addEventListener('tab', (e) => { if (e.detail === 'edit') setTool(ed.tool); });
  setTool('select');
}

