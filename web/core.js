// Shared helpers of the web map: talking to the geogrid API, escaping, small HTML tables.
export const API = new URL('../', window.location.href); // the map lives at <api>/map/
export const state = {
  key: window.localStorage.getItem('geogrid.apiKey') || '',
  collections: [],
  current: null, // the collection shown (a layer's published plan or one plan version)
  version: 0, // bumped after each edit: tile URLs of a draft change so MapLibre fetches them again
};

export const $ = (id) => document.getElementById(id);
export const api = (path) => new URL(path, API).toString();
export const headers = () => (state.key ? { 'X-API-Key': state.key } : {});
export const enc = encodeURIComponent;

export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body.details || []).map((d) => `${d.field}: ${d.reason}`).join('; ');
    super(`${body.message || status}${detail && !String(body.message).includes(detail) ? ` (${detail})` : ''}`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const init = { method, headers: { ...headers() } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(api(path), init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const getJSON = (path) => call('GET', path);
export const postJSON = (path, body = {}) => call('POST', path, body);

export function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

export function table(rows) {
  const body = rows.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('');
  return `<table>${body}</table>`;
}

export const area = (a) => (a ? `${esc(a.name)} <small>${esc(a.code)}</small>` : '');
export const planName = (c) => c?.plan?.name;
export const isDraft = (c) => c?.plan?.status === 'draft';
