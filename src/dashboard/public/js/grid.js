// The task grid: one cell per task, coloured by state, drawn into a <canvas> pixel buffer.
// Updates only mark cells dirty; drawing happens at most once per animation frame, and only the
// dirty cells are recomputed, so 100k+ tasks stay cheap.

export const LETTERS = 'qrcfx';
export const CODES = { queued: 0, running: 1, completed: 2, failed: 3, cancelled: 4 };
const Q = 0,
  R = 1,
  C = 2,
  F = 3,
  X = 4;
const COLOURS = ['#c9d1d9', '#2f6fde', '#1a7f37', '#cf222e', '#6e7781'];
const GAP = '#ffffff';
const MAX_HEIGHT = 320;

function pack(hex) {
  const bytes = new Uint8ClampedArray([parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), 255]);
  return new Uint32Array(bytes.buffer)[0]; // native byte order, as ImageData's buffer is read
}
const PIXELS = COLOURS.map(pack);
const RUNNING_TRACK = pack('#a8c7fa');
const GAP_PIXEL = pack(GAP);

export class TaskGrid {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.total = 0;
    this.states = new Uint8Array(0);
    this.progress = new Map();
    this.counts = [0, 0, 0, 0, 0];
    this.frame = 0;
    this.full = true;
    this.dirty = [];
    this.marked = new Uint8Array(0);
    this.width = 0;
    addEventListener('resize', () => {
      if (this.total && this.canvas.parentElement.clientWidth !== this.width) this.relayout();
    });
  }

  /** A new job, or a fresh snapshot: `tasks` has one letter per task (q r c f x). */
  reset(total, tasks = '', progress = {}) {
    this.total = total;
    this.states = new Uint8Array(total);
    for (let i = 0; i < tasks.length && i < total; i++) this.states[i] = Math.max(0, LETTERS.indexOf(tasks[i]));
    this.counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < total; i++) this.counts[this.states[i]]++;
    this.progress = new Map(Object.entries(progress).map(([i, p]) => [Number(i), p]));
    this.relayout();
  }

  /** A job that discovers work (a crawl) adds queued tasks at the end. */
  grow(total) {
    if (total <= this.total) return;
    const states = new Uint8Array(total);
    states.set(this.states);
    this.counts[Q] += total - this.total;
    this.states = states;
    this.total = total;
    this.relayout();
  }

  get finished() {
    return this.counts[C] + this.counts[F] + this.counts[X];
  }

  /** Applies one task update; a finished task never goes back. */
  set(index, code, progress) {
    if (index < 0 || index >= this.total) return;
    const before = this.states[index];
    if (before >= C && code !== before) return;
    if (code === R && progress !== undefined) this.progress.set(index, progress);
    else if (code !== R) this.progress.delete(index);
    if (before !== code) {
      this.counts[before]--;
      this.counts[code]++;
      this.states[index] = code;
    }
    this.mark(Math.floor(index / this.per));
  }

  relayout() {
    const avail = Math.max(100, this.canvas.parentElement.clientWidth - 10);
    this.width = this.canvas.parentElement.clientWidth;
    const n = Math.max(1, this.total);
    let size = 1,
      per = 1;
    for (size = 16; size > 1; size--) {
      const cols = Math.floor(avail / size);
      if (Math.ceil(n / cols) * size <= MAX_HEIGHT) break;
    }
    let cols = Math.max(1, Math.floor(avail / size));
    if (Math.ceil(n / cols) * size > MAX_HEIGHT) per = Math.ceil(n / (cols * Math.floor(MAX_HEIGHT / size)));
    const cells = Math.ceil(n / per);
    if (cells < cols) cols = cells;
    const rows = Math.ceil(cells / cols);
    Object.assign(this, { size, per, cols, rows, cells });
    this.canvas.width = cols * size;
    this.canvas.height = rows * size;
    this.canvas.style.width = `${cols * size}px`;
    this.canvas.style.height = `${rows * size}px`;
    this.image = this.ctx.createImageData(cols * size, rows * size);
    this.pixels = new Uint32Array(this.image.data.buffer);
    this.marked = new Uint8Array(cells);
    this.dirty = [];
    this.full = true;
    this.schedule();
  }

  mark(cell) {
    if (this.full || this.marked[cell]) return;
    this.marked[cell] = 1;
    this.dirty.push(cell);
    if (this.dirty.length > this.cells / 4) this.full = true;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    if (!this.image) return;
    if (this.full) {
      this.pixels.fill(GAP_PIXEL);
      for (let cell = 0; cell < this.cells; cell++) this.paint(cell);
      this.marked.fill(0);
    } else {
      for (const cell of this.dirty) {
        this.paint(cell);
        this.marked[cell] = 0;
      }
    }
    this.full = false;
    this.dirty = [];
    this.ctx.putImageData(this.image, 0, 0);
    this.onDraw?.();
  }

  /** The colour of a cell holding several tasks: unfinished work shows first, then problems. */
  cellState(cell) {
    const { per, states } = this;
    if (per === 1) return states[cell];
    const from = cell * per,
      to = Math.min(this.total, from + per);
    let running = 0,
      queued = 0,
      failed = 0,
      cancelled = 0;
    for (let i = from; i < to; i++) {
      const s = states[i];
      if (s === R) running++;
      else if (s === Q) queued++;
      else if (s === F) failed++;
      else if (s === X) cancelled++;
    }
    return running ? R : queued ? Q : failed ? F : cancelled ? X : C;
  }

  paint(cell) {
    const { size, cols, pixels } = this;
    const stride = cols * size;
    const x0 = (cell % cols) * size,
      y0 = Math.floor(cell / cols) * size;
    const inner = size >= 5 ? size - 1 : size;
    const state = this.cellState(cell);
    const colour = PIXELS[state];
    // Big cells of a running task that reports progress fill up with blue from the left.
    const p = size >= 8 && state === R && this.per === 1 ? this.progress.get(cell) : undefined;
    const split = p === undefined ? inner : Math.round(inner * Math.min(1, Math.max(0, p)));
    for (let y = 0; y < inner; y++) {
      const row = (y0 + y) * stride + x0;
      pixels.fill(colour, row, row + split);
      if (split < inner) pixels.fill(RUNNING_TRACK, row + split, row + inner);
    }
  }
}
