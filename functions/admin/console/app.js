// The console: sign-in, the header, and a router over #/ addresses. Sections are offered by PERMISSION
// (GET /admin/me lists the signed-in principal's), never by role name, so new roles need no change here.

import { api, ApiError, chooseTenant, chosenTenant, forgetSession, onUnauthorized, storeToken, storedToken } from './api.js';
import { fill, h } from './dom.js';
import { language, setLanguage, t } from './i18n.js';

// Each section: its address, the permission that shows it, and its module (loaded when first opened).
// Knowledge is shown to whoever may read it (the API reads with read_conversations); its page offers
// uploads, deletions and decisions only with manage_knowledge.
const SECTIONS = [
  { path: 'inbox', permission: 'read_conversations', label: 'nav.inbox', load: () => import('./inbox.js') },
  { path: 'escalations', permission: 'read_conversations', label: 'nav.escalations', load: () => import('./escalations.js') },
  { path: 'analytics', permission: 'view_analytics', label: 'nav.analytics', load: () => import('./analytics.js') },
  { path: 'catalog', permission: 'read_conversations', label: 'nav.catalog', load: () => import('./catalog.js') },
  { path: 'knowledge', permission: 'read_conversations', label: 'nav.knowledge', load: () => import('./knowledge.js') },
];

const session = { me: null, revealIds: false, tenants: null };
let current = null; // the mounted view: {unmount()}
let mounting = 0;

export function can(permission) {
  return Boolean(session.me && session.me.permissions.includes(permission));
}

/** What the views share: the principal's permissions and the masking choice. */
const context = {
  can,
  get me() { return session.me; },
  get revealIds() { return session.revealIds && can('view_customer_contact'); },
  set revealIds(value) { session.revealIds = Boolean(value); },
  rerender: () => route(),
};

function main() { return document.getElementById('main'); }

function unmountCurrent() {
  if (current && current.unmount) current.unmount();
  current = null;
  mounting += 1; // a section still loading (route() awaits its module) is not mounted over what comes next
}

// -- sign-in -------------------------------------------------------------------------------------

function languageButton(after) {
  const other = language() === 'es' ? 'en' : 'es';
  return h('button', {
    type: 'button',
    class: 'link lang',
    lang: other,
    onclick: () => { setLanguage(other); after(); },
  }, t('lang.switch'));
}

function showSignIn(note) {
  unmountCurrent();
  session.me = null;
  session.tenants = null;
  document.getElementById('bar').hidden = true;
  document.title = t('title.signin');
  const error = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, note || '');
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false',
    'aria-describedby': 'token-help signin-error',
  });
  const button = h('button', { type: 'submit', class: 'primary' }, t('signin.submit'));
  // method=post: if the script ever failed, a GET would put the token in the address bar.
  const form = h('form', { method: 'post', class: 'signin-form', novalidate: true },
    h('label', { for: 'token' }, t('signin.token')),
    input,
    h('p', { class: 'help', id: 'token-help' }, t('signin.help')),
    button,
    error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) { error.textContent = t('signin.empty'); input.focus(); return; }
    button.disabled = true;
    error.textContent = '';
    try {
      const { data } = await api('/admin/me', { token });
      storeToken(token);
      chooseTenant(null); // a new sign-in starts on the token's own (or the deployment's default) tenant
      session.me = data;
      session.tenants = null;
      input.value = '';
      // (replaceState: no hashchange, so the app is mounted once, here)
      if (!location.hash.startsWith('#/') || location.hash === '#/') history.replaceState(null, '', '#/inbox');
      showApp();
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401 ? t('signin.wrong') : t('error.network');
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  fill(main(), h('section', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, t('signin.title')),
    h('p', {}, t('signin.lead')),
    form,
    languageButton(() => showSignIn(error.textContent))));
  input.focus();
}

function signOut(note) {
  forgetSession();
  session.revealIds = false;
  history.replaceState(null, '', location.pathname + location.search);
  showSignIn(note);
}

// -- the app ---------------------------------------------------------------------------------------

function renderBar(active) {
  const bar = document.getElementById('bar');
  bar.hidden = false;
  const links = SECTIONS.filter((section) => can(section.permission)).map((section) => h('li', {},
    h('a', {
      href: `#/${section.path}`,
      'aria-current': section.path === active ? 'page' : null,
      id: `nav-${section.path}`,
    }, t(section.label))));
  fill(bar,
    h('span', { class: 'brand' }, 'Mostrador'),
    h('nav', { 'aria-label': t('nav.label') }, h('ul', {}, links)),
    h('div', { class: 'who' },
      tenantPicker(),
      h('span', { class: 'principal', title: t('who.role', { role: session.me.role }) }, session.me.subject),
      languageButton(() => route()),
      h('button', { type: 'button', class: 'link', id: 'sign-out', onclick: () => signOut(t('signin.signedOut')) },
        t('who.signOut'))));
}

/**
 * An operator's token is the deployment's: it acts on the tenant it names (X-Tenant), the default one
 * otherwise. The picker lists the tenants and names the chosen one on every request; a tenant's own
 * token acts on its tenant only and gets no picker.
 */
function tenantPicker() {
  if (session.me.tenantFixed !== false || !can('manage_tenants') || !session.tenants) return null;
  const picker = h('select', { id: 'tenant-picker', name: 'tenant' },
    session.tenants.map((tenant) => h('option', { value: tenant.tenantId, selected: tenant.tenantId === session.me.tenant },
      tenant.displayName && tenant.displayName !== tenant.tenantId ? `${tenant.displayName} (${tenant.tenantId})` : tenant.tenantId)));
  picker.addEventListener('change', async () => {
    chooseTenant(picker.value);
    try {
      session.me = (await api('/admin/me')).data;
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 401)) showSignIn(t('error.network'));
      return;
    }
    history.replaceState(null, '', '#/inbox'); // a conversation of the other tenant is not this one's
    await route();
    document.getElementById('tenant-picker')?.focus();
  });
  return h('span', { class: 'tenant' }, h('label', { for: 'tenant-picker', class: 'visually-hidden' }, t('who.tenant')), picker);
}

async function loadTenants() {
  session.tenants = null;
  if (!session.me || session.me.tenantFixed !== false || !can('manage_tenants')) return;
  try {
    session.tenants = (await api('/admin/tenants')).data.tenants;
  } catch {
    session.tenants = null; // the page works on the default tenant without the picker
  }
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'c' && parts[1]) return { section: 'inbox', conversation: parts[1], rest: [] };
  return { section: parts[0] || 'inbox', conversation: null, rest: parts.slice(1) }; // #/knowledge/faq → ['faq']
}

async function route() {
  if (!session.me) return;
  const wanted = parseRoute();
  const allowed = SECTIONS.filter((section) => can(section.permission));
  const section = allowed.find((item) => item.path === wanted.section) || allowed[0];
  renderBar(section ? section.path : null);
  unmountCurrent();
  document.documentElement.lang = language();
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('skip');
  if (!section) {
    fill(main(), h('p', { class: 'empty' }, t('nav.nothing')));
    return;
  }
  const ticket = ++mounting;
  const module = await section.load();
  if (ticket !== mounting) return; // another address was chosen meanwhile
  document.title = `${t(section.label)} · Mostrador`;
  current = module.mount(main(), { ...context, conversation: wanted.conversation, path: wanted.rest });
  // A new section is a new page to a screen reader: focus goes to its heading, not back to the body. An
  // opened conversation focuses its own title once drawn (conversation.js).
  if (!wanted.conversation) focusHeading();
}

function focusHeading() {
  const heading = main().querySelector('h1');
  if (!heading) { main().focus(); return; }
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}

async function showApp() {
  if (!session.me) {
    try {
      session.me = (await api('/admin/me')).data;
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 404 && chosenTenant()) {
        chooseTenant(null); // the chosen tenant is gone: back to the default one
        showApp();
        return;
      }
      if (!(failure instanceof ApiError && failure.status === 401)) showSignIn(t('error.network'));
      return; // a 401 has signed out already
    }
  }
  if (!session.tenants) await loadTenants();
  await route();
}

function skipLink() {
  const link = h('a', { class: 'skip', href: '#main' }, t('skip'));
  link.addEventListener('click', (event) => { event.preventDefault(); main().focus(); });
  document.body.prepend(link);
}

function start() {
  document.documentElement.lang = language();
  skipLink();
  onUnauthorized(() => { if (session.me || storedToken()) signOut(t('signin.expired')); });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/')) route();
  });
  if (storedToken()) showApp();
  else showSignIn();
}

start();
