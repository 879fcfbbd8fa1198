// One conversation: the transcript (who wrote, when, how long the bot took, the tool calls, products and
// knowledge behind each bot reply, tokens and model), take over / resume / reset, and a person's reply
// through the conversation's own channel when Meta's window allows it.

import { api, ApiError, enc } from './api.js';
import { announce, confirmDialog, fill, h, Poller } from './dom.js';
import { formatDateTime, formatMs, formatNumber, formatScore, formatTime, t } from './i18n.js';
import { ageTime, badge, customerLabel, escalationReason, knowledgeSource, refreshAges } from './labels.js';

const REFRESH_MS = 3000;
const TAKEOVER_CHOICES = [['30', 'conv.minutes30'], ['120', 'conv.hours2'], ['1440', 'conv.hours24'], ['until', 'conv.untilResumed']];

function mediaLabel(kind) {
  return `[${t(`media.${kind}`, {}, kind || t('media.other'))}]`;
}

// A reaction says which message it refers to ("👍 a «…»"), and whether the customer changed or took it
// back later; a removal says what it took back.
function reactionText(reaction) {
  const target = reaction.to
    ? t('reaction.quoted', { text: reaction.to.text || mediaLabel(reaction.to.mediaKind) })
    : t('reaction.unknownMessage');
  if (reaction.status === 'removal') return t('reaction.removal', { target });
  const words = t('reaction.to', { emoji: reaction.emoji, target });
  return reaction.status === 'current' ? words : `${words} (${t(`reaction.${reaction.status}`, {}, reaction.status)})`;
}

function messageText(message) {
  if (message.reaction) return reactionText(message.reaction);
  if (message.text) return message.text;
  return mediaLabel(message.mediaKind);
}

// What the models made of a voice note (its transcript) or a photo (the product they saw): the text the
// bot answered, so a person reading the conversation reads it too.
function mediaNotes(message) {
  return [['transcript', 'conv.transcriptNote'], ['mediaDescription', 'conv.photoNote']]
    .filter(([field]) => message[field])
    .map(([field, label]) => h('p', { class: 'media-note', dataset: { note: field } },
      h('span', { class: 'label' }, t(label)), ' ', h('span', { class: 'said' }, message[field])));
}

/** A knowledge passage a reply was given (tool_calls.knowledge_chunks): its document (an FAQ entry's
 * question), section, page, fragment and score, and the start of its text as the knowledge base holds it. */
function citation(entry) {
  if (entry === null || typeof entry !== 'object') return h('li', {}, String(entry));
  const where = knowledgeSource(entry);
  return h('li', { class: 'citation', dataset: { documentId: entry.documentId, chunk: entry.chunk, score: entry.score } },
    h('strong', { class: 'document' }, entry.document || t('knowledge.unknownDocument')),
    where ? h('span', { class: 'where' }, ` · ${where}`) : null,
    typeof entry.score === 'number' ? h('span', { class: 'score' }, ` · ${t('knowledge.score', { score: formatScore(entry.score) })}`) : null,
    entry.excerpt ? h('q', { class: 'excerpt' }, entry.excerpt) : null);
}

function botDetails(message) {
  const calls = message.toolCalls || [];
  const products = message.citedProducts || [];
  const knowledge = message.citedKnowledge || [];
  if (!calls.length && !products.length && !knowledge.length) return null;
  const summary = [
    t('conv.toolCalls', { count: calls.length }),
    t('conv.products', { count: products.length }),
    knowledge.length ? t('conv.knowledge', { count: knowledge.length }) : null,
  ].filter(Boolean).join(' · ');
  return h('details', { class: 'why' },
    h('summary', {}, summary),
    calls.length ? h('ol', { class: 'tool-calls' }, calls.map((call) => h('li', { dataset: { tool: call.tool } },
      h('code', {}, call.tool), ' ',
      h('code', { class: 'arguments' }, JSON.stringify(call.arguments)), ' → ',
      call.error ? h('span', { class: 'error' }, call.error) : t('conv.results', { count: call.resultCount }),
      call.latencyMs !== null && call.latencyMs !== undefined ? ` (${formatMs(call.latencyMs)})` : ''))) : null,
    products.length ? h('ul', { class: 'cited' }, products.map((product) => h('li', { dataset: { item: product.itemCode } },
      h('code', {}, product.itemCode), ' ', product.itemName || t('conv.unknownProduct')))) : null,
    knowledge.length ? h('ul', { class: 'cited knowledge' }, knowledge.map(citation)) : null);
}

const PHOTO_FAILED = 'photo_failed:';
const PHOTO_TITLE = 'product photo not sent: ';

// A reply whose product photo Meta refused still went out as text (status `sent`): a note, not a failure.
function sendProblem(error) {
  const code = error.code || '';
  const title = error.title || '';
  if (!code.startsWith(PHOTO_FAILED)) return h('p', { class: 'error' }, t('conv.sendError', { code, title }));
  const words = {
    code: code.slice(PHOTO_FAILED.length),
    title: title.startsWith(PHOTO_TITLE) ? title.slice(PHOTO_TITLE.length) : title,
  };
  return h('p', { class: 'photo-note' }, t('conv.photoNotSent', words));
}

function messageItem(message) {
  const outbound = message.direction === 'outbound';
  // An inbound `agent` message was typed in a platform's own inbox or the WhatsApp Business app.
  const actorKey = message.actor === 'agent' && !outbound ? 'agentInbox' : message.actor;
  const who = t(`actor.${actorKey}`, {}, message.actor) + (message.sentBy ? ` · ${message.sentBy}` : '');
  const facts = [h('time', { datetime: message.at, title: formatDateTime(message.at) }, formatTime(message.at))];
  if (outbound) {
    if (message.latencyMs !== null && message.latencyMs !== undefined) {
      facts.push(t(message.actor === 'agent' ? 'conv.sendTime' : 'conv.latency', { value: formatMs(message.latencyMs) }));
    }
    if (message.model) facts.push(message.model);
    if (message.tokensIn || message.tokensOut) {
      facts.push(t('conv.tokens', { input: formatNumber(message.tokensIn), output: formatNumber(message.tokensOut) }));
    }
    facts.push(t(`status.${message.status}`, {}, message.status));
  } else if (message.state === 'skipped' || message.state === 'failed') {
    facts.push(t('conv.notAnswered', { reason: t(`reason.${message.stateReason}`, {}, message.stateReason || '') }));
  }
  const error = outbound && message.error ? sendProblem(message.error) : null;
  return h('li', {
    class: `msg ${outbound ? 'outbound' : 'inbound'} actor-${message.actor}`,
    dataset: { id: message.id, actor: message.actor, direction: message.direction, status: message.status || message.state },
  },
  h('p', { class: 'who' }, who),
  h('p', { class: 'text' }, messageText(message)),
  outbound ? null : mediaNotes(message),
  h('p', { class: 'facts' }, facts.flatMap((fact, index) => (index ? [' · ', fact] : [fact]))),
  error,
  outbound ? botDetails(message) : null);
}

function windowNote(replyWindow) {
  if (!replyWindow) return '';
  const closes = replyWindow.closesAt ? formatDateTime(replyWindow.closesAt) : '';
  const last = replyWindow.lastCustomerMessageAt ? formatDateTime(replyWindow.lastCustomerMessageAt) : '—';
  if (replyWindow.open) {
    if (replyWindow.tag) return t('window.tagged', { until: closes });
    return replyWindow.applies ? t('window.open', { until: closes }) : t('window.none');
  }
  const words = { closed: closes, last };
  return t(`window.closed.${replyWindow.reason}`, words, t('window.closed.closed', words));
}

export function mountConversation(container, ctx, conversationId, onChange) {
  const head = h('header', { class: 'conv-head' });
  const transcript = h('ol', { class: 'transcript', id: 'transcript', role: 'log', 'aria-label': t('conv.transcript') });
  const earlier = h('p', { class: 'help', hidden: true }, t('conv.earlier'));
  const items = new Map(); // message id → [json, element]
  let etag = null;
  let data = null;
  let busy = false;
  let duration = TAKEOVER_CHOICES[0][0]; // the pause length chosen, kept when the header is redrawn

  const note = h('p', { class: 'window-note', id: 'window-note' });
  const text = h('textarea', { id: 'reply-text', name: 'text', rows: '3', maxlength: '4096', 'aria-describedby': 'window-note reply-error' });
  const send = h('button', { type: 'submit', class: 'primary', id: 'reply-send' }, t('conv.send'));
  const replyError = h('p', { class: 'error', id: 'reply-error', role: 'alert' });
  const composer = ctx.can('reply_to_customers')
    ? h('form', { class: 'composer', id: 'composer', method: 'post' },
      h('label', { for: 'reply-text' }, t('conv.replyLabel')), text, note, replyError, send)
    : null;
  fill(container, h('article', { class: 'conversation', 'aria-labelledby': 'conv-title' },
    head, earlier, transcript, composer));

  const changed = () => { etag = null; poller.kick(); if (onChange) onChange(); };

  async function act(path, body, done) {
    if (busy) return;
    busy = true;
    try {
      await api(path, { method: 'POST', body: body || {} });
      announce(done);
      changed();
    } catch (failure) {
      announce(failure instanceof ApiError ? failure.message : t('error.network'), 'error');
    } finally {
      busy = false;
    }
  }

  function actions(conversation) {
    if (!ctx.can('steer_conversations')) return null;
    const base = `/admin/conversations/${enc(conversationId)}`;
    const choice = h('select', { id: 'takeover-duration', name: 'duration' },
      TAKEOVER_CHOICES.map(([value, label]) => h('option', { value, selected: value === duration }, t(label))));
    choice.addEventListener('change', () => { duration = choice.value; });
    const takeover = h('button', { type: 'button', id: 'takeover' }, t('conv.takeover'));
    takeover.addEventListener('click', () => {
      duration = choice.value;
      const body = duration === 'until' ? { untilResumed: true } : { minutes: Number(duration) };
      act(`${base}/takeover`, body, t('conv.takenOver'));
    });
    const resume = h('button', { type: 'button', id: 'resume', disabled: !conversation.paused }, t('conv.resume'));
    resume.addEventListener('click', () => act(`${base}/resume`, {}, t('conv.resumed')));
    const reset = h('button', { type: 'button', id: 'reset', class: 'quiet' }, t('conv.reset'));
    reset.addEventListener('click', async () => {
      if (await confirmDialog(t('conv.resetConfirm'), t('conv.resetYes'), t('conv.cancel'))) {
        act(`${base}/reset`, {}, t('conv.wasReset'));
      }
    });
    return h('div', { class: 'actions', role: 'group', 'aria-label': t('conv.actions') },
      h('label', { for: 'takeover-duration', class: 'visually-hidden' }, t('conv.duration')), choice, takeover, resume, reset);
  }

  function renderHead(conversation) {
    const facts = [
      badge('channel', conversation.channel, t(`channel.${conversation.channel}`, {}, conversation.channel)),
      badge('state', conversation.state, t(`state.${conversation.state}`)),
      h('span', { class: 'language' }, (conversation.language || '').toUpperCase()),
    ];
    const pause = conversation.paused
      ? h('p', { class: 'pause', id: 'pause-note' }, conversation.paused.untilResumed
        ? t('conv.pausedUntilResumed', { by: conversation.paused.setBy || '—' })
        : t('conv.pausedUntil', { until: formatDateTime(conversation.paused.pausedUntil), by: conversation.paused.setBy || '—' }))
      : null;
    const why = conversation.openEscalation ? escalationReason(conversation.openEscalation) : null;
    const escalation = conversation.openEscalation
      ? h('p', { class: 'escalation-note', id: 'escalation-note', title: why.title }, t('conv.escalated', {
        reason: why.detail ? `${why.label}: ${why.detail}` : why.label,
      }), ' ', ageTime(conversation.openEscalation.openedAt, { key: 'conv.escalatedAge', title: formatDateTime(conversation.openEscalation.openedAt) }),
      ' ', h('a', { href: '#/escalations' }, t('nav.escalations')))
      : null;
    const focused = head.contains(document.activeElement) ? document.activeElement.id : null;
    fill(head,
      h('a', { href: '#/inbox', class: 'back' }, t('conv.back')),
      h('h2', { id: 'conv-title', tabindex: '-1' }, customerLabel(ctx, conversation.customerId)),
      h('p', { class: 'line badges' }, facts),
      pause, escalation, actions(conversation));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  function renderTranscript(messages) {
    const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    const seen = new Set();
    for (const message of messages) {
      seen.add(message.id);
      const json = JSON.stringify(message);
      const known = items.get(message.id);
      if (known && known[0] === json) continue;
      const element = messageItem(message);
      if (known) known[1].replaceWith(element);
      else transcript.append(element); // ids grow: new messages go last
      items.set(message.id, [json, element]);
    }
    for (const [id, [, element]] of items) {
      if (!seen.has(id)) { element.remove(); items.delete(id); }
    }
    if (!messages.length) fill(transcript, h('li', { class: 'empty' }, t('inbox.noMessages')));
    if (atBottom) transcript.scrollTop = transcript.scrollHeight;
  }

  function renderComposer(replyWindow) {
    if (!composer) return;
    note.textContent = windowNote(replyWindow);
    note.dataset.open = String(Boolean(replyWindow && replyWindow.open));
    const closed = !replyWindow || !replyWindow.open;
    text.disabled = closed;
    send.disabled = closed;
  }

  async function refresh() {
    const answer = await api(`/admin/console/conversations/${enc(conversationId)}`, { etag });
    if (answer.notModified && data) { refreshAges(head); return; } // same conversation, later clock
    etag = answer.etag;
    const first = data === null;
    data = answer.data;
    renderHead(data.conversation);
    if (first && ctx.conversation) document.getElementById('conv-title').focus(); // opened: its title has the focus
    earlier.hidden = !data.earlierMessages;
    renderTranscript(data.messages);
    renderComposer(data.window);
  }

  if (composer) {
    composer.addEventListener('submit', async (event) => {
      event.preventDefault();
      const words = text.value.trim();
      if (!words || send.disabled) return;
      send.disabled = true;
      replyError.textContent = '';
      try {
        await api(`/admin/conversations/${enc(conversationId)}/reply`, { method: 'POST', body: { text: words } });
        text.value = '';
        announce(t('conv.sent'));
        changed();
      } catch (failure) {
        if (failure instanceof ApiError && failure.body && failure.body.window) {
          renderComposer(failure.body.window);
          replyError.textContent = windowNote(failure.body.window);
        } else {
          replyError.textContent = failure instanceof ApiError ? t('conv.notSent', { detail: failure.message }) : t('error.network');
        }
        changed();
      } finally {
        send.disabled = Boolean(data && data.window && !data.window.open);
      }
    });
    text.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) composer.requestSubmit();
    });
  }

  const poller = new Poller(async () => {
    try {
      await refresh();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 404) {
        poller.stop();
        fill(container, h('p', { class: 'empty' }, t('conv.unknown')), h('a', { href: '#/inbox' }, t('conv.back')));
        return;
      }
      throw failure;
    }
  }, REFRESH_MS);
  poller.run();
  return { unmount() { poller.stop(); } };
}
