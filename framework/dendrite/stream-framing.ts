/**
 * How a streamed body is cut into chunks.
 * - `raw` (default): each network read is one chunk, decoded as UTF-8 without splitting a character. This is
 *   what the SDK's BTStreamingResponse produces (raw bytes, no framing, despite `text/event-stream`), so chunk
 *   boundaries are transport-dependent: put your own delimiter in the data if you need messages.
 * - `sse`: Server-Sent Events; one chunk per event, `data:` lines joined with "\n" (comments and other
 *   fields ignored).
 */
export type StreamFraming = 'raw' | 'sse';

export interface Framer {
  /** Feed decoded text; returns the complete chunks it finished. */
  push(text: string): string[];
  /** End of body: returns what is left (an unterminated final SSE event is kept; browsers would drop it). */
  end(): string[];
}

export function createFramer(framing: StreamFraming): Framer {
  if (framing === 'raw') {
    return { push: (text) => (text.length > 0 ? [text] : []), end: () => [] };
  }
  let buffer = '';
  let data: string[] = [];
  let hasData = false;
  const line = (l: string, out: string[]) => {
    if (l === '') {
      if (hasData) out.push(data.join('\n'));
      data = [];
      hasData = false;
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      data.push(value);
      hasData = true;
    }
  };
  return {
    push(text) {
      buffer += text;
      const out: string[] = [];
      let nl: number;
      while ((nl = buffer.search(/\r\n|\n|\r/)) !== -1) {
        // a lone \r at the end may be the first half of \r\n: wait for more
        if (buffer[nl] === '\r' && nl === buffer.length - 1) break;
        const len = buffer.startsWith('\r\n', nl) ? 2 : 1;
        line(buffer.slice(0, nl), out);
        buffer = buffer.slice(nl + len);
      }
      return out;
    },
    end() {
      const out: string[] = [];
      if (buffer.length > 0) line(buffer, out);
      buffer = '';
      line('', out);
      return out;
    },
  };
}
