/**
 * After a slow feed client is cut, its last bytes (and the reason) still queue behind what it has
 * not read. It keeps them while it reads on; once it makes no progress for `windowMs`, or has taken
 * everything, `giveUp` drops the connection. Returns a function that stops watching.
 */
export function watchDrain(unsent: () => number, giveUp: () => void, windowMs: number, everyMs = 250): () => void {
  let last = unsent();
  let progressAt = Date.now();
  const timer = setInterval(() => {
    const now = unsent();
    if (now < last) progressAt = Date.now();
    last = now;
    if (Date.now() - progressAt >= windowMs) {
      clearInterval(timer);
      giveUp();
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
