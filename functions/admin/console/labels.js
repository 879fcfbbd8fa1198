// Small pieces of text every view shows the same way: customers (masked unless allowed), badges, the
// last message of a conversation.

import { h, mask } from './dom.js';
import { formatAge, hasWords, t } from './i18n.js';

/**
 * The customer id, masked unless the principal may see it and chose to (the inbox's toggle). Without
 * view_customer_contact the API masked it already (••••9002): shown as it came.
 */
export function customerLabel(ctx, customerId) {
  if (!ctx.can('view_customer_contact')) return customerId || '—';
  return ctx.revealIds ? (customerId || '—') : mask(customerId);
}

function ageWords(at, key) {
  const age = formatAge(at);
  return key ? t(key, { age }) : age;
}

/**
 * How long ago `at` was ("hace 5 minutos"), or the sentence `key` says it in ({age}). The clock moves while
 * the data does not: refreshAges() redraws these on every poll, 304 or not.
 */
export function ageTime(at, { key = null, title = null } = {}) {
  return h('time', { datetime: at || '', title: title ?? at ?? '', dataset: { age: at || '', ageKey: key } }, ageWords(at, key));
}

/** The ages under `root` told again against the clock as it is now. */
export function refreshAges(root) {
  for (const element of root.querySelectorAll('time[data-age]')) {
    const words = ageWords(element.dataset.age || null, element.dataset.ageKey || null);
    if (element.textContent !== words) element.textContent = words;
  }
}

export function badge(kind, key, text) {
  return h('span', { class: `badge ${kind} ${kind}-${key}`, dataset: { [kind]: key } }, text);
}

// The reason toolbox.py stores when the model asked for a person without saying why.
const MODEL_GAVE_NO_REASON = 'the assistant asked for a person';

/**
 * Why an escalation was opened, in the reader's language: `label`, its source's name ("Pidió una
 * persona"); `detail`, the stored reason when it says more than that, else null; `title`, the stored reason
 * as it is. The pipeline stores a fixed English phrase for every source but `tool` (conversations/reply.py),
 * which the label already says; under `tool` the reason is the model's own words, worth showing. A source
 * the page has no name for shows its reason.
 */
export function escalationReason(escalation) {
  const key = `source.${escalation.source}`;
  const named = hasWords(key);
  const reason = escalation.reason || '';
  const ownWords = !named || (escalation.source === 'tool' && reason !== MODEL_GAVE_NO_REASON);
  return {
    label: named ? t(key) : (escalation.source || '—'),
    detail: ownWords && reason ? reason : null,
    title: reason,
  };
}

export function lastMessageText(message) {
  if (!message) return t('inbox.noMessages');
  const text = message.text || t('media.other');
  return `${t(`actor.${message.actor}`, {}, message.actor)}: ${text}`;
}

/** Where a knowledge passage or citation sits in its source: section, page and fragment (1-based). */
export function knowledgeSource(entry) {
  const chunk = Number.isInteger(entry.chunk) ? entry.chunk + 1 : null;
  return [
    entry.section ? t('knowledge.section', { section: entry.section }) : null,
    entry.page ? t('knowledge.page', { page: entry.page }) : null,
    chunk ? t('knowledge.chunk', { number: chunk }) : null,
  ].filter(Boolean).join(' · ');
}
