/**
 * Splits a `.json` file into its top-level values as they stream past: the elements of a top-level
 * array (Langfuse's JSON export), or objects one after another, compact or pretty-printed (an OTLP
 * dump), so a JSON export is read record by record, never whole. Each value's text is bounded like
 * a JSONL line: past `maxChars` it is dropped and the value is reported TooLong. Strings and
 * nesting are tracked, so brackets and commas inside strings do not split anything.
 */
export interface JsonValue {
  /** 1-based line where the value starts. */
  line: number
  text?: string
  error?: 'TooLong' | 'Unterminated'
}

export class JsonValueSplitter {
  private started = false
  private arrayMode = false
  private depth = 0
  private inString = false
  private escape = false
  private parts: string[] = []
  private size = 0
  private tooLong = false
  private inValue = false
  private valueLine = 1
  private line = 1
  private scalar = false

  constructor(private readonly maxChars: number) {}

  push(chunk: string): JsonValue[] {
    const out: JsonValue[] = []
    let seg = -1 // start in chunk of the current value's uncopied text
    const keep = (end: number) => {
      if (seg < 0 || end <= seg) return
      this.size += end - seg
      if (this.tooLong) return
      if (this.size > this.maxChars) {
        this.tooLong = true
        this.parts = []
        return
      }
      this.parts.push(chunk.slice(seg, end))
    }
    const finish = (end: number) => {
      keep(end)
      out.push(this.tooLong ? {line: this.valueLine, error: 'TooLong'} : {line: this.valueLine, text: this.parts.join('')})
      this.parts = []
      this.size = 0
      this.tooLong = false
      this.inValue = false
      this.scalar = false
      seg = -1
    }
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (c === '\n') this.line++
      if (this.inValue) {
        if (this.inString) {
          if (this.escape) this.escape = false
          else if (c === '\\') this.escape = true
          else if (c === '"') {
            this.inString = false
            if (this.scalar && this.depth === 0) finish(i + 1)
          }
          continue
        }
        if (this.scalar) {
          // A bare number, true, false or null ends at a separator.
          if (c === ',' || c === ']' || c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '{' || c === '[') {
            finish(i)
            i-- // look at the separator again
            if (c === '\n') this.line--
          }
          continue
        }
        if (c === '"') this.inString = true
        else if (c === '{' || c === '[') this.depth++
        else if (c === '}' || c === ']') {
          this.depth--
          if (this.depth === 0) finish(i + 1)
        }
        continue
      }
      // Between values.
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\ufeff') continue
      if (!this.started) {
        this.started = true
        if (c === '[') {
          this.arrayMode = true
          continue
        }
      }
      if (this.arrayMode && (c === ',' || c === ']')) continue
      this.inValue = true
      this.valueLine = this.line
      seg = i
      if (c === '{' || c === '[') this.depth = 1
      else {
        this.scalar = true
        this.depth = 0
        if (c === '"') this.inString = true
      }
    }
    if (this.inValue) keep(chunk.length)
    return out
  }

  end(): JsonValue[] {
    if (!this.inValue) return []
    const v: JsonValue = this.scalar && !this.inString ? {line: this.valueLine, text: this.parts.join('')} : {line: this.valueLine, error: 'Unterminated'}
    if (this.tooLong) v.error = 'TooLong'
    this.inValue = false
    return [v]
  }
}
