// The planner's map: grids coloured by tier over community and street borders, drawn from geogrid's own vector
// tiles on a plain background (no internet basemap). Everything it shows comes from the geogrid API.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';

const API = new URL('../', window.location.href); // the map lives at <api>/map/
const TIER_COLOURS = ['match', ['get', 'tier'], 'A', '#d7301f', 'B', '#fc8d59', 'C', '#91cf60', '#bdbdbd'];
const state = { key: window.localStorage.getItem('geogrid.apiKey') || '', collections: [], current: null, marker: null };

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(path, API).toString();
const headers = () => (state.key ? { 'X-API-Key': state.key } : {});
const tileUrl = (id) => `${api('tiles/' + encodeURIComponent(id))}/{z}/{x}/{y}.mvt`;

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

async function getJSON(path) {
  const response = await fetch(api(path), { headers: headers() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = (body.details || []).map((d) => `${d.field}: ${d.reason}`).join('; ');
    throw new Error(`${body.message || response.statusText}${detail ? ` (${detail})` : ''}`);
  }
  return body;
}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

function table(rows) {
  const body = rows.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('');
  return `<table>${body}</table>`;
}

const area = (a) => (a ? `${esc(a.name)} <small>${esc(a.code)}</small>` : '');

// --- map ------------------------------------------------------------------------------------------------------
const map = new maplibregl.Map({
  container: 'map',
  center: [114.3, 30.58],
  zoom: 11,
  attributionControl: false,
  transformRequest: (url) => (state.key && url.startsWith(API.origin) ? { url, headers: headers() } : { url }),
  style: {
    version: 8,
    sources: {
      grids: { type: 'vector', tiles: [tileUrl('admin.district')], maxzoom: 16 },
      community: { type: 'vector', tiles: [tileUrl('admin.community')], maxzoom: 16 },
      street: { type: 'vector', tiles: [tileUrl('admin.street')], maxzoom: 16 },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#f4f1ea' } },
      { id: 'grids-fill', type: 'fill', source: 'grids', 'source-layer': 'grids', paint: { 'fill-color': TIER_COLOURS, 'fill-opacity': 0.5 } },
      { id: 'grids-line', type: 'line', source: 'grids', 'source-layer': 'grids', paint: { 'line-color': '#666', 'line-width': 0.8 } },
      { id: 'community-line', type: 'line', source: 'community', 'source-layer': 'community', paint: { 'line-color': '#2b8cbe', 'line-width': 1.6, 'line-dasharray': [3, 2] } },
      { id: 'street-line', type: 'line', source: 'street', 'source-layer': 'street', paint: { 'line-color': '#252525', 'line-width': 2.6 } },
      { id: 'grids-selected', type: 'line', source: 'grids', 'source-layer': 'grids', filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#08306b', 'line-width': 3.5 } },
    ],
  },
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));

function select(code) {
  map.setFilter('grids-selected', ['==', ['get', 'code'], code || '']);
}

// --- collections: the layer / plan-version switch ----------------------------------------------------------------
async function loadCollections() {
  const { collections } = await getJSON('collections');
  state.collections = collections.filter((c) => c.plan);
  const picker = $('collection');
  picker.innerHTML = state.collections.map((c) => `<option value="${esc(c.id)}">${esc(c.title)}</option>`).join('');
  if (!state.collections.length) {
    status('没有可显示的方案 No plan to show yet', true);
    return;
  }
  const wanted = new URLSearchParams(window.location.search).get('collection');
  const first = state.collections.find((c) => c.id === wanted) || state.collections[0];
  picker.value = first.id;
  showCollection(first.id);
}

function showCollection(id) {
  const c = state.collections.find((x) => x.id === id);
  if (!c) return;
  state.current = c;
  map.getSource('grids').setTiles([tileUrl(c.id)]);
  select('');
  const bbox = c.extent?.spatial?.bbox?.[0];
  if (bbox) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 30, duration: 0 });
  showMetrics(c);
  $('grid-info').innerHTML = '<p class="hint">点击网格查看 Click a grid</p>';
  document.body.dataset.collection = c.id;
}

function flatten(value, prefix = '', out = []) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(value)) {
    out.push([prefix, esc(value.length > 6 ? `${value.length} items` : JSON.stringify(value))]);
  } else {
    out.push([prefix, esc(typeof value === 'number' ? Number(value.toFixed(3)) : value)]);
  }
  return out;
}

function showMetrics(c) {
  const p = c.plan;
  const rows = [
    ['方案 plan', esc(p.name)],
    ['版本 version', `v${esc(p.version)} · ${esc(p.status)}`],
    ['生效 valid', esc([p.valid_from, p.valid_to].map((d) => (d ? d.slice(0, 10) : '…')).join(' → '))],
    ...(p.report ? flatten(p.report).slice(0, 40) : [['report', '<span class="hint">none</span>']]),
  ];
  $('metrics').innerHTML = table(rows);
}

// --- click a grid ----------------------------------------------------------------------------------------------
async function showGrid(code) {
  const c = state.current;
  const query = c.id.startsWith('plan.') ? `?plan=${encodeURIComponent(c.plan.name)}` : '';
  try {
    const info = await getJSON(`v1/grids/${encodeURIComponent(c.plan.layer)}/${encodeURIComponent(code)}${query}`);
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
  }
}

map.on('click', 'grids-fill', (e) => {
  const f = e.features && e.features[0];
  if (f) showGrid(f.properties.code);
});
map.on('mouseenter', 'grids-fill', () => { map.getCanvas().style.cursor = 'pointer'; });
map.on('mouseleave', 'grids-fill', () => { map.getCanvas().style.cursor = ''; });

// --- locate ----------------------------------------------------------------------------------------------------
function lonLatOf(answer, fallback) {
  // Prefer the service's own position: /v1/locate answers lon/lat in the store CRS (offset CRSs converted there).
  if (Number.isFinite(answer.lon) && Number.isFinite(answer.lat)) return [answer.lon, answer.lat];
  for (const key of ['point', 'wgs84', 'location', 'position', 'cgcs2000']) {
    const p = answer[key];
    if (Array.isArray(p) && p.length >= 2) return [Number(p[0]), Number(p[1])];
    if (p && typeof p === 'object' && 'lon' in p && 'lat' in p) return [Number(p.lon), Number(p.lat)];
  }
  return fallback;
}

function gridsOf(answer) {
  const g = answer.grids ?? answer.layers ?? [];
  if (Array.isArray(g)) return g;
  return Object.entries(g).map(([layer, v]) => (v ? { layer, ...v } : { layer }));
}

async function locate(event) {
  event.preventDefault();
  const lon = $('locate-lon').value.trim();
  const lat = $('locate-lat').value.trim();
  const crs = $('locate-crs').value;
  const out = $('locate-result');
  try {
    const q = new URLSearchParams({ lon, lat, crs });
    const answer = await getJSON(`v1/locate?${q}`);
    const admin = answer.admin || answer;
    const grids = gridsOf(answer);
    const items = grids.map((g) => {
      const grid = g.grid || g;
      const plan = g.plan && typeof g.plan === 'object' ? `${g.plan.name ?? ''} v${g.plan.version ?? ''}` : (g.plan ?? '');
      return `<li>${esc(g.layer ?? '')}: <b>${esc(grid.code ?? '—')}</b> ${esc(grid.name ?? '')} ${grid.tier ? `(${esc(grid.tier)})` : ''} <small>${esc(plan)}</small></li>`;
    }).join('');
    out.innerHTML = table([
      ['输入 input', `${esc(lon)}, ${esc(lat)} (${esc(crs)})`],
      ['范围 inside', answer.outside ? '<span class="error">辖区外 outside the jurisdiction</span>' : '辖区内 inside'],
      ['区 district', area(admin.district)],
      ['街道 street', area(admin.street)],
      ['社区 community', area(admin.community)],
      ['网格 grids', items ? `<ul>${items}</ul>` : '<span class="hint">none</span>'],
    ]);
    const here = lonLatOf(answer, crs === 'wgs84' || crs === 'cgcs2000' ? [Number(lon), Number(lat)] : null);
    if (here) {
      if (!state.marker) state.marker = new maplibregl.Marker({ color: '#08306b' });
      state.marker.setLngLat(here).addTo(map);
      if (!map.getBounds().contains(here)) map.easeTo({ center: here, duration: 0 });
    }
    const mine = grids.find((g) => (g.layer ?? '') === state.current?.plan?.layer);
    if (mine) select((mine.grid || mine).code);
  } catch (err) {
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

// --- wiring ----------------------------------------------------------------------------------------------------
$('locate-form').addEventListener('submit', locate);
$('collection').addEventListener('change', (e) => showCollection(e.target.value));
$('api-key').value = state.key;
$('api-key-save').addEventListener('click', async () => {
  state.key = $('api-key').value.trim();
  window.localStorage.setItem('geogrid.apiKey', state.key);
  await loadCollections().catch((err) => status(err.message, true));
});

map.on('load', () => {
  loadCollections()
    .then(() => { document.body.dataset.ready = '1'; })
    .catch((err) => status(`无法加载图层 cannot load layers: ${err.message}`, true));
});
map.on('idle', () => { document.body.dataset.idle = String(Date.now()); });
window.geogridMap = map; // for the end-to-end test and for debugging in the console
