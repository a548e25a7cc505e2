/**
 * A streaming CSV record splitter (RFC 4180 quoting) with a bound on each record. papaparse's
 * streaming parser keeps a quoted field that never closes in memory and re-scans it on every chunk,
 * so one stray quote cost 14 minutes and 2.1 GB, and a 50 MB field ran out of memory; here every
 * character is looked at once, and a record longer than the bound keeps only its line count.
 *
 * - Records end at CRLF, a lone CR or a lone LF outside quotes, so files that mix endings split
 *   as an editor shows them, and `line` is where a record starts, counted the same way.
 * - A quoted field may hold delimiters, quotes (doubled) and line breaks.
 * - Text after a closing quote (`"ab"c`) marks the record `InvalidQuotes`.
 * - End of input inside a quoted field marks the last record `MissingQuotes`.
 * - A record of more than `maxChars` characters (line breaks included) is `TooLong`: its fields are
 *   dropped as they stream past, so memory stays at `maxChars` plus one chunk.
 */
export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number
  /** The record's fields; empty when TooLong. */
  fields: string[]
  /** UTF-8 byte offset just past the record and the line break that ends it: how far a reader that has finished this record is. */
  end: number
  error?: 'MissingQuotes' | 'InvalidQuotes' | 'TooLong'
}

const QUOTE = 0x22
const CR = 0x0d
const LF = 0x0a

const enum State {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: a doubled quote or the closing one. */
  QuoteInQuoted,
  AfterQuoted,
}

export class CsvSplitter {
  private readonly delim: number
  private state = State.FieldStart
  private fields: string[] = []
  private field = ''
  private line = 1
  private recordLine = 1
  /** Characters consumed before the current chunk, and where the current record started. */
  private offset = 0
  private recordStart = 0
  private tooLong = false
  private invalidQuotes = false
  private skipLF = false
  private prevCR = false
  private first = true
  /** UTF-8 bytes of the input before the current chunk (a stripped BOM included). */
  private bytes = 0

  constructor(
    delimiter: string,
    private readonly maxChars: number,
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\r' || delimiter === '\n') {
      throw new Error(`CSV delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`)
    }
    this.delim = delimiter.charCodeAt(0)
  }

  /** Records completed by this chunk. */
  push(chunk: string): CsvRecord[] {
    let s = chunk
    if (this.first && s.length > 0) {
      this.first = false
      if (s.charCodeAt(0) === 0xfeff) {
        s = s.slice(1)
        this.offset++
        this.recordStart++
        this.bytes += 3
      }
    }
    const out: CsvRecord[] = []
    const n = s.length
    // Byte offsets of record ends, counted as the scan goes: once over each character, and not at all for ASCII.
    const chunkBytes = Buffer.byteLength(s)
    const ascii = chunkBytes === n
    let counted = 0
    let countedBytes = this.bytes
    const byteEnd = (at: number): number => {
      if (ascii) return this.bytes + at + 1
      countedBytes += Buffer.byteLength(s.slice(counted, at + 1))
      counted = at + 1
      return countedBytes
    }
    const delim = this.delim
    let seg = 0 // start of the current field's not yet copied text in s
    const take = (end: number) => {
      if (end > seg && !this.tooLong) this.field += s.slice(seg, end)
    }
    const checkLength = (at: number) => {
      if (!this.tooLong && this.offset + at - this.recordStart > this.maxChars) {
        this.tooLong = true
        this.fields = []
        this.field = ''
      }
    }
    const endField = () => {
      if (!this.tooLong) this.fields.push(this.field)
      this.field = ''
    }
    const endRecord = (at: number) => {
      checkLength(at)
      const rec: CsvRecord = {line: this.recordLine, fields: this.tooLong ? [] : this.fields, end: byteEnd(at)}
      if (this.tooLong) rec.error = 'TooLong'
      else if (this.invalidQuotes) rec.error = 'InvalidQuotes'
      out.push(rec)
      this.fields = []
      this.tooLong = false
      this.invalidQuotes = false
      this.recordLine = this.line
      this.recordStart = this.offset + at + 1
      this.state = State.FieldStart
    }

    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (this.skipLF) {
        this.skipLF = false
        if (c === LF) {
          // The LF of a CRLF whose CR ended the record: part of that break.
          this.recordStart++
          seg = i + 1
          this.prevCR = false
          continue
        }
      }
      switch (this.state) {
        case State.Quoted:
          if (c === QUOTE) {
            take(i)
            seg = i + 1
            this.state = State.QuoteInQuoted
          } else if (c === CR) this.line++
          else if (c === LF && !this.prevCR) this.line++
          break
        case State.QuoteInQuoted:
          if (c === QUOTE) {
            // A doubled quote is one quote in the value.
            if (!this.tooLong) this.field += '"'
            seg = i + 1
            this.state = State.Quoted
            break
          }
          this.state = State.AfterQuoted
        // falls through: the character after a closing quote
        case State.AfterQuoted:
        case State.FieldStart:
        case State.Unquoted:
          if (c === delim) {
            take(i)
            endField()
            seg = i + 1
            this.state = State.FieldStart
          } else if (c === CR || c === LF) {
            take(i)
            endField()
            this.line++
            endRecord(i)
            seg = i + 1
            if (c === CR) this.skipLF = true
          } else if (this.state === State.FieldStart) {
            if (c === QUOTE) {
              seg = i + 1
              this.state = State.Quoted
            } else this.state = State.Unquoted
          } else if (this.state === State.AfterQuoted) {
            // "ab"c: keep the rest as text, but the row is malformed.
            this.invalidQuotes = true
            seg = i
            this.state = State.Unquoted
          }
          break
      }
      this.prevCR = c === CR
      if ((i & 0xffff) === 0) checkLength(i)
    }
    checkLength(n)
    if (this.state !== State.QuoteInQuoted) take(n)
    this.offset += n
    this.bytes += chunkBytes
    return out
  }

  /** The last record, when the input does not end with a line break. */
  end(): CsvRecord[] {
    const open = this.state === State.Quoted
    const pending = this.state !== State.FieldStart || this.fields.length > 0 || this.field !== ''
    if (!pending) return []
    if (!this.tooLong) this.fields.push(this.field)
    const rec: CsvRecord = {line: this.recordLine, fields: this.tooLong ? [] : this.fields, end: this.bytes}
    if (open) rec.error = 'MissingQuotes'
    else if (this.tooLong) rec.error = 'TooLong'
    else if (this.invalidQuotes) rec.error = 'InvalidQuotes'
    this.fields = []
    this.field = ''
    this.state = State.FieldStart
    return [rec]
  }
}
