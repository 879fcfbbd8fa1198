// The knowledge base (docs/knowledge.md) as staff keep it: documents (upload with progress, status until
// ready, the reason when one fails, delete), FAQ entries, suggestions from resolved escalations (edit, then
// approve or discard) and "try a question": what search_knowledge gives the bot, with scores and sources.
// Reading needs read_conversations, as in the API; every change needs manage_knowledge, and is offered only
// then. Document, FAQ and customer text is only ever text (dom.js).

import { api, ApiError, enc, handleFor, upload } from './api.js';
import { announce, confirmDialog, fill, h, Poller } from './dom.js';
import { formatBytes, formatDateTime, formatScore, t } from './i18n.js';
import { ageTime, badge, customerLabel, escalationReason, knowledgeSource, refreshAges } from './labels.js';

const VIEWS = [
  ['documents', 'knowledge.documents'],
  ['faq', 'knowledge.faq'],
  ['suggestions', 'knowledge.suggestions'],
  ['try', 'knowledge.try'],
];
// What the API accepts (mostrador/knowledge/formats.py; tests/unit/test_console_files.py keeps them equal),
// checked here as well so a wrong file is refused before it is read and sent.
const ACCEPTED = ['.pdf', '.html', '.htm', '.md', '.markdown', '.txt', '.text', '.docx'];
const MAX_BYTES = 4 * 1024 * 1024;
const PENDING_MS = 2000; // a list refreshes this often while something in it is being processed
const IDLE_MS = 20000; // and this often otherwise (another person may upload or delete)
const SUGGESTIONS_MS = 15000;
const PAGE_SIZE = 200;
const MAX_PAGES = 10;
const CHUNKS_SHOWN = 20;

const tried = { q: '', limit: '3' }; // the last question tried, kept while the page is open

function problem(failure) {
  return failure instanceof ApiError ? failure.message : t('error.network');
}

function extensionOf(name) {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** Why the page will not send this file (null: it will). */
function refusal(file) {
  const extension = extensionOf(file.name);
  if (!ACCEPTED.includes(extension)) {
    return t('knowledge.badType', { type: extension || t('knowledge.noExtension'), types: t('knowledge.types') });
  }
  if (file.size === 0) return t('knowledge.emptyFile', { name: file.name });
  if (file.size > MAX_BYTES) return t('knowledge.tooBig', { size: formatBytes(file.size), max: formatBytes(MAX_BYTES) });
  return null;
}

/** The API's refusal of an upload, in the page's language with the API's own words. */
function uploadRefusal(failure, file) {
  if (!(failure instanceof ApiError)) {
    return failure instanceof DOMException ? t('knowledge.readFailed', { name: file.name }) : t('knowledge.uploadNetwork');
  }
  const detail = failure.message;
  const key = {
    403: 'knowledge.forbidden', 409: 'knowledge.duplicate', 413: 'knowledge.tooBigServer', 415: 'knowledge.badTypeServer',
    422: 'knowledge.unreadable', 503: 'knowledge.tryAgain',
  }[failure.status] || 'knowledge.uploadFailed';
  return t(key, { name: file.name, detail });
}

function readBase64(file, onProgress) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('progress', (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); });
    reader.addEventListener('load', () => {
      const url = String(reader.result); // data:<type>;base64,<bytes>
      resolve(url.slice(url.indexOf(',') + 1));
    });
    reader.addEventListener('error', () => reject(reader.error || new DOMException('unreadable')));
    reader.readAsDataURL(file);
  });
}

/** Every page of a knowledge list (documents, FAQ entries or suggestions), oldest first. */
async function listAll(path, key, query = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const { data } = await api(path, { query: { ...query, limit: PAGE_SIZE, cursor } });
    items.push(...data[key]);
    cursor = data.nextCursor;
    if (!cursor) return { items, cut: false };
  }
  return { items, cut: true };
}

/** Refreshes `load` every PENDING_MS while `pending()` says something is being processed, else every IDLE_MS. */
function refresher(load, pending) {
  let last = 0;
  const poller = new Poller(async () => {
    if (!pending() && Date.now() - last < IDLE_MS) return;
    last = Date.now();
    await load();
  }, PENDING_MS);
  return {
    start() { poller.run(); },
    now() { last = 0; poller.kick(); },
    stop() { poller.stop(); },
  };
}

/**
 * Keeps a list's items drawn from data: an item is redrawn only when its data changed, so an open chunk
 * preview or a half-edited form survives a refresh.
 */
function keyedList(list, draw, empty) {
  const drawn = new Map(); // id → [json, element]
  return (items) => {
    const seen = new Set();
    let previous = null;
    for (const item of items) {
      seen.add(item.id);
      const json = JSON.stringify(item);
      const known = drawn.get(item.id);
      let element = known ? known[1] : null;
      if (!known || known[0] !== json) {
        const fresh = draw(item);
        if (element) element.replaceWith(fresh);
        element = fresh;
        drawn.set(item.id, [json, element]);
      }
      const place = previous ? previous.nextSibling : list.firstChild;
      if (place !== element) list.insertBefore(element, place);
      previous = element;
    }
    for (const [id, [, element]] of drawn) {
      if (!seen.has(id)) { element.remove(); drawn.delete(id); }
    }
    const placeholder = list.querySelector(':scope > li.empty'); // "loading…" at first, then "nothing here"
    if (items.length) { if (placeholder) placeholder.remove(); } else if (placeholder) placeholder.textContent = empty;
    else list.append(h('li', { class: 'empty' }, empty));
  };
}

function stageBadge(source) {
  return badge('stage', source.status, t(`knowledge.status.${source.status}`, {}, source.status));
}

/** Under a source: why it failed, that it is being processed, and which version answers meanwhile. */
function stateNotes(source) {
  const previousServes = source.servingSha256 && source.servingSha256 !== source.sha256;
  return [
    source.status === 'failed' ? h('p', { class: 'error reason' }, t('knowledge.failedBecause', { reason: source.error || '—' })) : null,
    source.status === 'pending' ? h('p', { class: 'help' }, t('knowledge.processing')) : null,
    source.status !== 'ready' && previousServes ? h('p', { class: 'help' }, t('knowledge.previousServes')) : null,
  ];
}

function deleteButton(ctx, source, name, path, after) {
  if (!ctx.can('manage_knowledge')) return null;
  const button = h('button', { type: 'button', class: 'quiet', dataset: { delete: source.id } }, t('knowledge.delete'));
  button.addEventListener('click', async () => {
    const sure = await confirmDialog(t('knowledge.deleteConfirm', { name }), t('knowledge.deleteYes'), t('knowledge.cancel'));
    if (!sure) return;
    button.disabled = true;
    try {
      await api(path, { method: 'DELETE' });
      announce(t('knowledge.deleted', { name }));
      after();
    } catch (failure) {
      announce(problem(failure), 'error');
      button.disabled = false;
    }
  });
  return button;
}

function sourceList(id, labelledBy) {
  return h('ul', { class: 'sources', id, 'aria-labelledby': labelledBy, 'aria-busy': 'true' },
    h('li', { class: 'empty' }, t('catalog.loading')));
}

// -- documents -------------------------------------------------------------------------------------

function chunkPreview(documentId, place, button) {
  const open = button.getAttribute('aria-expanded') === 'true';
  button.setAttribute('aria-expanded', String(!open));
  place.hidden = open;
  if (open) return;
  fill(place, h('p', { class: 'help' }, t('catalog.loading')));
  api(`/admin/knowledge/documents/${enc(documentId)}`, { query: { chunks: CHUNKS_SHOWN } }).then(({ data }) => {
    const chunks = data.chunkPreview || [];
    fill(place,
      h('p', { class: 'help' }, t('knowledge.chunksShown', { shown: chunks.length, total: data.chunks })),
      h('ol', { class: 'chunk-list' }, chunks.map((chunk) => h('li', { dataset: { chunk: chunk.chunk } },
        h('p', { class: 'help where' }, knowledgeSource({ section: chunk.section, page: chunk.page, chunk: chunk.chunk })),
        h('p', { class: 'passage-text' }, chunk.text)))));
  }).catch((failure) => fill(place, h('p', { class: 'error' }, problem(failure))));
}

function documentItem(ctx, file, refresh) {
  const preview = h('div', { class: 'chunks', id: `chunks-${file.id}`, hidden: true });
  let toggle = null;
  if (file.chunks) {
    toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': preview.id },
      t('knowledge.showChunks', { count: file.chunks }));
    toggle.addEventListener('click', () => chunkPreview(file.id, preview, toggle));
  }
  const facts = [
    h('code', {}, file.name),
    (file.format || '').toUpperCase(),
    formatBytes(file.sizeBytes),
    file.chunks ? t(file.chunks === 1 ? 'knowledge.oneChunk' : 'knowledge.chunks', { count: file.chunks }) : null,
    h('time', { datetime: file.updatedAt }, t('knowledge.updated', { at: formatDateTime(file.updatedAt) })),
  ].filter(Boolean);
  return h('li', { class: 'source', dataset: { id: file.id, status: file.status, name: file.name } },
    h('div', { class: 'source-head' }, h('h3', { class: 'source-title' }, file.title || file.name), stageBadge(file)),
    h('p', { class: 'facts' }, facts.flatMap((fact, index) => (index ? [' · ', fact] : [fact]))),
    stateNotes(file),
    h('div', { class: 'actions' }, toggle,
      deleteButton(ctx, file, file.name, `/admin/knowledge/documents/${enc(file.id)}`, refresh)),
    preview);
}

function uploadForm(onUploaded) {
  const file = h('input', {
    id: 'upload-file', name: 'file', type: 'file', accept: ACCEPTED.join(','), 'aria-describedby': 'upload-help upload-error',
  });
  const title = h('input', { id: 'upload-title', name: 'title', type: 'text', maxlength: '200', autocomplete: 'off' });
  const stage = h('p', { id: 'upload-stage', class: 'help', 'aria-live': 'polite' });
  const bar = h('progress', { id: 'upload-progress', max: '100', value: '0', hidden: true, 'aria-labelledby': 'upload-stage' });
  const error = h('p', { class: 'error', id: 'upload-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'upload-send' }, t('knowledge.uploadButton'));
  const form = h('form', { class: 'upload', id: 'upload-form', method: 'post' },
    h('div', { class: 'field' }, h('label', { for: 'upload-file' }, t('knowledge.file')), file),
    h('p', { class: 'help', id: 'upload-help' }, t('knowledge.fileHelp', { types: t('knowledge.types'), max: formatBytes(MAX_BYTES) })),
    h('div', { class: 'field' }, h('label', { for: 'upload-title' }, t('knowledge.titleOptional')), title),
    bar, stage, error, button);
  const show = (percent, words) => {
    bar.hidden = false;
    bar.value = percent;
    stage.textContent = words;
  };
  file.addEventListener('change', () => {
    bar.hidden = true;
    stage.textContent = '';
    error.textContent = file.files[0] ? refusal(file.files[0]) || '' : '';
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files[0];
    const refused = chosen ? refusal(chosen) : t('knowledge.pickFile');
    if (refused) { error.textContent = refused; file.focus(); return; }
    error.textContent = '';
    button.disabled = true;
    try {
      show(0, t('knowledge.reading', { name: chosen.name }));
      const content = await readBase64(chosen, (share) => show(Math.round(share * 10), t('knowledge.reading', { name: chosen.name })));
      const { data } = await upload('/admin/knowledge/documents',
        { filename: chosen.name, contentBase64: content, title: title.value.trim() || undefined },
        (sent, total) => {
          const percent = Math.round((100 * sent) / total);
          show(10 + Math.round(percent * 0.9), t('knowledge.sending', { percent }));
        });
      let key = 'knowledge.uploaded';
      if (data.unchanged) key = 'knowledge.uploadedSame';
      else if (data.replaced) key = 'knowledge.uploadedReplaces';
      const said = t(key, { name: data.name });
      show(100, said);
      announce(said);
      file.value = '';
      title.value = '';
      onUploaded(data);
    } catch (failure) {
      bar.hidden = true;
      stage.textContent = '';
      error.textContent = uploadRefusal(failure, chosen);
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'upload-heading' },
    h('h2', { id: 'upload-heading' }, t('knowledge.uploadTitle')), form);
}

function documentsView(ctx, place) {
  const list = sourceList('document-list', 'documents-heading');
  const cut = h('p', { class: 'help', hidden: true }, t('knowledge.tooMany', { count: PAGE_SIZE * MAX_PAGES }));
  let documents = [];
  const draw = keyedList(list, (file) => documentItem(ctx, file, () => refresh.now()), t('knowledge.noDocuments'));
  const refresh = refresher(async () => {
    const answer = await listAll('/admin/knowledge/documents', 'documents');
    documents = answer.items;
    cut.hidden = !answer.cut;
    draw(documents);
    list.setAttribute('aria-busy', 'false');
  }, () => documents.some((file) => file.status === 'pending'));
  fill(place,
    ctx.can('manage_knowledge') ? uploadForm(() => refresh.now()) : null,
    h('section', { class: 'card', 'aria-labelledby': 'documents-heading' },
      h('h2', { id: 'documents-heading' }, t('knowledge.documents')),
      h('p', { class: 'help' }, t('knowledge.documentsHelp')),
      list, cut));
  refresh.start();
  return { unmount() { refresh.stop(); } };
}

// -- FAQ entries -----------------------------------------------------------------------------------

function tagsOf(text) {
  return text.split(',').map((tag) => tag.trim()).filter(Boolean).slice(0, 20);
}

function faqItem(ctx, faq, refresh) {
  return h('li', { class: 'source faq', dataset: { id: faq.id, status: faq.status } },
    h('div', { class: 'source-head' }, h('h3', { class: 'source-title' }, faq.question), stageBadge(faq)),
    h('p', { class: 'passage-text' }, faq.answer),
    faq.tags && faq.tags.length
      ? h('p', { class: 'line tags' }, h('span', { class: 'visually-hidden' }, t('knowledge.tags')),
        faq.tags.map((tag) => h('span', { class: 'badge tag' }, tag)))
      : null,
    h('p', { class: 'facts' }, h('time', { datetime: faq.updatedAt }, t('knowledge.updated', { at: formatDateTime(faq.updatedAt) }))),
    stateNotes(faq),
    h('div', { class: 'actions' }, deleteButton(ctx, faq, faq.question, `/admin/knowledge/faq/${enc(faq.id)}`, refresh)));
}

function faqForm(onAdded) {
  const question = h('input', { id: 'faq-question', name: 'question', type: 'text', maxlength: '1000', autocomplete: 'off' });
  const answer = h('textarea', { id: 'faq-answer', name: 'answer', rows: '4', maxlength: '4000' });
  const tags = h('input', { id: 'faq-tags', name: 'tags', type: 'text', autocomplete: 'off', 'aria-describedby': 'faq-tags-help' });
  const error = h('p', { class: 'error', id: 'faq-error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary', id: 'faq-add' }, t('knowledge.add'));
  const form = h('form', { class: 'stack', id: 'faq-form', method: 'post' },
    h('label', { for: 'faq-question' }, t('knowledge.question')), question,
    h('label', { for: 'faq-answer' }, t('knowledge.answer')), answer,
    h('label', { for: 'faq-tags' }, t('knowledge.tagsOptional')), tags,
    h('p', { class: 'help', id: 'faq-tags-help' }, t('knowledge.tagsHelp')),
    error, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (question.value.trim().length < 3) { error.textContent = t('knowledge.questionNeeded'); question.focus(); return; }
    if (!answer.value.trim()) { error.textContent = t('knowledge.answerNeeded'); answer.focus(); return; }
    error.textContent = '';
    button.disabled = true;
    try {
      const { data } = await api('/admin/knowledge/faq', {
        method: 'POST', body: { question: question.value.trim(), answer: answer.value.trim(), tags: tagsOf(tags.value) },
      });
      announce(t(data.unchanged ? 'knowledge.faqSame' : 'knowledge.faqAdded'));
      question.value = '';
      answer.value = '';
      tags.value = '';
      onAdded(data);
    } catch (failure) {
      error.textContent = problem(failure);
    } finally {
      button.disabled = false;
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'faq-form-heading' },
    h('h2', { id: 'faq-form-heading' }, t('knowledge.faqAdd')), form);
}

function faqView(ctx, place) {
  const list = sourceList('faq-list', 'faq-heading');
  const cut = h('p', { class: 'help', hidden: true }, t('knowledge.tooMany', { count: PAGE_SIZE * MAX_PAGES }));
  let entries = [];
  const draw = keyedList(list, (faq) => faqItem(ctx, faq, () => refresh.now()), t('knowledge.noFaq'));
  const refresh = refresher(async () => {
    const answer = await listAll('/admin/knowledge/faq', 'documents');
    entries = answer.items;
    cut.hidden = !answer.cut;
    draw(entries);
    list.setAttribute('aria-busy', 'false');
  }, () => entries.some((faq) => faq.status === 'pending'));
  fill(place,
    ctx.can('manage_knowledge') ? faqForm(() => refresh.now()) : null,
    h('section', { class: 'card', 'aria-labelledby': 'faq-heading' },
      h('h2', { id: 'faq-heading' }, t('knowledge.faq')),
      h('p', { class: 'help' }, t('knowledge.faqHelp')),
      list, cut));
  refresh.start();
  return { unmount() { refresh.stop(); } };
}

// -- suggestions from resolved escalations ---------------------------------------------------------

function reasonLine(escalation) {
  const why = escalationReason(escalation);
  return h('p', { class: 'reason', title: why.title }, why.label, why.detail ? `: ${why.detail}` : '');
}

function origin(ctx, suggestion) {
  const escalation = suggestion.escalation;
  const link = suggestion.conversationId
    ? h('a', { href: `#/c/${handleFor(suggestion.conversationId)}` }, t('escalations.open'))
    : null;
  if (!escalation) {
    return h('div', { class: 'origin' }, h('p', { class: 'help' }, t('knowledge.escalationGone')), link ? h('p', {}, link) : null);
  }
  const channel = escalation.channel || '';
  return h('div', { class: 'origin' },
    h('p', { class: 'line badges' },
      h('strong', {}, t('knowledge.fromEscalation', { id: escalation.id })),
      badge('channel', channel, t(`channel.${channel}`, {}, channel)),
      h('span', { class: 'customer' }, customerLabel(ctx, escalation.customerId)),
      ageTime(escalation.resolvedAt, { key: 'knowledge.resolvedAgo', title: formatDateTime(escalation.resolvedAt) })),
    reasonLine(escalation),
    link ? h('p', {}, link) : null);
}

function suggestionItem(ctx, suggestion, decided) {
  const id = suggestion.id;
  const item = h('li', { class: 'suggestion', dataset: { id, status: suggestion.status } },
    origin(ctx, suggestion));
  // Agents review suggestions (review_suggestions); managing the knowledge base is the owner's.
  if (!ctx.can('review_suggestions')) {
    item.append(
      h('p', { class: 'help' }, t('knowledge.question')), h('p', { class: 'suggested-question' }, suggestion.question),
      h('p', { class: 'help' }, t('knowledge.answer')), h('p', { class: 'passage-text' }, suggestion.answer));
    return item;
  }
  const question = h('input', { id: `suggestion-question-${id}`, name: 'question', type: 'text', maxlength: '1000', value: suggestion.question, autocomplete: 'off', 'aria-describedby': `suggestion-help-${id}` });
  const answer = h('textarea', { id: `suggestion-answer-${id}`, name: 'answer', rows: '3', maxlength: '4000', value: suggestion.answer });
  const tags = h('input', { id: `suggestion-tags-${id}`, name: 'tags', type: 'text', autocomplete: 'off' });
  const error = h('p', { class: 'error', role: 'alert' });
  const approve = h('button', { type: 'submit', class: 'primary', dataset: { approve: id } }, t('knowledge.approve'));
  const discard = h('button', { type: 'button', class: 'quiet', dataset: { discard: id } }, t('knowledge.discard'));
  const form = h('form', { class: 'stack', method: 'post', dataset: { suggestion: id } },
    h('label', { for: question.id }, t('knowledge.question')), question,
    h('p', { class: 'help', id: `suggestion-help-${id}` }, t('knowledge.questionHelp')),
    h('label', { for: answer.id }, t('knowledge.answer')), answer,
    h('label', { for: tags.id }, t('knowledge.tagsOptional')), tags,
    error,
    h('div', { class: 'actions' }, discard, approve));
  const decide = async (path, body, said) => {
    approve.disabled = true;
    discard.disabled = true;
    try {
      await api(path, { method: 'POST', body });
      announce(said);
      decided();
    } catch (failure) {
      error.textContent = problem(failure);
      approve.disabled = false;
      discard.disabled = false;
      if (failure instanceof ApiError && failure.status === 409) decided(); // someone else decided it
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (question.value.trim().length < 3) { error.textContent = t('knowledge.questionNeeded'); question.focus(); return; }
    if (!answer.value.trim()) { error.textContent = t('knowledge.answerNeeded'); answer.focus(); return; }
    decide(`/admin/knowledge/suggestions/${enc(id)}/approve`,
      { question: question.value.trim(), answer: answer.value.trim(), tags: tagsOf(tags.value) }, t('knowledge.approved'));
  });
  discard.addEventListener('click', async () => {
    if (await confirmDialog(t('knowledge.discardConfirm'), t('knowledge.discardYes'), t('knowledge.cancel'))) {
      decide(`/admin/knowledge/suggestions/${enc(id)}/discard`, {}, t('knowledge.discarded'));
    }
  });
  item.append(form);
  return item;
}

function suggestionsView(ctx, place, counted) {
  const list = h('ul', { class: 'suggestion-list', id: 'suggestion-list', 'aria-labelledby': 'suggestions-heading', 'aria-busy': 'true' },
    h('li', { class: 'empty' }, t('catalog.loading')));
  const draw = keyedList(list, (suggestion) => suggestionItem(ctx, suggestion, () => poller.kick()), t('knowledge.noSuggestions'));
  const poller = new Poller(async () => {
    const answer = await listAll('/admin/knowledge/suggestions', 'suggestions', { status: 'suggested' });
    draw(answer.items);
    refreshAges(list); // an item whose data did not change is not redrawn; its age still moves
    list.setAttribute('aria-busy', 'false');
    counted(answer.items.length, answer.cut);
  }, SUGGESTIONS_MS);
  fill(place, h('section', { class: 'card', 'aria-labelledby': 'suggestions-heading' },
    h('h2', { id: 'suggestions-heading' }, t('knowledge.suggestions')),
    h('p', { class: 'help' }, t(ctx.can('review_suggestions') ? 'knowledge.suggestionsHelp' : 'knowledge.suggestionsReadOnly')),
    list));
  poller.run();
  return { unmount() { poller.stop(); } };
}

// -- try a question --------------------------------------------------------------------------------

function passageItem(passage, rank) {
  return h('li', { class: 'passage', dataset: { documentId: passage.document_id, kind: passage.kind, chunk: passage.chunk, score: passage.score } },
    h('p', { class: 'line' },
      h('span', { class: 'rank' }, `${rank}.`),
      badge('kind', passage.kind, t(`knowledge.kind.${passage.kind}`, {}, passage.kind)),
      h('strong', { class: 'document' }, passage.document),
      h('span', { class: 'score' }, t('knowledge.score', { score: formatScore(passage.score) }))),
    h('p', { class: 'help where' }, knowledgeSource(passage)),
    h('p', { class: 'passage-text' }, passage.text));
}

function tryView(ctx, place) {
  const question = h('input', { id: 'try-question', name: 'q', type: 'search', maxlength: '500', value: tried.q, autocomplete: 'off' });
  const limit = h('select', { id: 'try-limit', name: 'limit' },
    ['1', '2', '3', '4', '5'].map((value) => h('option', { value, selected: value === tried.limit }, value)));
  const results = h('div', { id: 'try-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', role: 'search', method: 'post', 'aria-label': t('knowledge.try') },
    h('div', { class: 'field grow' }, h('label', { for: 'try-question' }, t('knowledge.customerQuestion')), question),
    h('div', { class: 'field' }, h('label', { for: 'try-limit' }, t('knowledge.passages')), limit),
    h('button', { type: 'submit', class: 'primary' }, t('knowledge.tryButton')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    tried.q = question.value.trim();
    tried.limit = limit.value;
    if (!tried.q) { question.focus(); return; }
    results.setAttribute('aria-busy', 'true');
    fill(results, h('p', { class: 'help' }, t('catalog.loading')));
    try {
      const { data } = await api('/admin/knowledge/search', { query: { q: tried.q, limit: tried.limit } });
      fill(results, data.passages.length
        ? [h('p', { class: 'help' }, t('knowledge.asTheBot')),
          h('ol', { class: 'passages', id: 'passages' }, data.passages.map((passage, index) => passageItem(passage, index + 1)))]
        : h('p', { class: 'empty', id: 'no-passages' }, t('knowledge.nothingFound')));
    } catch (failure) {
      fill(results, h('p', { class: 'error' }, problem(failure)));
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
  });
  fill(place, h('section', { class: 'card', 'aria-labelledby': 'try-heading' },
    h('h2', { id: 'try-heading' }, t('knowledge.try')),
    h('p', { class: 'help' }, t('knowledge.tryHelp')),
    form, results));
  return { unmount() {} };
}

// -- the page --------------------------------------------------------------------------------------

export function mount(container, ctx) {
  const wanted = (ctx.path || [])[0];
  const view = VIEWS.some(([key]) => key === wanted) ? wanted : 'documents';
  const count = h('span', { class: 'count', id: 'suggestion-count', hidden: true });
  const counted = (number, more) => {
    count.hidden = !number;
    fill(count, `${number}${more ? '+' : ''}`, h('span', { class: 'visually-hidden' }, ` ${t('knowledge.waiting')}`));
  };
  const tabs = h('nav', { class: 'subnav', 'aria-label': t('knowledge.parts') }, h('ul', {},
    VIEWS.map(([key, label]) => h('li', {}, h('a', {
      href: `#/knowledge/${key}`, id: `knowledge-tab-${key}`, 'aria-current': key === view ? 'page' : null,
    }, t(label), key === 'suggestions' ? count : null)))));
  const body = h('div', { id: 'knowledge-view', dataset: { view } });
  fill(container, h('section', { class: 'page knowledge', 'aria-labelledby': 'knowledge-title' },
    h('h1', { id: 'knowledge-title' }, t('nav.knowledge')), tabs, body));
  const views = { documents: documentsView, faq: faqView, suggestions: suggestionsView, try: tryView };
  const mounted = views[view](ctx, body, counted);
  if (view !== 'suggestions') {
    listAll('/admin/knowledge/suggestions', 'suggestions', { status: 'suggested' })
      .then((answer) => counted(answer.items.length, answer.cut))
      .catch(() => {}); // the count is a hint; the suggestions view says what went wrong
  }
  return { unmount() { mounted.unmount(); } };
}
