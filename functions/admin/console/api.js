// The admin API, same origin as this page. The token lives in sessionStorage only (gone when the tab
// closes), travels only in the Authorization header, and never in a URL.

const TOKEN_KEY = 'mostrador.console.token';
const HANDLES_KEY = 'mostrador.console.handles';
// The tenant an operator chose in the header (sent as X-Tenant); tenants' own tokens never have one.
const TENANT_KEY = 'mostrador.console.tenant';

// The API's root: the folder above this file. "/console/api.js" → "/", and on API Gateway
// "/prod/console/api.js" → "/prod/" (the stage is part of the path).
export const API_ROOT = new URL('..', import.meta.url);

export function storedToken() { return sessionStorage.getItem(TOKEN_KEY); }
export function storeToken(token) { sessionStorage.setItem(TOKEN_KEY, token); }
export function forgetSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(HANDLES_KEY);
  sessionStorage.removeItem(TENANT_KEY);
}
export function chosenTenant() { return sessionStorage.getItem(TENANT_KEY); }
/** Act on another tenant (an operator only): every request from now on names it in X-Tenant. */
export function chooseTenant(tenantId) {
  if (tenantId) sessionStorage.setItem(TENANT_KEY, tenantId);
  else sessionStorage.removeItem(TENANT_KEY);
  sessionStorage.removeItem(HANDLES_KEY); // conversations of another tenant
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.error || body.message)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

let unauthorized = () => {};
/** What to do when the API stops accepting the token (changed or revoked): sign out. */
export function onUnauthorized(handler) { unauthorized = handler; }

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ''), API_ROOT);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '' && value !== false) url.searchParams.set(name, String(value));
  }
  return url;
}

async function send(path, { method = 'GET', query, body, etag, accept, token } = {}) {
  const headers = { Authorization: `Bearer ${token ?? storedToken() ?? ''}`, Accept: accept || 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (etag) headers['If-None-Match'] = etag;
  if (token === undefined && chosenTenant()) headers['X-Tenant'] = chosenTenant(); // (signing in: none yet)
  const response = await fetch(apiUrl(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store', // our own ETags decide; the browser's cache would hide a 304 from us
    credentials: 'omit',
    redirect: 'error',
  });
  if (response.status === 401 && token === undefined) unauthorized();
  return response;
}

async function bodyOf(response) {
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { return await response.json(); } catch { return null; }
  }
  return null;
}

/**
 * JSON from the API. With `etag`, a 304 answers {notModified: true}. Errors throw ApiError with the
 * API's own words ({"error": "..."}).
 */
export async function api(path, options = {}) {
  const response = await send(path, options);
  if (response.status === 304) return { notModified: true, etag: options.etag, data: null };
  const data = await bodyOf(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return { notModified: false, etag: response.headers.get('ETag'), data };
}

/**
 * POST a JSON body with upload progress (fetch() cannot report it; XMLHttpRequest can): `onProgress(sent,
 * total)` while the bytes go out. Same headers, same errors and the same 401 handling as api().
 */
export function upload(path, body, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', apiUrl(path));
    request.setRequestHeader('Authorization', `Bearer ${storedToken() ?? ''}`);
    request.setRequestHeader('Content-Type', 'application/json');
    request.setRequestHeader('Accept', 'application/json');
    if (chosenTenant()) request.setRequestHeader('X-Tenant', chosenTenant());
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded, event.total);
    });
    request.addEventListener('load', () => {
      let data = null;
      try { data = JSON.parse(request.responseText); } catch { data = null; }
      if (request.status === 401) unauthorized();
      if (request.status >= 200 && request.status < 300) resolve({ status: request.status, data });
      else reject(new ApiError(request.status, data));
    });
    request.addEventListener('error', () => reject(new TypeError('network error')));
    request.addEventListener('abort', () => reject(new TypeError('upload aborted')));
    request.send(JSON.stringify(body));
  });
}

/** A file from the API (an export page): its bytes, name and the cursor of the next page if any. */
export async function download(path, query, accept) {
  const response = await send(path, { query, accept });
  if (!response.ok) throw new ApiError(response.status, await bodyOf(response));
  const disposition = response.headers.get('Content-Disposition') || '';
  const named = /filename="([^"]+)"/.exec(disposition);
  return {
    blob: await response.blob(),
    filename: named ? named[1] : 'export',
    nextCursor: response.headers.get('X-Next-Cursor'),
    rows: Number(response.headers.get('X-Export-Rows') || 0),
  };
}

/**
 * Short random names for conversations in the page's address (#/c/k3f9…), so a customer's phone
 * number (part of a WhatsApp conversation id) never shows in the address bar or the history.
 */
export function handleFor(conversationId) {
  const known = JSON.parse(sessionStorage.getItem(HANDLES_KEY) || '{}');
  for (const [handle, id] of Object.entries(known)) if (id === conversationId) return handle;
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const handle = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  known[handle] = conversationId;
  sessionStorage.setItem(HANDLES_KEY, JSON.stringify(known));
  return handle;
}

export function conversationFor(handle) {
  const known = JSON.parse(sessionStorage.getItem(HANDLES_KEY) || '{}');
  return known[handle] || null;
}

export const enc = encodeURIComponent;
