import type {Readable} from 'node:stream'

export interface Line {
  /** 1-based line number. */
  line: number
  /** The line's text without its line ending; undefined when the line was too long. */
  text?: string
  /** Bytes in the line (for an over-long line, at least maxBytes + 1). */
  bytes: number
  /** Byte offset in the stream just past the line and its line ending: how far a reader that has finished this line is. */
  end: number
}

/**
 * Split a byte stream into lines (LF or CRLF) of at most maxBytes. An over-long line is reported
 * with no text, and its bytes are dropped as they arrive: memory stays bounded by maxBytes plus
 * one chunk, however long the line. A UTF-8 BOM at the start is dropped.
 */
export async function* readLines(stream: Readable, maxBytes: number): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', {fatal: false, ignoreBOM: false})
  let parts: Buffer[] = []
  let size = 0
  let tooLong = false
  let lineNo = 1
  let first = true
  /** Stream bytes before the current chunk's unsplit rest. */
  let pos = 0

  const finish = (end: number): Line => {
    const out: Line = tooLong ? {line: lineNo, bytes: size, end} : {line: lineNo, bytes: size, end, text: decode()}
    parts = []
    size = 0
    tooLong = false
    lineNo++
    return out
  }
  const decode = (): string => {
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)
    if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
    first = false
    let s = decoder.decode(buf)
    if (s.endsWith('\r')) s = s.slice(0, -1)
    return s
  }
  const add = (piece: Buffer) => {
    size += piece.length
    if (tooLong) return
    if (size > maxBytes + 1) {
      // +1 allows the CR of a CRLF ending on a line of exactly maxBytes.
      tooLong = true
      parts = []
      return
    }
    parts.push(piece)
  }

  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    let nl: number
    while ((nl = buf.indexOf(0x0a)) !== -1) {
      add(buf.subarray(0, nl))
      pos += nl + 1
      yield finish(pos)
      buf = buf.subarray(nl + 1)
    }
    if (buf.length) add(buf)
    pos += buf.length
  }
  if (size > 0 || tooLong) yield finish(pos)
}
