/**
 * A call started before its result is needed, so that it runs beside
 * others: its failure surfaces where it is awaited (with the handling that
 * place gives it), never as an unhandled rejection meanwhile, and not at
 * all when the result turns out not to be needed.
 */
export function inFlight<T>(call: Promise<T> | PromiseLike<T>): Promise<T> {
  const started = Promise.resolve(call);
  started.catch(() => undefined);
  return started;
}
