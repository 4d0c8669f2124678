/**
 * Appends every item of `items` to `target` and returns `target`. Unlike `target.push(...items)`, which
 * passes each item as an argument on the stack and throws RangeError past about 100,000 of them, it
 * takes any number (a component, a range of the ranking or a hub's holders can be that large).
 */
export function appendAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
