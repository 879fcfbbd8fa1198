// Charts drawn as SVG by hand (no library, nothing loaded from elsewhere): horizontal bars, stacked bars,
// day columns and a rate ring. Every figure is also on the element (data-key, data-value) and in a table
// under the chart, so screen readers, tests and people who prefer numbers get the same figures.

import { h, s } from './dom.js';

const WIDTH = 400;
const LABEL = 150;
const VALUE = 70;
const ROW = 26;

function chartSvg(height, label, ...children) {
  return s('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`, width: '100%', role: 'img', 'aria-label': label, preserveAspectRatio: 'xMinYMin meet',
  }, ...children);
}

/**
 * The value a chart's longest bar stands for: the largest itself, so money of a few cents fills the chart
 * as dollars would (no floor of 1: a whole count above 0 is at least 1 anyway); 0 when every value is 0.
 */
function scaleTop(values) {
  return Math.max(0, ...values);
}

function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col' }, text)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, index) => (index ? h('td', {}, cell) : h('th', { scope: 'row' }, cell)))))));
}

/** A chart inside a figure with its caption and, folded, the same figures as a table. */
export function figure(id, caption, chart, tableElement, tableLabel, extra) {
  return h('figure', { class: 'chart', id },
    h('figcaption', {}, caption),
    extra || null,
    chart,
    h('details', { class: 'figures' }, h('summary', {}, tableLabel), tableElement));
}

/**
 * Horizontal bars. items: [{key, label, segments: [{key, value, className, label}], display}]; a bar
 * with one segment is a plain bar. `columns` heads the table: [what, ...segment labels].
 */
export function bars(items, { empty, columns, format = String }) {
  if (!items.length) return { chart: h('p', { class: 'empty' }, empty), table: h('p', {}, empty) };
  const totals = items.map((item) => item.segments.reduce((sum, segment) => sum + segment.value, 0));
  const max = scaleTop(totals) || 1; // all zero: every bar is 0 wide anyway
  const span = WIDTH - LABEL - VALUE;
  const height = items.length * ROW + 6;
  const rows = items.map((item, index) => {
    const y = index * ROW + 4;
    let x = LABEL;
    const rects = item.segments.map((segment) => {
      const width = (segment.value / max) * span;
      const rect = s('rect', {
        x, y, width: Math.max(width, segment.value > 0 ? 1.5 : 0), height: ROW - 8, rx: 2,
        class: `bar ${segment.className || ''}`,
        dataset: { key: `${item.key}${segment.key ? `.${segment.key}` : ''}`, value: segment.value },
      }, s('title', {}, `${item.label}${segment.label ? ` · ${segment.label}` : ''}: ${format(segment.value)}`));
      x += width;
      return rect;
    });
    return s('g', { class: 'row', dataset: { key: item.key, value: totals[index] } },
      s('text', { x: LABEL - 6, y: y + ROW / 2, 'text-anchor': 'end', class: 'label' }, item.label),
      ...rects,
      s('text', { x: WIDTH - 2, y: y + ROW / 2, 'text-anchor': 'end', class: 'value' }, item.display ?? format(totals[index])));
  });
  const summary = items.map((item, index) => `${item.label}: ${item.display ?? format(totals[index])}`).join('; ');
  return {
    chart: chartSvg(height, summary, ...rows),
    table: table(columns, items.map((item, index) => [
      item.label,
      ...(item.segments.length > 1 ? item.segments.map((segment) => format(segment.value)) : []),
      item.display ?? format(totals[index]),
    ])),
  };
}

/**
 * One column per day. days: [{key (YYYY-MM-DD), label, value, display}]. The tallest column is the largest
 * day, and the figure over the chart says what that day's value is; days that are all 0 get `nothing`
 * instead of a chart (the table still lists them).
 */
export function columns(days, { empty, nothing, columns: headers, format = String }) {
  if (!days.length) return { chart: h('p', { class: 'empty' }, empty), table: h('p', {}, empty) };
  const tableElement = table(headers, days.map((day) => [day.label, day.display ?? format(day.value)]));
  const largest = scaleTop(days.map((day) => day.value));
  if (!(largest > 0)) return { chart: h('p', { class: 'empty' }, nothing ?? empty), table: tableElement };
  const height = 180;
  const bottom = height - 24;
  const step = (WIDTH - 10) / days.length;
  const every = Math.ceil(days.length / 8); // at most eight day labels under the columns
  const parts = [s('line', { x1: 5, x2: WIDTH - 5, y1: bottom, y2: bottom, class: 'axis' })];
  days.forEach((day, index) => {
    const columnHeight = (day.value / largest) * (bottom - 18);
    const x = 5 + index * step + step * 0.15;
    parts.push(s('rect', {
      x, y: bottom - columnHeight, width: step * 0.7, height: Math.max(columnHeight, day.value > 0 ? 1.5 : 0),
      class: 'bar', dataset: { key: day.key, value: day.value },
    }, s('title', {}, `${day.label}: ${day.display ?? format(day.value)}`)));
    if (index % every === 0) {
      parts.push(s('text', { x: x + step * 0.35, y: height - 8, 'text-anchor': 'middle', class: 'label small' }, day.label));
    }
  });
  parts.push(s('text', { x: 5, y: 12, class: 'value small top', dataset: { value: largest } }, format(largest)));
  const summary = days.map((day) => `${day.label}: ${day.display ?? format(day.value)}`).join('; ');
  return { chart: chartSvg(height, summary, ...parts), table: tableElement };
}

/** A ring filled to `rate` (0..1), the percentage in the middle; null draws an empty ring and a dash. */
export function ring(rate, { label, display }) {
  const radius = 52;
  const circumference = 2 * Math.PI * radius;
  const filled = rate === null || rate === undefined ? 0 : Math.max(0, Math.min(1, rate));
  return s('svg', { viewBox: '0 0 140 140', width: '140', height: '140', role: 'img', 'aria-label': `${label}: ${display}`, class: 'ring' },
    s('circle', { cx: 70, cy: 70, r: radius, class: 'track' }),
    s('circle', {
      cx: 70, cy: 70, r: radius, class: 'fill',
      'stroke-dasharray': `${filled * circumference} ${circumference}`,
      transform: 'rotate(-90 70 70)',
      dataset: { key: 'automationRate', value: rate ?? '' },
    }),
    s('text', { x: 70, y: 78, 'text-anchor': 'middle', class: 'big' }, display));
}
