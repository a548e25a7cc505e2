import {QisError} from '../util/errors.js'

/**
 * Ctrl-C and SIGTERM as an AbortSignal, for commands that must stop cleanly (finish the record in
 * hand, keep what is consistent, exit 130). The signal's reason is an INTERRUPTED QisError, so a
 * library that rethrows `signal.reason` reports the right code. `dispose()` removes the handlers;
 * call it in a finally.
 */
export function interruptSignal(message = 'interrupted', proc: Pick<NodeJS.Process, 'once' | 'off'> = process): {signal: AbortSignal; dispose(): void} {
  const controller = new AbortController()
  const onSignal = () => controller.abort(new QisError(message, {code: 'INTERRUPTED'}))
  proc.once('SIGINT', onSignal)
  proc.once('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose() {
      proc.off('SIGINT', onSignal)
      proc.off('SIGTERM', onSignal)
    },
  }
}
