// Throughput (tasks/s, or pages/s for a crawl) over time as a small inline SVG: an area under a line, with the peak marked.

import { formatRate } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 600,
  H = 120,
  MAX_POINTS = 300;

function el(name, attrs) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export class RateChart {
  constructor(svg, caption) {
    this.svg = svg;
    this.caption = caption;
    this.samples = [];
    this.unit = 'tasks';
  }

  reset(unit = 'tasks') {
    this.unit = unit;
    this.samples = [];
    this.draw();
  }

  /** One sample: `rate` tasks/s measured over the period ending at `t` (ms). */
  add(t, rate) {
    this.samples.push([t, rate]);
    // Long runs: halve the resolution rather than forget the start.
    if (this.samples.length > MAX_POINTS) this.samples = this.samples.filter((_, i) => i % 2 === 0);
    this.draw();
  }

  draw() {
    const { svg, samples } = this;
    svg.replaceChildren();
    for (const y of [0.25, 0.5, 0.75]) svg.append(el('line', { class: 'grid', x1: 0, x2: W, y1: H * y, y2: H * y }));
    if (samples.length < 2) {
      this.caption.textContent = 'No samples yet: throughput is measured while the job runs and this page watches it.';
      return;
    }
    const t0 = samples[0][0],
      span = Math.max(1, samples.at(-1)[0] - t0);
    const peak = Math.max(1, ...samples.map((s) => s[1]));
    const points = samples.map(([t, r]) => `${(((t - t0) / span) * W).toFixed(1)},${(H - 4 - (r / peak) * (H - 18)).toFixed(1)}`);
    svg.append(el('polygon', { class: 'area', points: `0,${H} ${points.join(' ')} ${W},${H}` }));
    svg.append(el('polyline', { class: 'line', points: points.join(' ') }));
    const unit = `${this.unit}/s`;
    this.caption.textContent = `Peak ${formatRate(peak)} ${unit}; now ${formatRate(samples.at(-1)[1])} ${unit}; over ${(span / 1000).toFixed(1)} s watched.`;
  }
}
