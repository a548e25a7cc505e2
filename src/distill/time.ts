/** Floors epoch seconds to a multiple of `resolutionSeconds` (0 = unchanged), so packets cannot be matched to single requests by time. */
export function coarsen(epochSeconds: number, resolutionSeconds: number): number {
  if (resolutionSeconds <= 1) return Math.floor(epochSeconds)
  return Math.floor(epochSeconds / resolutionSeconds) * resolutionSeconds
}
