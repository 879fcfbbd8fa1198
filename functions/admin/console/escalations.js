// The escalation queue: open escalations oldest first with reason and age, a link to the conversation,
// and resolving with a note (optionally giving the conversation back to the bot).

import { api, ApiError, handleFor } from './api.js';
import { announce, fill, h, Poller } from './dom.js';
import { formatDateTime, t } from './i18n.js';
import { ageTime, badge, customerLabel, escalationReason, refreshAges } from './labels.js';

const REFRESH_MS = 10000;
let status = 'open';

export function mount(container, ctx) {
  const list = h('ol', { class: 'escalation-list', id: 'escalation-list', 'aria-labelledby': 'escalations-title' });
  let shown = null; // the escalations drawn, as JSON
  const choose = h('select', { id: 'escalation-status', name: 'status' },
    ['open', 'resolved', 'all'].map((value) => h('option', { value, selected: value === status }, t(`escalations.status.${value}`))));
  choose.addEventListener('change', () => { status = choose.value; shown = null; poller.kick(); });
  fill(container, h('section', { class: 'page', 'aria-labelledby': 'escalations-title' },
    h('h1', { id: 'escalations-title' }, t('nav.escalations')),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'escalation-status' }, t('escalations.show')), choose)),
    list));

  function resolveForm(escalation) {
    const noteId = `note-${escalation.id}`;
    const resumeId = `resume-${escalation.id}`;
    const note = h('textarea', { id: noteId, name: 'note', rows: '2', maxlength: '2000', required: true });
    const resume = h('input', { id: resumeId, name: 'resumeBot', type: 'checkbox' });
    const button = h('button', { type: 'submit', class: 'primary' }, t('escalations.resolve'));
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { class: 'resolve', method: 'post', dataset: { escalation: escalation.id } },
      h('label', { for: noteId }, t('escalations.note')), note,
      h('div', { class: 'check' }, resume, h('label', { for: resumeId }, t('escalations.resumeBot'))),
      error, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!note.value.trim()) { error.textContent = t('escalations.noteNeeded'); note.focus(); return; }
      button.disabled = true;
      try {
        await api(`/admin/escalations/${escalation.id}/resolve`, {
          method: 'POST',
          body: { note: note.value.trim(), resumeBot: resume.checked },
        });
        announce(t('escalations.resolved'));
        note.value = ''; // the list is redrawn only when nobody is typing a note
        shown = null;
        poller.kick();
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : t('error.network');
        button.disabled = false;
      }
    });
    return form;
  }

  function render(escalations) {
    if (!escalations.length) {
      fill(list, h('li', { class: 'empty' }, t('escalations.none')));
      return;
    }
    fill(list, escalations.map((escalation) => escalationItem(escalation)));
  }

  function escalationItem(escalation) {
    const why = escalationReason(escalation);
    return h('li', { class: 'escalation', dataset: { id: escalation.id, status: escalation.status } },
      h('p', { class: 'line' }, h('strong', { class: 'source', title: why.title }, why.label)),
      why.detail ? h('p', { class: 'reason' }, why.detail) : null,
      h('p', { class: 'line badges' },
        badge('channel', escalation.channel, t(`channel.${escalation.channel}`, {}, escalation.channel)),
        h('span', { class: 'customer' }, customerLabel(ctx, escalation.customerId)),
        ageTime(escalation.openedAt, { key: 'escalations.age', title: formatDateTime(escalation.openedAt) })),
      escalation.transcript && escalation.transcript.length
        ? h('p', { class: 'last' }, `${t(`actor.${escalation.transcript.at(-1).actor}`, {}, '')}: ${escalation.transcript.at(-1).text}`)
        : null,
      h('p', {}, h('a', { href: `#/c/${handleFor(escalation.conversationId)}` }, t('escalations.open'))),
      escalation.status === 'open' && ctx.can('steer_conversations') ? resolveForm(escalation) : null,
      escalation.status === 'resolved'
        ? h('p', { class: 'help' }, t('escalations.resolvedWith', { note: escalation.note || '—', at: formatDateTime(escalation.resolvedAt) }))
        : null);
  }

  async function refresh() {
    const { data } = await api('/admin/escalations', { query: { status, transcriptMessages: 3, limit: 100 } });
    const json = JSON.stringify(data.escalations);
    // Never re-drawn under someone typing a note.
    const typing = [...list.querySelectorAll('textarea')].some((area) => area.value.trim());
    if (json === shown || typing) { refreshAges(list); return; } // same queue, later clock
    shown = json;
    render(data.escalations);
  }

  const poller = new Poller(refresh, REFRESH_MS);
  poller.run();
  return { unmount() { poller.stop(); } };
}
