/**
 * Embeds `texts` in model calls of equal token count, at most `maxGroup` texts a call, and returns
 * the rows in input order.
 *
 * A model pads a batch to its longest text. The padding is masked out, but it changes the shapes
 * the model's kernels compute with, and so their float rounding: a row comes out a little
 * different from the same text embedded alone (use-lite, and onnxruntime from 256 wide). Rows of
 * one token count need no padding: each text gets its "alone" vector whatever it is embedded
 * with, and no time goes into padding (docs/hashing.md, "Determinism").
 */
export async function embedInLengthGroups(
  texts: string[],
  tokenCount: (text: string) => number,
  embedGroup: (texts: string[]) => Promise<Float32Array[]>,
  maxGroup: number,
): Promise<Float32Array[]> {
  const groups = new Map<number, number[]>()
  for (const [i, text] of texts.entries()) {
    const tokens = tokenCount(text)
    const group = groups.get(tokens)
    if (group) group.push(i)
    else groups.set(tokens, [i])
  }
  const out = new Array<Float32Array>(texts.length)
  for (const group of groups.values()) {
    for (let start = 0; start < group.length; start += maxGroup) {
      const part = group.slice(start, start + maxGroup)
      const rows = await embedGroup(part.map((i) => texts[i]))
      part.forEach((i, j) => (out[i] = rows[j]))
    }
  }
  return out
}
