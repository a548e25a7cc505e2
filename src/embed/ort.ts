type Ort = typeof import('onnxruntime-node')

/**
 * onnxruntime-node, imported on first use. A CommonJS package: Node's ESM loader gives its exports
 * as `default` (tsx and vitest as names too). Throws when the package or its native binary is
 * missing or will not load; callers fall back to their JS path.
 */
export async function importOrt(): Promise<Ort> {
  const ortModule = await import('onnxruntime-node')
  return ((ortModule as unknown as {default?: Ort}).default ?? ortModule) as Ort
}
