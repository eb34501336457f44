// Small helpers for writing values into configuration error messages.

/** A string in single quotes, with control characters and quotes escaped: 'a\n' */
export function quote(s: string): string {
  const escaped = JSON.stringify(s).slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'");
  return `'${escaped}'`;
}

/** How a value read from YAML is shown after "got": 'text', 42, true, null, a list, a mapping. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return String(v);
}
