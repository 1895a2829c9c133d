import { getEncoding } from 'encoding-sniffer';

/**
 * Bytes to text: the charset from the Content-Type header, else a BOM or `<meta charset>` /
 * `http-equiv` in the first bytes, else UTF-8. Node's TextDecoder (full ICU) decodes the legacy
 * encodings (windows-1252, EUC-KR, Shift_JIS, ...), much faster than a streaming sniffer.
 */
export function decodeHtml(body: Buffer, contentType: string | null): string {
  const declared = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const encoding = getEncoding(body, { transportLayerEncodingLabel: declared, defaultEncoding: 'utf-8' });
  try {
    return new TextDecoder(encoding).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body);
  }
}
