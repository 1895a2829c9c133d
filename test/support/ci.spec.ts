import { describe, expect, it } from 'vitest';
import { inCI } from './ci';

describe('inCI', () => {
  it('is true only for a true CI value', () => {
    for (const value of ['true', 'TRUE', '1', 'yes']) expect(inCI({ CI: value }), value).toBe(true);
    for (const value of [undefined, '', 'false', '0', 'no']) expect(inCI({ CI: value }), String(value)).toBe(false);
  });
});
