import { getEncoding } from 'encoding-sniffer';
import iconv from 'iconv-lite';

/**
 * Bytes to text: the charset from the Content-Type header, else a BOM or `<meta charset>` /
 * `http-equiv` in the first bytes, else UTF-8. Legacy encodings (windows-1252, EUC-KR,
 * Shift_JIS, ...) go through iconv-lite: Node 20.20's TextDecoder decodes windows-1252 as latin1
 * (nodejs/node#60888), turning “quotes” and € into control characters.
 */
export function decodeHtml(body: Buffer, contentType: string | null): string {
  const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const encoding = getEncoding(body, { transportLayerEncodingLabel: declared, defaultEncoding: 'utf-8' });
  if (/^utf-?8$/i.test(encoding)) return body.toString('utf8');
  return iconv.encodingExists(encoding) ? iconv.decode(body, encoding) : body.toString('utf8');
}
