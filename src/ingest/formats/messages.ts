/**
 * The user's question out of the shapes LLM tools log a prompt in: a string; OpenAI chat
 * `messages` (string content or content parts); Anthropic content blocks; OpenTelemetry GenAI
 * `parts`; LangChain serialised messages (`HumanMessage`, `{type: "human"}`), nested one level as
 * LangSmith logs them; objects holding any of these (`{messages}`, `{input}`, `{question}`, ...);
 * and JSON text of any of these (CSV exports). The last user turn wins. Undefined when none is found.
 */
export function userText(value: unknown, depth = 0): string | undefined {
  if (depth > 6 || value === null || value === undefined) return undefined
  if (typeof value === 'string') {
    const t = value.trim()
    if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
      try {
        const parsed = JSON.parse(t) as unknown
        const inner = userText(parsed, depth + 1)
        if (inner !== undefined) return inner
        // JSON that holds no user turn (tool arguments, a config) is not a question.
        return undefined
      } catch {
        // Not JSON after all: the text itself.
      }
    }
    return value
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined
    // LangSmith logs chat inputs as a batch: [[message, message, ...]].
    if (Array.isArray(value[value.length - 1])) return userText(value[value.length - 1], depth + 1)
    if (value.every((v) => typeof v === 'string')) return value[value.length - 1] as string
    for (let i = value.length - 1; i >= 0; i--) {
      const m = value[i]
      if (isUserMessage(m)) return contentText(messageContent(m))
    }
    return undefined
  }
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>
    if (isUserMessage(o)) return contentText(messageContent(o))
    for (const key of ['messages', 'input', 'inputs', 'question', 'query', 'prompt', 'prompts', 'user_input', 'text', 'content']) {
      if (key in o) {
        const t = userText(o[key], depth + 1)
        if (t !== undefined) return t
      }
    }
  }
  return undefined
}

function isUserMessage(m: unknown): m is Record<string, unknown> {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return false
  const o = m as Record<string, unknown>
  if (o.role === 'user' || o.role === 'human') return true
  if (o.type === 'human' || o.type === 'HumanMessage' || o.type === 'user') return 'content' in o || 'data' in o || 'kwargs' in o
  // LangChain's serialised form: {lc: 1, type: "constructor", id: [..., "HumanMessage"], kwargs: {content}}
  return Array.isArray(o.id) && o.id[o.id.length - 1] === 'HumanMessage'
}

function messageContent(m: Record<string, unknown>): unknown {
  if ('content' in m) return m.content
  if ('parts' in m) return m.parts
  const kw = (m.kwargs ?? m.data) as Record<string, unknown> | undefined
  return kw && typeof kw === 'object' ? kw.content : undefined
}

/** Text of a message's content: a string, or the text parts of a part list joined by a newline. */
export function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return undefined
  const texts: string[] = []
  for (const p of content) {
    if (typeof p === 'string') texts.push(p)
    else if (p && typeof p === 'object') {
      const part = p as Record<string, unknown>
      // OpenAI and Anthropic: {type: "text", text}; OpenTelemetry GenAI: {type: "text", content}.
      if (part.type === 'text' || part.type === 'input_text' || part.type === undefined) {
        const t = typeof part.text === 'string' ? part.text : typeof part.content === 'string' ? part.content : undefined
        if (t !== undefined) texts.push(t)
      }
    }
  }
  return texts.length ? texts.join('\n') : undefined
}
