/**
 * `work`, or a rejection as soon as `signal` aborts (the work is abandoned, its outcome ignored):
 * for awaits that do not take a signal themselves. The rejection is `onAbort()` when given, else the
 * signal's reason.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => unknown): Promise<T> {
  if (!signal) return work
  const reason = () => (onAbort ? onAbort() : signal.reason)
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(reason())
    if (signal.aborted) {
      work.catch(() => {})
      return abort()
    }
    signal.addEventListener('abort', abort, {once: true})
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort)
        resolve(v)
      },
      (err) => {
        signal.removeEventListener('abort', abort)
        reject(err)
      },
    )
  })
}
