#!/usr/bin/env node
// Generates the TypeScript declarations of the WIT contract (types/wit/) with jco's type
// generator, so that they stay in step with ../../wit. `--check` fails if the committed
// declarations differ from what the WIT generates (run by the SDK's tests and CI).
//
// The WIT folder is passed as source text: jco's file access goes through a WASI shim that
// no longer grants it the file system (the same reason `jco componentize` fails here).

import { generateTypes, $init } from '@bytecodealliance/jco-transpile/component';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WIT_DIR = resolve(SDK_DIR, '../../wit');
const OUT_DIR = join(SDK_DIR, 'types', 'wit');

/** The WIT package as one source text: the `package` line once, then every file. */
export function witSource(dir = WIT_DIR) {
  let pkg = '';
  let body = '';
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wit')).sort()) {
    let text = readFileSync(join(dir, file), 'utf8');
    const line = text.match(/^package [^;]+;[ \t]*$/m);
    if (line) {
      pkg = line[0];
      text = text.replace(line[0], '');
    }
    body += `\n${text}`;
  }
  return `${pkg}\n${body}`;
}

export async function generate() {
  await $init;
  const files = generateTypes('weir', {
    wit: { tag: 'source', val: witSource() },
    world: 'transformer',
    guest: true,
    features: { tag: 'list', val: [] },
    tlaCompat: false,
  });
  const decoder = new TextDecoder();
  return files.map(([name, bytes]) => [name, decoder.decode(bytes)]);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = [];
  mkdirSync(OUT_DIR, { recursive: true });
  for (const [name, text] of await generate()) {
    const path = join(OUT_DIR, name);
    mkdirSync(dirname(path), { recursive: true });
    if (check) {
      let current = '';
      try {
        current = readFileSync(path, 'utf8');
      } catch {}
      if (current !== text) stale.push(name);
    } else {
      writeFileSync(path, text);
    }
  }
  if (stale.length) {
    console.error(`types/wit is out of step with the WIT (${stale.join(', ')}): run \`npm run types\``);
    process.exit(1);
  }
}
