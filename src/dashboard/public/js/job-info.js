// What a job is, beside how far it got: its name, its labels, and its inputs (a crawl's options, a
// Fibonacci batch's numbers), from the job view when it shows them, else from what this tab
// submitted, else from the first results page.

import { fmt } from './format.js';

/** Chips of `key: value`, each with its whole text as a tooltip. */
export function renderLabels(list, labels) {
  const entries = Object.entries(labels ?? {});
  list.hidden = entries.length === 0;
  list.replaceChildren(
    ...entries.map(([key, value]) => {
      const li = Object.assign(document.createElement('li'), { textContent: `${key}: ${value}`, title: `${key}: ${value}` });
      Object.assign(li.dataset, { key, value });
      return li;
    }),
  );
}

/** `0, 25, 50, … (2,000 numbers)`: the first few n of a batch. */
function numbersText(ns, total) {
  const head = ns.slice(0, 8).map(fmt).join(', ');
  return `${head}${total > ns.length || ns.length > 8 ? ', …' : ''} (${fmt(total)} number${total === 1 ? '' : 's'})`;
}

/** The inputs worth showing, as [label, text] pairs. */
export function inputsOf(kind, input, total) {
  if (!input) return [];
  if (kind === 'fibonacci') {
    if (input.range) return [['Range', `n = ${fmt(input.range.from)} … ${fmt(input.range.to)}`]];
    if (Array.isArray(input.numbers)) return [['Numbers', numbersText(input.numbers, Math.max(total ?? 0, input.numbers.length))]];
  }
  if (kind === 'crawl' && Array.isArray(input.urls)) {
    const pairs = [['Start URLs', input.urls.join(' ')]];
    for (const [key, value] of Object.entries(input)) {
      if (key === 'urls' || key === 'name' || key === 'labels' || key === 'webhook' || value === undefined) continue;
      pairs.push([words(key), Array.isArray(value) ? value.join(' ') || '–' : String(value)]);
    }
    return pairs;
  }
  return Object.entries(input)
    .filter(([key]) => key !== 'name' && key !== 'labels' && key !== 'webhook')
    .map(([key, value]) => [words(key), typeof value === 'object' ? JSON.stringify(value) : String(value)]);
}

/** Inputs read back from the first results page (for jobs this tab did not submit). */
export function inputsFromResults(kind, items, total) {
  if (kind === 'fibonacci' && items.length && items[0].index === 0 && items.every((item) => typeof item.n === 'number')) {
    return {
      source: 'results',
      pairs: [
        [
          'Numbers',
          numbersText(
            items.map((item) => item.n),
            total,
          ),
        ],
      ],
    };
  }
  if (kind === 'crawl') {
    const seeds = items.filter((item) => item.depth === 0).map((item) => item.url);
    if (seeds.length) return { source: 'results', pairs: [['Start URLs', seeds.join(' ')]] };
  }
  return undefined;
}

export function renderInputs(list, pairs) {
  list.hidden = pairs.length === 0;
  list.replaceChildren(
    ...pairs.map(([label, text]) => {
      const item = document.createElement('div');
      const dd = Object.assign(document.createElement('dd'), { textContent: text, title: text });
      item.append(Object.assign(document.createElement('dt'), { textContent: label }), dd);
      return item;
    }),
  );
}

function words(key) {
  const text = key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
