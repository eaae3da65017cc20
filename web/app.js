// The planner's map: grids coloured by tier, their codes, the plan's roads, community and street borders, drawn
// from geogrid's own vector tiles on a plain background (no internet basemap). Tabs: browse (locate, a grid's
// people and units, the plan's quality), edit (a draft: blocks, merge, split, undo, live checks), compare two
// versions, publish with a filing note. Everything it shows comes from the geogrid API.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';
import { $, API, area, enc, esc, getJSON, headers, isDraft, planName, state, status, table } from './core.js';
import { reportRows } from './labels.js';
import { initWorkbench, showDraft } from './workbench.js';
import { initCompare } from './compare.js';
import { initPublish, showHistory } from './publish.js';

const EMPTY = { type: 'FeatureCollection', features: [] };
const TIER_COLOURS = ['match', ['get', 'tier'], 'A', '#d7301f', 'B', '#fc8d59', 'C', '#91cf60', '#bdbdbd'];
const ROAD_WIDTH = ['match', ['get', 'road_class'], 1, 2.4, 2, 1.6, 3, 1.0, 0.6];
export const tileUrl = (id) => `${api('tiles/' + enc(id))}/{z}/{x}/{y}.mvt`;
export const planTiles = (plan, layer) => `${api(`v1/plans/${enc(plan)}/tiles/${layer}`)}/{z}/{x}/{y}.mvt`;

function api(path) {
  return new URL(path, API).toString();
}

/** Sources and layers of one map (the main map, and the second map of the compare view). */
export function mapStyle() {
  return {
    version: 8,
    sources: {
      grids: { type: 'vector', tiles: [tileUrl('admin.district')], maxzoom: 16 },
      community: { type: 'vector', tiles: [tileUrl('admin.community')], maxzoom: 16 },
      street: { type: 'vector', tiles: [tileUrl('admin.street')], maxzoom: 16 },
      labels: { type: 'geojson', data: EMPTY }, // one point per grid: its code, drawn once (tiles would repeat it)
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } },
      { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': TIER_COLOURS, 'fill-opacity': 0.45 } },
      { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#444', 'line-width': 1.2 } },
      { id: 'community-line', type: 'line', source: 'community', 'source-layer': 'community', paint: { 'line-color': '#2b8cbe', 'line-width': 1.6, 'line-dasharray': [3, 2] } },
      { id: 'street-line', type: 'line', source: 'street', 'source-layer': 'street', paint: { 'line-color': '#252525', 'line-width': 2.6 } },
      { id: 'grids-changed', type: 'line', source: 'grids', 'source-layer': 'grids', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#c51b7d', 'line-width': 4 } },
      { id: 'grids-selected', type: 'line', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#08306b', 'line-width': 3.5 } },
      {
        id: 'grids-label', type: 'symbol', source: 'labels', minzoom: 12,
        layout: { 'text-field': ['get', 'code'], 'text-size': 11, 'text-font': ['sans-serif'] },
        paint: { 'text-color': '#1a1a1a', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
      },
    ],
  };
}

export function newMap(container) {
  const m = new maplibregl.Map({
    container,
    center: [114.3, 30.58],
    zoom: 11,
    attributionControl: false,
    transformRequest: (url) => (state.key && url.startsWith(API.origin) ? { url, headers: headers() } : { url }),
    style: mapStyle(),
  });
  m.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  m.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
  return m;
}

const map = newMap('map');
export { map, maplibregl, EMPTY };

function select(code) {
  map.setFilter('grids-selected', ['==', ['get', 'code'], code || '']);
}

/** A vector source showing ``tiles``, created with its layers (below ``before``) the first time. */
export function vectorSource(m, id, tiles, minzoom, layers, before) {
  const source = m.getSource(id);
  if (source) source.setTiles(tiles);
  else {
    m.addSource(id, { type: 'vector', tiles, minzoom, maxzoom: 16 });
    for (const layer of layers) m.addLayer({ source: id, 'source-layer': id, ...layer }, before);
  }
}

/** Point a map's grid and road sources at one collection (drafts get a cache-busting version). */
export function showPlanOn(m, c, version = 0) {
  const v = isDraft(c) ? `?v=${version}` : '';
  m.getSource('grids').setTiles([tileUrl(c.id) + v]);
  const roads = { id: 'roads-line', type: 'line', paint: { 'line-color': '#8c8c8c', 'line-width': ROAD_WIDTH } };
  vectorSource(m, 'roads', [planTiles(planName(c), 'roads')], 10, [roads], 'grids-line');
  return getJSON(`v1/plans/${enc(planName(c))}/grids`)
    .then(({ grids }) => {
      const features = grids.map((g) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [g.lon, g.lat] }, properties: { code: g.code } }));
      m.getSource('labels').setData({ type: 'FeatureCollection', features });
      return grids;
    })
    .catch(() => m.getSource('labels').setData(EMPTY));
}

// --- collections: the layer / plan-version switch ----------------------------------------------------------------
export async function loadCollections(wanted) {
  const { collections } = await getJSON('collections');
  state.collections = collections.filter((c) => c.plan);
  wanted = wanted || new URLSearchParams(window.location.search).get('collection');
  if (wanted && !state.collections.some((c) => c.id === wanted)) {
    // another API worker may not list a draft made a moment ago; asking for it by id refreshes its catalogue
    await getJSON(`collections/${enc(wanted)}`).then((c) => state.collections.push(c)).catch(() => {});
  }
  const picker = $('collection');
  picker.innerHTML = state.collections.map((c) => `<option value="${esc(c.id)}">${esc(c.title)}</option>`).join('');
  document.dispatchEvent(new CustomEvent('collections'));
  if (!state.collections.length) {
    status('没有可显示的方案 No plan to show yet', true);
    return;
  }
  const first = state.collections.find((c) => c.id === wanted) || state.collections[0];
  picker.value = first.id;
  showCollection(first.id, { fit: !state.current });
}

export function showCollection(id, { fit = true } = {}) {
  const c = state.collections.find((x) => x.id === id);
  if (!c) return;
  state.current = c;
  $('collection').value = id;
  showPlanOn(map, c, state.version);
  select('');
  const bbox = c.extent?.spatial?.bbox?.[0];
  if (bbox && fit) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 30, duration: 0 });
  showMetrics(c);
  $('grid-info').innerHTML = '<p class="hint">点击网格查看 Click a grid</p>';
  document.body.dataset.collection = c.id;
  showDraft(c);
  showHistory(c);
}

function showMetrics(c) {
  const p = c.plan;
  const rows = [
    ['方案', esc(p.name)],
    ['版本', `v${esc(p.version)} · ${esc({ draft: '草案', published: '已发布', retired: '已停用' }[p.status] || p.status)}`],
    ['生效', esc([p.valid_from, p.valid_to].map((d) => (d ? d.slice(0, 10) : '…')).join(' → '))],
    ...(p.report ? reportRows(p.report).slice(0, 40) : [['质量报告', '<span class="hint">无</span>']]),
  ];
  $('metrics').innerHTML = table(rows);
}

// --- click a grid (browse tab) ---------------------------------------------------------------------------------
export async function showGrid(code) {
  const c = state.current;
  const query = c.id.startsWith('plan.') ? `?plan=${enc(c.plan.name)}` : '';
  try {
    const info = await getJSON(`v1/grids/${enc(c.plan.layer)}/${enc(code)}${query}`);
    const g = info.grid;
    const people = info.people.map((p) => `<li>${esc(p.role)}：${esc(p.name)}${p.unit ? `（${esc(p.unit.name)}）` : ''}</li>`).join('');
    const units = info.units.map((u) => `<li>${esc(u.name)} <small>${esc(u.via)}</small></li>`).join('');
    $('grid-info').innerHTML = table([
      ['编码 code', esc(g.code)],
      ['名称 name', esc(g.name)],
      ['等级 tier', esc(g.tier)],
      ['面积 area', g.area_m2 != null ? `${(g.area_m2 / 1e6).toFixed(3)} km²` : ''],
      ['直径 diameter', g.diameter_m != null ? `${(g.diameter_m / 1000).toFixed(2)} km` : ''],
      ['社区 community', area(info.community)],
      ['街道 street', area(info.street)],
      ['区 district', area(info.district)],
      ['方案 plan', `${esc(info.plan.name)} v${esc(info.plan.version)}`],
      ['人员 people', people ? `<ul>${people}</ul>` : '<span class="hint">none</span>'],
      ['责任单位 units', units ? `<ul>${units}</ul>` : '<span class="hint">none</span>'],
    ]);
    select(g.code);
    status('');
  } catch (err) {
    $('grid-info').innerHTML = `<p class="error">${esc(err.message)}</p>`;
    select('');
  }
}

map.on('click', 'grids-fill', (e) => {
  if (document.body.dataset.tab !== 'browse') return; // other tabs own the clicks
  const f = e.features && e.features[0];
  if (f) showGrid(f.properties.code);
});
map.on('mouseenter', 'grids-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
map.on('mouseleave', 'grids-fill', () => { map.getCanvas().style.cursor = ''; });

// --- locate ----------------------------------------------------------------------------------------------------
function gridsOf(answer) {
  const g = answer.layers ?? {};
  return Object.entries(g).map(([layer, v]) => (v ? { layer, ...v } : { layer }));
}

async function locate(event) {
  event.preventDefault();
  const lon = $('locate-lon').value.trim();
  const lat = $('locate-lat').value.trim();
  const crs = $('locate-crs').value;
  const out = $('locate-result');
  try {
    const answer = await getJSON(`v1/locate?${new URLSearchParams({ lon, lat, crs })}`);
    const grids = gridsOf(answer);
    const items = grids.map((g) => {
      const plan = g.plan && typeof g.plan === 'object' ? `${g.plan.name ?? ''} v${g.plan.version ?? ''}` : '';
      return `<li>${esc(g.layer)}: <b>${esc(g.code ?? '—')}</b> ${esc(g.name ?? '')} ${g.tier ? `(${esc(g.tier)})` : ''} <small>${esc(plan)}</small></li>`;
    }).join('');
    out.innerHTML = table([
      ['输入 input', `${esc(lon)}, ${esc(lat)} (${esc(crs)})`],
      ['范围 inside', answer.outside ? '<span class="error">辖区外 outside the jurisdiction</span>' : '辖区内 inside'],
      ['区 district', area(answer.district)],
      ['街道 street', area(answer.street)],
      ['社区 community', area(answer.community)],
      ['网格 grids', items ? `<ul>${items}</ul>` : '<span class="hint">none</span>'],
    ]);
    const here = [answer.lon, answer.lat];
    if (!state.marker) state.marker = new maplibregl.Marker({ color: '#08306b' });
    state.marker.setLngLat(here).addTo(map);
    if (!map.getBounds().contains(here)) map.easeTo({ center: here, duration: 0 });
    // the grid panel follows the located point (it used to keep showing the grid clicked before)
    const mine = grids.find((g) => g.layer === state.current?.plan?.layer);
    if (mine && mine.code) await showGrid(mine.code);
    else {
      select('');
      $('grid-info').innerHTML = '<p class="hint">该点不在当前图层的网格内 Not in a grid of this layer</p>';
    }
  } catch (err) {
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

// --- tabs and wiring -------------------------------------------------------------------------------------------
export function showTab(name) {
  document.body.dataset.tab = name;
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const t of document.querySelectorAll('.tab')) t.hidden = t.dataset.tab !== name;
  document.dispatchEvent(new CustomEvent('tab', { detail: name }));
}

for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
$('locate-form').addEventListener('submit', locate);
$('collection').addEventListener('change', (e) => showCollection(e.target.value));
$('api-key').value = state.key;
$('api-key-save').addEventListener('click', async () => {
  state.key = $('api-key').value.trim();
  window.localStorage.setItem('geogrid.apiKey', state.key);
  await loadCollections(state.current?.id).catch((err) => status(err.message, true));
});
showTab('browse');
initWorkbench();
initCompare();
initPublish();

map.on('load', () => {
  loadCollections()
    .then(() => { document.body.dataset.ready = '1'; })
    .catch((err) => status(`无法加载图层 cannot load layers: ${err.message}`, true));
});
map.on('idle', () => { document.body.dataset.idle = String(Date.now()); });
window.geogridMap = map; // for the end-to-end test and for debugging in the console
