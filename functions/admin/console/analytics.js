// How the bot is doing over a chosen range of UTC days (GET /admin/analytics): automation rate, reply
// times, escalations by reason, messages per channel, tokens and estimated cost per day, catalog syncs;
// and the range as CSV or XLSX through the existing export (every page of it).

import { api, ApiError, download } from './api.js';
import { bars, columns, figure, ring } from './charts.js';
import { announce, fill, h } from './dom.js';
import { formatDay, formatMoney, formatMs, formatNumber, formatPercent, t } from './i18n.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const MAX_DAYS = 366;
const range = { since: null, until: null }; // kept while the page is open

function utcDay(date) { return date.toISOString().slice(0, 10); }

function addDays(day, count) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + count);
  return utcDay(date);
}

function daysOf(since, until) {
  const days = [];
  for (let day = since; day <= until && days.length < MAX_DAYS; day = addDays(day, 1)) days.push(day);
  return days;
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

function automationFigure(report) {
  const c = report.conversations;
  const display = c.automationRate === null ? '—' : formatPercent(c.automationRate);
  const chart = ring(c.automationRate, { label: t('analytics.automation'), display });
  const rows = [
    [t('analytics.withCustomer'), formatNumber(c.withCustomerMessages)],
    [t('analytics.automated'), formatNumber(c.automated)],
    [t('analytics.withHuman'), formatNumber(c.withHuman)],
    [t('analytics.unanswered'), formatNumber(c.unansweredByBot)],
  ];
  const tableElement = h('table', {}, h('tbody', {}, rows.map(([what, value]) => h('tr', {}, h('th', { scope: 'row' }, what), h('td', {}, value)))));
  const extra = h('p', { class: 'figure-summary' }, c.withCustomerMessages
    ? t('analytics.automationSummary', { automated: formatNumber(c.automated), total: formatNumber(c.withCustomerMessages) })
    : t('analytics.noConversations'));
  return figure('chart-automation', t('analytics.automation'), chart, tableElement, t('analytics.figures'), extra);
}

function replyTimeFigure(report) {
  const times = report.timeToReplyMs;
  const items = times.replies ? [
    { key: 'median', label: t('analytics.median'), segments: [{ value: times.median || 0 }] },
    { key: 'p90', label: t('analytics.p90'), segments: [{ value: times.p90 || 0 }] },
  ] : [];
  const { chart, table } = bars(items, { empty: t('analytics.noReplies'), columns: [t('analytics.measure'), t('analytics.time')], format: formatMs });
  const extra = h('p', { class: 'figure-summary' }, t('analytics.replies', { count: formatNumber(times.replies) }));
  return figure('chart-reply-time', t('analytics.replyTime'), chart, table, t('analytics.figures'), extra);
}

function escalationFigure(report) {
  const items = Object.entries(report.escalationsByReason).map(([source, counts]) => ({
    key: source,
    label: t(`source.${source}`, {}, source),
    segments: [
      { key: 'open', value: counts.stillOpen, className: 'open', label: t('analytics.stillOpen') },
      { key: 'resolved', value: counts.escalations - counts.stillOpen, className: 'resolved', label: t('analytics.resolved') },
    ],
  }));
  const { chart, table } = bars(items, {
    empty: t('analytics.noEscalations'),
    columns: [t('analytics.reason'), t('analytics.stillOpen'), t('analytics.resolved'), t('analytics.total')],
    format: formatNumber,
  });
  return figure('chart-escalations', t('analytics.escalations'), chart, table, t('analytics.figures'), legend(['open', 'resolved']));
}

function channelFigure(report) {
  const items = Object.entries(report.messagesByChannel).map(([channel, counts]) => ({
    key: channel,
    label: t(`channel.${channel}`, {}, channel),
    segments: [
      { key: 'inbound', value: counts.inbound, className: 'inbound', label: t('analytics.inbound') },
      { key: 'outbound', value: counts.outbound, className: 'outbound', label: t('analytics.outbound') },
    ],
  }));
  const { chart, table } = bars(items, {
    empty: t('analytics.noMessages'),
    columns: [t('analytics.channel'), t('analytics.inbound'), t('analytics.outbound'), t('analytics.total')],
    format: formatNumber,
  });
  return figure('chart-channels', t('analytics.messages'), chart, table, t('analytics.figures'), legend(['inbound', 'outbound']));
}

function usageFigures(report, days) {
  const byDay = Object.fromEntries(report.llmUsageByDay.map((day) => [day.day, day]));
  const tokens = days.map((day) => ({
    key: day,
    label: formatDay(day),
    value: byDay[day] ? byDay[day].tokensIn + byDay[day].tokensOut : 0,
  }));
  const cost = days.map((day) => ({ key: day, label: formatDay(day), value: byDay[day] ? byDay[day].estimatedCostUsd : 0 }));
  const total = report.llmUsageTotal;
  const tokenChart = columns(tokens, {
    empty: t('analytics.noDays'), nothing: t('analytics.noUsage'), columns: [t('analytics.day'), t('analytics.tokens')], format: formatNumber,
  });
  const costChart = columns(cost, {
    empty: t('analytics.noDays'), nothing: t('analytics.noCost'), columns: [t('analytics.day'), t('analytics.cost')], format: formatMoney,
  });
  const unpriced = total.unpricedModels.length
    ? h('p', { class: 'help' }, t('analytics.unpriced', { models: total.unpricedModels.join(', ') }))
    : null;
  return [
    figure('chart-tokens', t('analytics.tokensPerDay'), tokenChart.chart, tokenChart.table, t('analytics.figures'),
      h('p', { class: 'figure-summary' }, t('analytics.tokensTotal', {
        input: formatNumber(total.tokensIn), output: formatNumber(total.tokensOut), calls: formatNumber(total.calls),
      }))),
    figure('chart-cost', t('analytics.costPerDay'), costChart.chart, costChart.table, t('analytics.figures'),
      h('div', {}, h('p', { class: 'figure-summary' }, t('analytics.costTotal', { cost: formatMoney(total.estimatedCostUsd) })), unpriced)),
  ];
}

function syncFigure(report, syncs) {
  const items = syncs.slice(0, 10).map((sync) => ({
    key: sync.syncId,
    label: `${formatDay(sync.startedAt.slice(0, 10))} ${sync.syncId.slice(0, 8)}`,
    segments: [
      { key: 'processed', value: sync.processed, className: 'processed', label: t('catalog.processed') },
      { key: 'unchanged', value: sync.unchanged, className: 'unchanged', label: t('catalog.unchanged') },
      { key: 'failed', value: sync.failed, className: 'failed', label: t('catalog.failed') },
    ],
  }));
  const { chart, table } = bars(items, {
    empty: t('analytics.noSyncs'),
    columns: [t('catalog.sync'), t('catalog.processed'), t('catalog.unchanged'), t('catalog.failed'), t('analytics.total')],
    format: formatNumber,
  });
  const totals = report.catalogSyncs;
  const extra = h('div', {},
    h('p', { class: 'figure-summary' }, t('analytics.syncTotals', {
      syncs: formatNumber(totals.syncs), received: formatNumber(totals.received), failed: formatNumber(totals.failed),
    })),
    legend(['processed', 'unchanged', 'failed']));
  return figure('chart-syncs', t('analytics.syncs'), chart, table, t('analytics.figures'), extra);
}

function legend(keys) {
  return h('ul', { class: 'legend', 'aria-hidden': 'true' }, keys.map((key) => h('li', { class: key }, t(`legend.${key}`))));
}

export function mount(container, ctx) {
  if (!range.until) {
    range.until = utcDay(new Date());
    range.since = addDays(range.until, -6);
  }
  const since = h('input', { id: 'since', name: 'since', type: 'date', value: range.since, required: true });
  const until = h('input', { id: 'until', name: 'until', type: 'date', value: range.until, required: true });
  const error = h('p', { class: 'error', role: 'alert' });
  const charts = h('div', { class: 'charts', id: 'charts', 'aria-live': 'polite', 'aria-busy': 'true' });
  const form = h('form', { class: 'filters', method: 'post', id: 'range-form' },
    h('div', { class: 'field' }, h('label', { for: 'since' }, t('analytics.since')), since),
    h('div', { class: 'field' }, h('label', { for: 'until' }, t('analytics.until')), until),
    h('button', { type: 'submit', class: 'primary' }, t('analytics.show')));
  const exports = ctx.can('export')
    ? h('div', { class: 'exports', role: 'group', 'aria-label': t('analytics.export') },
      h('button', { type: 'button', id: 'export-csv', onclick: () => exportFile('csv') }, t('analytics.exportCsv')),
      h('button', { type: 'button', id: 'export-xlsx', onclick: () => exportFile('xlsx') }, t('analytics.exportXlsx')))
    : null;
  fill(container, h('section', { class: 'page', 'aria-labelledby': 'analytics-title' },
    h('h1', { id: 'analytics-title' }, t('nav.analytics')),
    h('p', { class: 'help' }, t('analytics.utc')),
    form, exports, error, charts));

  let loading = 0;
  async function load() {
    const ticket = ++loading;
    error.textContent = '';
    charts.setAttribute('aria-busy', 'true');
    try {
      const query = { since: range.since, until: range.until };
      const [report, syncs] = await Promise.all([
        api('/admin/analytics', { query }),
        api('/admin/analytics/syncs', { query: { ...query, limit: 10 } }),
      ]);
      if (ticket !== loading) return;
      const days = daysOf(range.since, range.until);
      fill(charts,
        automationFigure(report.data),
        replyTimeFigure(report.data),
        escalationFigure(report.data),
        channelFigure(report.data),
        ...usageFigures(report.data, days),
        syncFigure(report.data, syncs.data.syncs));
      charts.dataset.since = range.since;
      charts.dataset.until = range.until;
      charts.setAttribute('aria-busy', 'false');
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : t('error.network');
    }
  }

  async function exportFile(format) {
    let cursor = null;
    let files = 0;
    let rows = 0;
    try {
      do {
        const page = await download('/admin/export', { since: range.since, until: range.until, format, cursor }, format === 'xlsx' ? XLSX : '*/*');
        save(page.blob, page.filename);
        files += 1;
        rows += page.rows;
        cursor = page.nextCursor;
      } while (cursor && files < 100);
      announce(t('analytics.exported', { files: formatNumber(files), rows: formatNumber(rows) }));
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : t('error.network');
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!since.value || !until.value || since.value > until.value) {
      error.textContent = t('analytics.badRange');
      return;
    }
    range.since = since.value;
    range.until = until.value;
    load();
  });
  load();
  return { unmount() { loading += 1; } };
}
