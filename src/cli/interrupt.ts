import {QisError} from '../util/errors.js'

/**
 * Ctrl-C and SIGTERM as an AbortSignal, for commands that must stop cleanly (finish the record in
 * hand, keep what is consistent, exit 130). The signal's reason is an INTERRUPTED QisError, so a
 * library that rethrows `signal.reason` reports the right code. `dispose()` removes the handlers;
 * call it in a finally.
 */
export function interruptSignal(
  message = 'interrupted',
  proc: Pick<NodeJS.Process, 'on' | 'off'> = process,
  /** A second Ctrl-C or SIGTERM: stop at once (clean up, exit). Without it, the second signal gets the default behaviour. */
  onRepeat?: () => void,
): {signal: AbortSignal; dispose(): void; received(): NodeJS.Signals | undefined} {
  const controller = new AbortController()
  let first: NodeJS.Signals | undefined
  const onSignal = (name?: NodeJS.Signals) => {
    if (controller.signal.aborted) return onRepeat?.()
    first = name
    controller.abort(new QisError(message, {code: 'INTERRUPTED'}))
    if (!onRepeat) dispose()
  }
  const dispose = () => {
    proc.off('SIGINT', onSignal)
    proc.off('SIGTERM', onSignal)
  }
  proc.on('SIGINT', onSignal)
  proc.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose,
    /** Which signal stopped it (`qis node` says so in its `stopping` line). */
    received: () => first,
  }
}
