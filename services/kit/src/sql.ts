/** Collects query parameters while a statement is written: `p.add(value)` returns "$n". */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  /** Another Params holding the same values so far, to add more for one statement. */
  copy(): Params {
    const copy = new Params();
    copy.values.push(...this.values);
    return copy;
  }
}

/** An ILIKE pattern matching text that contains `fragment` literally (%, _ and \ escaped). */
export function containsPattern(fragment: string): string {
  return `%${fragment.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The constraint a unique violation names, if `err` is one. */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' ? e.constraint : undefined;
}

/** The constraint a foreign-key violation names, if `err` is one. */
export function foreignKeyViolation(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23503' ? e.constraint : undefined;
}
