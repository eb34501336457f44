// Turns zod's validation issues into configuration problems a person can act on: the field path
// as written in the file, a short message, and for a misspelt field the name that was meant.

import { z } from 'zod';
import type { ConfigProblem } from './errors.js';
import { describeValue, quote } from './text.js';

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  array: 'a list',
};

/** Messages for zod's generic issues; the schema's own messages take precedence over these. */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${describeValue(iss.input)}`;
    case 'too_small':
    case 'too_big': {
      const [limit, word] = iss.code === 'too_small' ? [iss.minimum, 'least'] : [iss.maximum, 'most'];
      if (iss.origin === 'string' && iss.code === 'too_small' && limit === 1) return 'must not be empty';
      if (iss.origin === 'array') return `must have at ${word} ${limit} ${limit === 1 ? 'entry' : 'entries'}`;
      if (iss.origin === 'string') return `must be at ${word} ${limit} characters long`;
      const bound = iss.inclusive ? `at ${word} ${limit}` : `${iss.code === 'too_small' ? 'greater' : 'less'} than ${limit}`;
      return `must be ${bound}, got ${describeValue(iss.input)}`;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => (typeof v === 'string' ? quote(v) : String(v))).join(', ')}, got ${describeValue(iss.input)}`;
    default:
      return undefined;
  }
};

type Path = readonly PropertyKey[];

/** "raft.electionTimeoutMs", "peers[1].address"; '' for the top level. */
export function formatPath(path: Path): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/** One problem per issue, and one per unknown field (with a suggestion when a known name is close). */
export function toProblems(error: z.ZodError, schema: z.core.$ZodType): ConfigProblem[] {
  return error.issues.flatMap((iss): ConfigProblem[] => {
    if (iss.code !== 'unrecognized_keys') return [{ path: formatPath(iss.path), message: iss.message }];
    const known = fieldsAt(schema, iss.path);
    return iss.keys.map((key) => {
      const guess = closest(key, known);
      return { path: formatPath([...iss.path, key]), message: `unknown field${guess ? ` (did you mean ${quote(guess)}?)` : ''}` };
    });
  });
}

/** The field names of the object schema found at `path` inside `schema`. */
function fieldsAt(schema: z.core.$ZodType, path: Path): string[] {
  let def = (schema as z.core.$ZodTypes)._zod.def;
  const rest = [...path];
  for (;;) {
    switch (def.type) {
      case 'default':
      case 'prefault':
      case 'optional':
        def = (def.innerType as z.core.$ZodTypes)._zod.def;
        break;
      case 'pipe':
        def = (def.in as z.core.$ZodTypes)._zod.def;
        break;
      case 'array':
        rest.shift();
        def = (def.element as z.core.$ZodTypes)._zod.def;
        break;
      case 'object': {
        if (rest.length === 0) return Object.keys(def.shape);
        const field = def.shape[String(rest.shift())];
        if (!field) return [];
        def = (field as z.core.$ZodTypes)._zod.def;
        break;
      }
      default:
        return [];
    }
  }
}

/** The candidate nearest to `word` by edit distance (ignoring case), if it is close enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
