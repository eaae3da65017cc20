// Supervision overlays for operators, kept apart from the planner's map (app.js): the patrol layer (last 7 days of
// tracks, GET /v1/patrols, operator key) and the staffing check (grids with staffing problems,
// GET /v1/staffing?format=geojson). Two checkboxes in a box of their own; nothing here changes app.js's layers.
const API = new URL('../', window.location.href);
const api = (path) => new URL(path, API).toString();
const key = () => window.localStorage.getItem('geogrid.apiKey') || '';

const OVERLAYS = {
  patrols: {
    label: '巡查轨迹 Patrols (7 days, operator key)',
    url: () => api('v1/patrols'),
    layer: { type: 'line', paint: { 'line-color': '#2b8cbe', 'line-width': 2, 'line-opacity': 0.8 } },
  },
  staffing: {
    label: '配员问题 Staffing problems',
    url: () => api('v1/staffing?format=geojson&problems=true'),
    layer: { type: 'fill', paint: { 'fill-color': '#756bb1', 'fill-opacity': 0.35, 'fill-outline-color': '#54278f' } },
  },
};

async function toggle(map, id, on, note) {
  const source = `supervision-${id}`;
  if (!on) {
    if (map.getLayer(source)) map.removeLayer(source);
    if (map.getSource(source)) map.removeSource(source);
    return;
  }
  const response = await fetch(OVERLAYS[id].url(), { headers: key() ? { 'X-API-Key': key() } : {} });
  const data = await response.json();
  if (!response.ok) {
    note.textContent = `${id}: ${data.message || response.statusText}`;
    return;
  }
  note.textContent = `${id}: ${data.features.length} features`;
  map.addSource(source, { type: 'geojson', data });
  map.addLayer({ id: source, source, ...OVERLAYS[id].layer });
}

function mount(map) {
  const box = document.createElement('section');
  box.id = 'supervision';
  box.innerHTML = '<h2>督办 Supervision</h2>' + Object.entries(OVERLAYS).map(([id, o]) =>
    `<label><input type="checkbox" data-overlay="${id}"> ${o.label}</label><br>`).join('') + '<p class="hint"></p>';
  document.getElementById('panel').appendChild(box);
  const note = box.querySelector('.hint');
  box.querySelectorAll('input[data-overlay]').forEach((input) => {
    input.addEventListener('change', () => toggle(map, input.dataset.overlay, input.checked, note)
      .catch((err) => { note.textContent = String(err); }));
  });
}

const wait = setInterval(() => {
  if (window.geogridMap) {
    clearInterval(wait);
    mount(window.geogridMap);
  }
}, 100);
