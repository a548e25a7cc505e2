// libp2p 3.x calls Promise.withResolvers, which Node gained in v22. We support Node 20, so this
// module must be imported before any libp2p module (src/swarm/* import it first).
type Resolvers<T> = {promise: Promise<T>; resolve: (value: T | PromiseLike<T>) => void; reject: (reason?: unknown) => void}

const P = Promise as unknown as {withResolvers?: <T>() => Resolvers<T>}
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve']
    let reject!: Resolvers<T>['reject']
    const promise = new Promise<T>((res, rej) => {
      resolve = res
      reject = rej
    })
    return {promise, resolve, reject}
  }
}

export {}
