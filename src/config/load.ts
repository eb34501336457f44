// Reading a store node's YAML configuration: text -> YAML -> validated StoreConfig, with every
// failure (unreadable file, YAML syntax, invalid fields) reported as one ConfigError.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from './errors.js';
import { configErrorMap, toProblems } from './issues.js';
import { type StoreConfig, storeConfigSchema } from './store-config.js';

export { ConfigError, type ConfigProblem } from './errors.js';

/**
 * Parses and validates a configuration. `source` names the text in error messages; a relative
 * `dataDir` is resolved against `baseDir`. Throws ConfigError listing every problem found.
 */
export function parseStoreConfig(text: string, source = '<inline>', baseDir = process.cwd()): StoreConfig {
  const document = parseYaml(text, source) ?? {}; // an empty file: report the required fields
  const result = storeConfigSchema.safeParse(document, { error: configErrorMap });
  if (!result.success) throw new ConfigError(source, toProblems(result.error, storeConfigSchema));
  return { ...result.data, dataDir: resolve(baseDir, result.data.dataDir) };
}

/** Reads and validates the configuration file at `path`; a relative `dataDir` is taken from the file's directory. */
export async function loadStoreConfig(path: string): Promise<StoreConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read the configuration file: ${(err as Error).message}` }], { cause: err });
  }
  return parseStoreConfig(text, path, dirname(resolve(path)));
}

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `line ${line}, column ${col}: YAML syntax error: ${e.message}` };
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // e.g. an alias to an anchor that does not exist
    throw new ConfigError(source, [{ path: '', message: `YAML error: ${(err as Error).message}` }], { cause: err });
  }
}
