import {QisError} from '../util/errors.js'

/**
 * Rows of a Parquet file (LangSmith's bulk export), read one row group at a time with hyparquet
 * (pure JavaScript) and its decompressors (snappy, gzip, zstd, brotli, lz4), so memory is bounded
 * by the largest row group, not the file. Each row is a plain object keyed by column name.
 */
export async function* parquetRows(file: string): AsyncGenerator<{row: number; value: Record<string, unknown>}> {
  const [{asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects}, {compressors}] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')])
  let buffer
  let metadata
  try {
    buffer = await asyncBufferFromFile(file)
    metadata = await parquetMetadataAsync(buffer)
  } catch (err) {
    throw new QisError(`${file}: not a readable Parquet file (${(err as Error).message})`, {code: 'BAD_INPUT', cause: err})
  }
  let start = 0
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows)
    let rows: Record<string, unknown>[]
    try {
      rows = (await parquetReadObjects({file: buffer, metadata, rowStart: start, rowEnd: end, compressors})) as Record<string, unknown>[]
    } catch (err) {
      throw new QisError(`${file}: cannot read Parquet rows ${start + 1}-${end}: ${(err as Error).message}`, {code: 'BAD_INPUT', cause: err})
    }
    for (let i = 0; i < rows.length; i++) yield {row: start + i + 1, value: plain(rows[i]!)}
    start = end
  }
}

/** int64 columns arrive as BigInt and timestamps as Date: make them what JSON would hold. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') row[k] = Number(v)
    else if (v instanceof Date) row[k] = v.toISOString()
  }
  return row
}
