// Byte sizes written the human way: 4096, "4096", "4096B", "512KiB", "64 MiB", "1.5GiB".

const UNITS = new Map<string, number>([
  ['', 1],
  ['b', 1],
  ['kib', 1024],
  ['mib', 1024 ** 2],
  ['gib', 1024 ** 3],
]);

/**
 * The number of bytes a size string stands for: a number with an optional binary unit (B, KiB,
 * MiB, GiB; any letter case; spaces allowed). Undefined when the text is not such a size or is
 * not a whole number of bytes. Decimal units (KB, MB) are refused on purpose: they are ambiguous.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS.get(m[2]!.toLowerCase());
  if (unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
