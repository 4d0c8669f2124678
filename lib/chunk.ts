/** `items` cut into consecutive slices of at most `size` (the last may be shorter). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/**
 * `items` packed in order into groups of at most `maxItems` whose sizes add up to at most `maxSize`
 * (an item larger than `maxSize` goes alone): batch calls with a count and a byte limit.
 */
export function packBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxItems: number, maxSize: number): T[][] {
  const groups: T[][] = [];
  let size = Infinity;
  for (const item of items) {
    const itemSize = sizeOf(item);
    if (size + itemSize > maxSize || groups[groups.length - 1].length >= maxItems) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(item);
    size += itemSize;
  }
  return groups;
}
