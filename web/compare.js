// Compare two plan versions: side by side or with a swipe, changed grids outlined in magenta on both maps, and the
// lineage table (which old grid's land went to which new grid) from /v1/plans/{a}/diff/{b}.
import { $, enc, esc, getJSON, state, status } from './core.js';
import { map, newMap, showCollection, showPlanOn } from './app.js';

let other = null; // the second map
let syncing = false;
const SAME = 0.9999;

function fillPickers() {
  const plans = state.collections.filter((c) => c.id.startsWith('plan.'));
  for (const id of ['cmp-a', 'cmp-b']) {
    const keep = $(id).value;
    $(id).innerHTML = plans.map((c) => `<option value="${esc(c.id)}">${esc(c.plan.name)} v${esc(c.plan.version)} (${esc(c.plan.status)})</option>`).join('');
    if (plans.some((c) => c.id === keep)) $(id).value = keep;
  }
  const draft = plans.find((c) => c.plan.status === 'draft');
  const published = plans.find((c) => c.plan.status === 'published');
  if (published && !$('cmp-a').dataset.touched) $('cmp-a').value = published.id;
  if (draft && !$('cmp-b').dataset.touched) $('cmp-b').value = draft.id;
}

function sync(from, to) {
  from.on('move', () => {
    if (syncing) return;
    syncing = true;
    to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(), pitch: from.getPitch() });
    syncing = false;
  });
}

function ensureOther() {
  if (other) return Promise.resolve(other);
  $('map-b').hidden = false;
  other = newMap('map-b');
  sync(map, other);
  sync(other, map);
  window.geogridMapB = other;
  return new Promise((resolve) => other.on('load', () => resolve(other)));
}

function setMode(mode) {
  const maps = $('maps');
  maps.classList.toggle('side', mode === 'side');
  maps.classList.toggle('swipe', mode === 'swipe');
  $('swipe').hidden = mode !== 'swipe';
  clip();
  map.resize();
  other?.resize();
}

function clip() {
  const swipe = $('maps').classList.contains('swipe');
  $('map-b').style.clipPath = swipe ? `inset(0 0 0 ${$('swipe').value}%)` : '';
  $('swipe-line').hidden = !swipe;
  $('swipe-line').style.left = `${$('swipe').value}%`;
}

function lineageTable(d) {
  const moved = d.lineage.filter((r) => !(r.from_code === r.to_code && r.share_of_from >= SAME && r.share_of_to >= SAME));
  const rows = moved.slice(0, 200).map((r) => `<tr class="changed"><td>${esc(r.from_code)}</td><td>${esc(r.to_code)}</td>`
    + `<td>${Math.round(r.shared_area_m2).toLocaleString('zh-CN')}</td><td>${(100 * r.share_of_from).toFixed(1)}%</td><td>${(100 * r.share_of_to).toFixed(1)}%</td></tr>`);
  return `<table class="list"><tr><th>原网格</th><th>新网格</th><th>共有 m²</th><th>占原</th><th>占新</th></tr>${rows.join('')}</table>`
    + (moved.length ? '' : '<p class="hint">两个版本的网格完全相同</p>');
}

async function compare() {
  const a = $('cmp-a').value;
  const b = $('cmp-b').value;
  const ca = state.collections.find((c) => c.id === a);
  const cb = state.collections.find((c) => c.id === b);
  try {
    const d = await getJSON(`v1/plans/${enc(ca.plan.name)}/diff/${enc(cb.plan.name)}?f=json`);
    const m = await ensureOther();
    setMode(document.querySelector('input[name="cmp-mode"]:checked').value);
    showPlanOn(map, ca, Date.now());
    showPlanOn(m, cb, Date.now());
    const before = [...d.removed, ...d.reshaped.map((r) => r.code), ...d.recoded.map((r) => r.from)];
    const after = [...d.added, ...d.reshaped.map((r) => r.code), ...d.recoded.map((r) => r.to)];
    map.setFilter('grids-changed', ['in', ['get', 'code'], ['literal', before]]);
    m.setFilter('grids-changed', ['in', ['get', 'code'], ['literal', after]]);
    const s = d.summary;
    $('cmp-summary').innerHTML = `<p><b>${esc(ca.plan.name)}</b> → <b>${esc(cb.plan.name)}</b>：新增 ${s.added}，删除 ${s.removed}，`
      + `调整 ${s.reshaped}，改码 ${s.recoded}，未变 ${s.unchanged}</p><p class="hint">左（窄屏为上）：A；右（窄屏为下）：B；卷帘时滑块左侧为 A。洋红边框为变化的网格。</p>`;
    $('lineage').innerHTML = lineageTable(d);
    document.body.dataset.compared = String(d.lineage.length);
  } catch (err) {
    status(err.message, true);
  }
}

function exitCompare() {
  $('maps').classList.remove('side', 'swipe');
  $('map-b').hidden = true;
  $('swipe').hidden = true;
  $('swipe-line').hidden = true;
  map.setFilter('grids-changed', ['in', ['get', 'code'], ['literal', []]]);
  if (state.current) showCollection(state.current.id, { fit: false });
  map.resize();
}

export function initCompare() {
  document.addEventListener('collections', fillPickers);
  for (const id of ['cmp-a', 'cmp-b']) $(id).addEventListener('change', () => { $(id).dataset.touched = '1'; });
  $('cmp-go').addEventListener('click', compare);
  $('cmp-exit').addEventListener('click', exitCompare);
  $('swipe').addEventListener('input', clip);
  for (const r of document.querySelectorAll('input[name="cmp-mode"]')) r.addEventListener('change', () => other && setMode(r.value));
  document.addEventListener('tab', (e) => { if (e.detail !== 'compare' && other && !$('map-b').hidden) exitCompare(); });
}
