import { describe, expect, it } from 'vitest';
import { compilePattern, MAX_PATTERN_PROGRAM, UrlPatterns } from './url-patterns';

describe('UrlPatterns (RE2)', () => {
  it('searches anywhere in the full URL, like RegExp.test', () => {
    const patterns = new UrlPatterns(['/guide/', '\\.pdf$', '^https://docs\\.']);
    expect(patterns.test('http://h.test/a/guide/b')).toBe(true);
    expect(patterns.test('http://h.test/x.pdf')).toBe(true);
    expect(patterns.test('http://h.test/x.pdf?y')).toBe(false);
    expect(patterns.test('https://docs.h.test/')).toBe(true);
    expect(patterns.test('http://docs.h.test/')).toBe(false);
    expect(new UrlPatterns([]).empty).toBe(true);
    expect(new UrlPatterns([]).test('http://h.test/')).toBe(false);
  });

  it('runs catastrophic-backtracking patterns in linear time', () => {
    const patterns = new UrlPatterns(['^http://h/(a+)+$', '(x+x+)+y', '(.*a){12}z']);
    const started = performance.now();
    expect(patterns.test(`http://h/${'a'.repeat(30)}!`)).toBe(false);
    expect(patterns.test(`http://h/${'x'.repeat(2_000)}`)).toBe(false);
    expect(patterns.test(`http://h/${'a'.repeat(2_000)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('says why RE2 refuses a pattern, and how big an accepted one compiles', () => {
    expect(compilePattern('(a)\\1')).toEqual({ error: expect.stringContaining('\\1') });
    expect(compilePattern('(?=a)b')).toEqual({ error: expect.stringContaining('(?=') });
    expect(compilePattern('(?<!a)b')).toEqual({ error: expect.any(String) });
    expect(compilePattern('a{1001}')).toEqual({ error: expect.stringContaining('repeat') });
    expect(compilePattern('\\.pdf$')).toEqual({ size: 7 });
    expect((compilePattern('(a|b){200}') as { size: number }).size).toBeGreaterThan(MAX_PATTERN_PROGRAM);
  });
});
