/**
 * A map keyed by identifier (type and value) without building a `type\u0000value` string per look-up:
 * one map of values per type. Closure gathering looks identifiers up hundreds of thousands of times.
 */
export class IdentMap<T> {
  private readonly byType = new Map<string, Map<string, T>>();

  get(type: string, value: string): T | undefined {
    return this.byType.get(type)?.get(value);
  }

  has(type: string, value: string): boolean {
    return this.byType.get(type)?.has(value) ?? false;
  }

  set(type: string, value: string, item: T): this {
    let values = this.byType.get(type);
    if (!values) this.byType.set(type, (values = new Map()));
    values.set(value, item);
    return this;
  }
}
