import { getEncoding } from 'encoding-sniffer';
import iconv from 'iconv-lite';

/**
 * Bytes to text: the charset from the Content-Type header, else a BOM or `<meta charset>` /
 * `http-equiv` in the first 1024 bytes, else UTF-8. Legacy encodings (windows-1252, EUC-KR,
 * Shift_JIS, ...) go through iconv-lite: Node 20.20's TextDecoder decodes windows-1252 as latin1
 * (nodejs/node#60888), turning “quotes” and € into control characters.
 */
export function decodeHtml(body: Buffer, contentType: string | null): string {
  const encoding = sniffEncoding(body, contentType);
  if (/^utf-?8$/i.test(encoding)) return body.toString('utf8');
  return iconv.encodingExists(encoding) ? iconv.decode(body, encoding) : body.toString('utf8');
}

/** The encoding of a page from its Content-Type and its first bytes (the sniffer reads 1024). */
export function sniffEncoding(start: Buffer, contentType: string | null): string {
  const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  return getEncoding(start, { transportLayerEncodingLabel: declared, defaultEncoding: 'utf-8' });
}

/** A streaming decoder for the encoding: keeps a character split across chunks for the next one. */
export function htmlDecoder(encoding: string): { write(bytes: Buffer): string; end(): string | undefined } {
  return iconv.getDecoder(iconv.encodingExists(encoding) ? encoding : 'utf8');
}
