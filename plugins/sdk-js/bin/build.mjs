#!/usr/bin/env node
// weir-build-js: turns a plugin module into a weir:transform@0.3.0 WebAssembly component.
//
//   weir-build-js src/plugin.js -o plugin.wasm [--wit DIR] [--enable stdio,clocks,random]
//
// The module's default export is the plugin (see the SDK's README). The build stages the
// module's folder next to a copy of the SDK, points `@weir/sdk` imports at that copy,
// adds the generated `transform` export and runs componentize-js with every WASI feature
// weir does not grant switched off, so the component imports nothing weir denies.

import { componentize } from '@bytecodealliance/componentize-js';
import { init, parse } from 'es-module-lexer';
import { cpSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SDK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The contract, from the weir checkout this SDK belongs to. */
const DEFAULT_WIT = resolve(SDK_DIR, '../../wit');
/** Every feature componentize-js can switch off. weir grants none of them by default. */
const FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];
const SDK_IMPORT = '@weir/sdk';

function usage(message) {
  console.error(`${message}\nusage: weir-build-js ENTRY.js -o OUT.wasm [--wit DIR] [--enable FEATURE,...]`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = { entry: undefined, out: undefined, wit: DEFAULT_WIT, enable: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '-o' || arg === '--out') args.out = value();
    else if (arg === '--wit') args.wit = value();
    else if (arg === '--enable') args.enable = value().split(',').filter(Boolean);
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (args.entry === undefined) args.entry = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (!args.entry || !args.out) usage('ENTRY and -o OUT are required');
  for (const f of args.enable) {
    if (!FEATURES.includes(f)) usage(`unknown feature ${f}; known: ${FEATURES.join(', ')}`);
  }
  return args;
}

/** Rewrites `@weir/sdk` import specifiers in every module under `dir` to `sdkEntry`. */
function pointImportsAtSdk(dir, sdkEntry) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) {
      pointImportsAtSdk(path, sdkEntry);
      continue;
    }
    if (!/\.m?js$/.test(name)) continue;
    const source = readFileSync(path, 'utf8');
    const [imports] = parse(source, path);
    let out = '';
    let last = 0;
    for (const imp of imports) {
      if (imp.n !== SDK_IMPORT) continue;
      let target = relative(dirname(path), sdkEntry);
      if (!target.startsWith('.')) target = `./${target}`;
      out += source.slice(last, imp.s) + target;
      last = imp.e;
    }
    if (last > 0) writeFileSync(path, out + source.slice(last));
  }
}

export async function build({ entry, out, wit = DEFAULT_WIT, enable = [] }) {
  const entryPath = resolve(entry);
  const stage = mkdtempSync(join(tmpdir(), 'weir-build-js-'));
  try {
    cpSync(dirname(entryPath), join(stage, 'plugin'), {
      recursive: true,
      filter: (src) => basename(src) !== 'node_modules',
    });
    cpSync(join(SDK_DIR, 'src'), join(stage, 'weir-sdk'), { recursive: true });
    await init;
    pointImportsAtSdk(join(stage, 'plugin'), join(stage, 'weir-sdk', 'index.js'));
    writeFileSync(
      join(stage, 'entry.js'),
      [
        `import { write } from 'weir:transform/log@0.3.0';`,
        `import { exportPlugin } from './weir-sdk/index.js';`,
        `import definition from './plugin/${basename(entryPath)}';`,
        `export const transform = exportPlugin(definition, write);`,
        '',
      ].join('\n'),
    );
    const { component } = await componentize({
      sourcePath: join(stage, 'entry.js'),
      witPath: resolve(wit),
      worldName: 'transformer',
      disableFeatures: FEATURES.filter((f) => !enable.includes(f)),
    });
    writeFileSync(resolve(out), component);
    return component.length;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  try {
    const size = await build(args);
    console.error(`built ${args.out} (${(size / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`weir-build-js: ${e.stack ?? e}`);
    process.exit(1);
  }
}
