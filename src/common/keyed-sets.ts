/**
 * Adds `member` to the set kept under `key` (made on first use); the function returned takes it
 * out again, and drops the set once it is empty, so that keys of finished jobs do not pile up.
 */
export function addToKeyedSet<K, V>(sets: Map<K, Set<V>>, key: K, member: V): () => void {
  let set = sets.get(key);
  if (!set) sets.set(key, (set = new Set()));
  set.add(member);
  return () => {
    set.delete(member);
    if (set.size === 0 && sets.get(key) === set) sets.delete(key);
  };
}
