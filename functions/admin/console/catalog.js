// The catalog as the bot sees it: the latest syncs with their counts and failed items, and a product
// lookup that runs the bot's own search (with the score the search gives, when it gives one), so staff
// can see why the bot answered what it did.

import { api, ApiError, enc } from './api.js';
import { fill, h } from './dom.js';
import { formatDateTime, formatMoney, formatNumber, t } from './i18n.js';

const lookup = { q: '', branch: '', inStock: false }; // kept while the page is open

function scoreText(value) {
  if (value === null || value === undefined) return '—';
  return typeof value === 'number' ? value.toFixed(3) : String(value);
}

function syncsSection() {
  const body = h('div', { id: 'syncs' }, h('p', { class: 'help' }, t('catalog.loading')));
  const section = h('section', { class: 'card', 'aria-labelledby': 'syncs-title' },
    h('h2', { id: 'syncs-title' }, t('catalog.syncs')), h('p', { class: 'help' }, t('catalog.syncsHelp')), body);

  async function showFailures(sync, place, button) {
    button.disabled = true;
    try {
      const { data } = await api(`/admin/console/syncs/${enc(sync.syncId)}/failures`, { query: { limit: 100 } });
      fill(place, data.failures.length
        ? h('ul', { class: 'failures' }, data.failures.map((failure) => h('li', {},
          h('code', {}, failure.itemCode), ` @ ${failure.warehouse}: `, failure.error || '—',
          ` (${t('catalog.attempts', { count: failure.attempts })}${failure.final ? '' : `, ${t('catalog.retrying')}`})`)))
        : h('p', {}, t('catalog.noFailures')));
    } catch (failure) {
      fill(place, h('p', { class: 'error' }, failure instanceof ApiError ? failure.message : t('error.network')));
      button.disabled = false;
    }
  }

  async function load() {
    const until = new Date().toISOString().slice(0, 10);
    const since = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    try {
      const { data } = await api('/admin/analytics/syncs', { query: { since, until, limit: 20 } });
      if (!data.syncs.length) { fill(body, h('p', { class: 'empty' }, t('analytics.noSyncs'))); return; }
      const headers = ['catalog.sync', 'catalog.started', 'catalog.received', 'catalog.processed', 'catalog.unchanged', 'catalog.failed', 'catalog.state'];
      fill(body, h('div', { class: 'table-wrap' }, h('table', { class: 'syncs' },
        h('thead', {}, h('tr', {}, headers.map((key) => h('th', { scope: 'col' }, t(key))))),
        h('tbody', {}, data.syncs.flatMap((sync) => {
          const place = h('td', { colspan: String(headers.length) });
          const detail = h('tr', { class: 'detail', hidden: true }, place);
          const button = sync.failed ? h('button', { type: 'button', class: 'link' }, t('catalog.showFailures')) : null;
          if (button) button.addEventListener('click', () => { detail.hidden = false; showFailures(sync, place, button); });
          return [h('tr', { dataset: { sync: sync.syncId } },
            h('th', { scope: 'row' }, h('code', {}, sync.syncId)),
            h('td', {}, formatDateTime(sync.startedAt)),
            h('td', {}, formatNumber(sync.received)),
            h('td', {}, formatNumber(sync.processed)),
            h('td', {}, formatNumber(sync.unchanged)),
            h('td', { class: sync.failed ? 'bad' : null }, formatNumber(sync.failed), button ? ' ' : null, button),
            h('td', {}, sync.complete ? t('catalog.complete') : t('catalog.inProgress'), sync.fullSync ? ` · ${t('catalog.full')}` : '')),
          detail];
        })))));
    } catch (failure) {
      fill(body, h('p', { class: 'error' }, failure instanceof ApiError ? failure.message : t('error.network')));
    }
  }
  load();
  return section;
}

function lookupSection() {
  const query = h('input', { id: 'product-query', name: 'q', type: 'search', value: lookup.q, required: true, autocomplete: 'off' });
  const branch = h('input', { id: 'product-branch', name: 'branch', type: 'text', value: lookup.branch, autocomplete: 'off' });
  const inStock = h('input', { id: 'product-stock', name: 'inStock', type: 'checkbox', checked: lookup.inStock });
  const results = h('div', { id: 'product-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', role: 'search', method: 'post', 'aria-label': t('catalog.lookup') },
    h('div', { class: 'field grow' }, h('label', { for: 'product-query' }, t('catalog.query')), query),
    h('div', { class: 'field' }, h('label', { for: 'product-branch' }, t('catalog.branch')), branch),
    h('div', { class: 'check' }, inStock, h('label', { for: 'product-stock' }, t('catalog.inStock'))),
    h('button', { type: 'submit', class: 'primary' }, t('catalog.search')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    lookup.q = query.value.trim();
    lookup.branch = branch.value.trim();
    lookup.inStock = inStock.checked;
    if (!lookup.q) { query.focus(); return; }
    fill(results, h('p', { class: 'help' }, t('catalog.loading')));
    try {
      const { data } = await api('/admin/console/products', { query: { q: lookup.q, branch: lookup.branch, inStock: lookup.inStock ? 'true' : '', limit: 10 } });
      if (!data.products.length) { fill(results, h('p', { class: 'empty' }, t('catalog.nothingFound'))); return; }
      fill(results,
        h('p', { class: 'help' }, data.scoreField ? t('catalog.scoreIs', { field: data.scoreField }) : t('catalog.noScore')),
        h('div', { class: 'table-wrap' }, h('table', { class: 'products' },
          h('thead', {}, h('tr', {}, ['#', t('catalog.code'), t('catalog.name'), t('catalog.brand'), t('catalog.price'), t('catalog.stock'), t('catalog.score')]
            .map((text) => h('th', { scope: 'col' }, text)))),
          h('tbody', {}, data.products.map((product) => h('tr', { dataset: { item: product.item_code, score: product.score ?? '' } },
            h('td', {}, String(product.rank)),
            h('th', { scope: 'row' }, h('code', {}, product.item_code)),
            h('td', {}, product.name),
            h('td', {}, product.brand || '—'),
            h('td', {}, product.price === null ? '—' : formatMoney(product.price)),
            h('td', {}, product.in_stock ? formatNumber(product.stock_total) : t('catalog.outOfStock')),
            h('td', {}, scoreText(product.score), product.match ? ` · ${product.match}` : '')))))));
    } catch (failure) {
      fill(results, h('p', { class: 'error' }, failure instanceof ApiError ? failure.message : t('error.network')));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'lookup-title' },
    h('h2', { id: 'lookup-title' }, t('catalog.lookup')), h('p', { class: 'help' }, t('catalog.lookupHelp')), form, results);
}

export function mount(container, ctx) {
  fill(container, h('section', { class: 'page', 'aria-labelledby': 'catalog-title' },
    h('h1', { id: 'catalog-title' }, t('nav.catalog')),
    lookupSection(),
    ctx.can('view_analytics') ? syncsSection() : null));
  return { unmount() {} };
}
