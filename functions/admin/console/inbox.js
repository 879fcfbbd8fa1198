// The inbox: conversations newest first, filtered by channel, state and text, refreshed every few
// seconds with the ETag the API gives (304 when nothing changed). With a conversation open, it sits
// beside the list (desktop) or alone (phone).

import { api, conversationFor, handleFor } from './api.js';
import { mountConversation } from './conversation.js';
import { fill, h, Poller } from './dom.js';
import { formatTime, t } from './i18n.js';
import { ageTime, badge, customerLabel, lastMessageText, refreshAges } from './labels.js';

const CHANNELS = ['whatsapp', 'messenger', 'instagram', 'support_board', 'webchat'];
const STATES = ['bot', 'paused', 'human', 'escalated'];
const REFRESH_MS = 4000;
const PAGE = 50;

// Kept while the page is open, so coming back to the inbox finds the same filters.
const filters = { channel: '', state: '', q: '', limit: PAGE };

function select(id, label, value, options, onChange) {
  const control = h('select', { id, name: id }, options.map(([key, text]) => h('option', { value: key, selected: key === value }, text)));
  control.addEventListener('change', () => onChange(control.value));
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

export function mount(container, ctx) {
  const selectedHandle = ctx.conversation;
  const selectedId = selectedHandle ? conversationFor(selectedHandle) : null;
  const list = h('ul', { class: 'conversation-list', id: 'conversation-list', 'aria-labelledby': 'inbox-title' });
  const updated = h('p', { class: 'updated', id: 'inbox-updated' });
  const more = h('button', { type: 'button', class: 'link', hidden: true }, t('inbox.more'));
  let etag = null;
  let latest = null;

  const restart = () => { etag = null; poller.kick(); };
  let typing = null;
  const search = h('input', { id: 'filter-text', name: 'q', type: 'search', value: filters.q, autocomplete: 'off' });
  search.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => { filters.q = search.value.trim(); filters.limit = PAGE; restart(); }, 300);
  });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('inbox.filters') },
    select('filter-channel', t('inbox.channel'), filters.channel,
      [['', t('inbox.all')], ...CHANNELS.map((c) => [c, t(`channel.${c}`)])],
      (value) => { filters.channel = value; filters.limit = PAGE; restart(); }),
    select('filter-state', t('inbox.state'), filters.state,
      [['', t('inbox.all')], ...STATES.map((s) => [s, t(`state.${s}`)])],
      (value) => { filters.state = value; filters.limit = PAGE; restart(); }),
    h('div', { class: 'field grow' }, h('label', { for: 'filter-text' }, t('inbox.search')), search));
  form.addEventListener('submit', (event) => { event.preventDefault(); filters.q = search.value.trim(); restart(); });
  more.addEventListener('click', () => { filters.limit = Math.min(200, filters.limit + PAGE); restart(); });

  const tools = [];
  if (ctx.can('view_customer_contact')) {
    const reveal = h('button', { type: 'button', class: 'link', id: 'reveal-ids', 'aria-pressed': String(ctx.revealIds) },
      ctx.revealIds ? t('inbox.hideIds') : t('inbox.showIds'));
    reveal.addEventListener('click', () => { ctx.revealIds = !ctx.revealIds; ctx.rerender(); });
    tools.push(reveal);
  }

  const listPane = h('section', { class: 'pane-list', 'aria-labelledby': 'inbox-title' },
    h('div', { class: 'pane-title' }, h('h1', { id: 'inbox-title' }, t('nav.inbox')), ...tools),
    form, updated, list, more);
  const detailPane = h('div', { class: 'pane-detail', id: 'detail' });
  fill(container, h('div', { class: selectedHandle ? 'split has-detail' : 'split' }, listPane, detailPane));

  function render(data) {
    latest = data;
    const rows = data.conversations.map((c) => {
      const handle = handleFor(c.conversationId);
      const selected = c.conversationId === selectedId;
      return h('li', {},
        h('a', {
          href: `#/c/${handle}`,
          class: selected ? 'conversation selected' : 'conversation',
          'aria-current': selected ? 'true' : null,
          dataset: { handle, state: c.state, channel: c.channel },
        },
        h('span', { class: 'line' },
          h('span', { class: 'customer' }, customerLabel(ctx, c.customerId)),
          ageTime(c.lastActivityAt)),
        h('span', { class: 'line badges' },
          badge('channel', c.channel, t(`channel.${c.channel}`, {}, c.channel)),
          badge('state', c.state, t(`state.${c.state}`)),
          h('span', { class: 'language', title: t('inbox.language') }, (c.language || '').toUpperCase())),
        h('span', { class: 'last' }, lastMessageText(c.lastMessage))));
    });
    if (!rows.length) rows.push(h('li', { class: 'empty' }, t('inbox.empty')));
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.handle : null;
    fill(list, rows);
    list.dataset.query = data.query; // which search these rows answer (tests and screen readers wait on it)
    if (focused) {
      const again = list.querySelector(`a[data-handle="${focused}"]`);
      if (again) again.focus();
    }
    more.hidden = !data.nextCursor || filters.limit >= 200;
  }

  async function refresh() {
    const asked = { channel: filters.channel, state: filters.state, q: filters.q, limit: filters.limit };
    const answer = await api('/admin/console/inbox', { query: asked, etag });
    updated.textContent = t('inbox.updated', { time: formatTime(new Date().toISOString()) });
    if (answer.notModified && latest) { refreshAges(list); return; } // same rows, later clock
    etag = answer.etag;
    render({ ...answer.data, query: asked.q });
  }

  const poller = new Poller(refresh, REFRESH_MS);
  poller.run();

  let detail = null;
  if (selectedHandle && selectedId) {
    detail = mountConversation(detailPane, ctx, selectedId, () => { etag = null; poller.kick(); });
  } else if (selectedHandle) {
    fill(detailPane, h('p', { class: 'empty' }, t('conv.unknown')), h('a', { href: '#/inbox' }, t('conv.back')));
  } else {
    fill(detailPane, h('p', { class: 'empty' }, t('inbox.pick')));
  }
  return {
    unmount() {
      poller.stop();
      clearTimeout(typing);
      if (detail) detail.unmount();
    },
  };
}
