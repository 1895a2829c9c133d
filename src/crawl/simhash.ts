/**
 * A page's text fingerprint for near-duplicate detection: a 64-bit simhash (Charikar) over
 * 3-word shingles, computed on the worker while the page is parsed (both parsers feed it the
 * same raw text, in document order). Words are runs of letters and digits, lower-cased; a word cut
 * between two pieces of text is joined back, so how the text was split never changes the result.
 * Each word is hashed once with two 32-bit FNV-1a passes (different offsets), and a shingle's 64
 * bits mix its words' hashes (murmur3's finaliser): no string is built per shingle, no BigInt.
 * Pages of fewer than MIN_WORDS words get no fingerprint (short pages
 * would all look alike), and only the first MAX_WORDS count (bounded work on hostile pages).
 */
const MIN_WORDS = 8;
const MAX_WORDS = 20_000;
const WORD = /[\p{L}\p{N}]+/gu;
const WORD_CHAR = /[\p{L}\p{N}]/u;
const MAX_CARRY = 256;

export class Simhash {
  private readonly weights = new Int32Array(64);
  private words = 0;
  private previousLo = 0;
  private previousHi = 0;
  private beforeLo = 0;
  private beforeHi = 0;
  private carry = '';

  /** Raw text of the page, piece by piece. */
  add(text: string): void {
    if (this.words >= MAX_WORDS || text.length === 0) return;
    let piece = this.carry + text;
    this.carry = '';
    // A piece ending inside a word keeps that part (up to MAX_CARRY characters) for the next
    // piece. Found by stepping back, never by a regex anchored at the end, which would retry from
    // every position of a long run of letters (quadratic).
    let start = piece.length;
    while (start > 0 && piece.length - start < MAX_CARRY && isWordChar(piece, start - 1)) start--;
    if (start < piece.length) {
      this.carry = piece.slice(start);
      piece = piece.slice(0, start);
    }
    for (const match of piece.matchAll(WORD)) {
      this.word(match[0].toLowerCase());
      if (this.words >= MAX_WORDS) return;
    }
  }

  /** A text node ended (a tag or a comment follows): a word cut there is whole. */
  boundary(): void {
    if (!this.carry) return;
    if (this.words < MAX_WORDS) this.word(this.carry.toLowerCase());
    this.carry = '';
  }

  /** 16 hex digits, or undefined for a page of too few words. */
  digest(): string | undefined {
    this.boundary();
    if (this.words < MIN_WORDS) return undefined;
    let hi = 0;
    let lo = 0;
    for (let bit = 0; bit < 32; bit++) {
      if (this.weights[bit] > 0) lo |= 1 << bit;
      if (this.weights[bit + 32] > 0) hi |= 1 << bit;
    }
    return hex8(hi) + hex8(lo);
  }

  private word(word: string): void {
    this.words++;
    // Each word is hashed once; a shingle's hash mixes its three words' (rotated so order counts).
    const lo = fnv1a(word, 0x811c9dc5);
    const hi = fnv1a(word, 0x050c5d1f);
    if (this.words >= 3) {
      this.weigh(fmix(lo ^ rotl(this.previousLo, 7) ^ rotl(this.beforeLo, 14)), 0);
      this.weigh(fmix(hi ^ rotl(this.previousHi, 7) ^ rotl(this.beforeHi, 14)), 32);
    }
    this.beforeLo = this.previousLo;
    this.beforeHi = this.previousHi;
    this.previousLo = lo;
    this.previousHi = hi;
  }

  private weigh(hash: number, offset: number): void {
    for (let bit = 0; bit < 32; bit++) this.weights[offset + bit] += (hash >>> bit) & 1 ? 1 : -1;
  }
}

function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function isWordChar(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  if (code < 128) return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
  return WORD_CHAR.test(text[at]);
}

function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

/** Bits that differ between two fingerprints (16 hex digits each). */
export function hammingDistance(a: string, b: string): number {
  return popcount(Number.parseInt(a.slice(0, 8), 16) ^ Number.parseInt(b.slice(0, 8), 16)) + popcount(Number.parseInt(a.slice(8), 16) ^ Number.parseInt(b.slice(8), 16));
}

function popcount(value: number): number {
  let v = value >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Fingerprints seen by a job, for "is there an earlier one within `maxBits`?". Pigeonhole: split
 * into maxBits + 1 bands, two fingerprints that close agree on at least one band whole, so only
 * the fingerprints sharing a band are compared: a few map lookups per page, not a scan.
 */
export class NearDuplicateIndex {
  private readonly bands = new Map<string, { fingerprint: string; url: string }[]>();
  private readonly cuts: number[];

  constructor(private readonly maxBits: number) {
    const count = maxBits + 1;
    this.cuts = Array.from({ length: count + 1 }, (_, i) => Math.round((i * 16) / count));
  }

  /** The earlier page within maxBits, if any. */
  find(fingerprint: string): string | undefined {
    for (const key of this.keys(fingerprint)) {
      for (const entry of this.bands.get(key) ?? []) if (hammingDistance(entry.fingerprint, fingerprint) <= this.maxBits) return entry.url;
    }
    return undefined;
  }

  add(fingerprint: string, url: string): void {
    for (const key of this.keys(fingerprint)) {
      let list = this.bands.get(key);
      if (!list) this.bands.set(key, (list = []));
      list.push({ fingerprint, url });
    }
  }

  /** Bands cut on hex digits (4 bits): with up to 7 bands of >= 2 digits, pigeonhole holds on digits too. */
  private keys(fingerprint: string): string[] {
    const keys: string[] = [];
    for (let band = 0; band + 1 < this.cuts.length; band++) keys.push(`${band}:${fingerprint.slice(this.cuts[band], this.cuts[band + 1])}`);
    return keys;
  }
}
