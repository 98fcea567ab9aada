// The last step of the release build, on target/site/pkg (what phones fetch).
// 1. cargo-leptos minifies the app's JS glue but writes the WASM split loader
//    (__wasm_split.*.js) as generated: a comment listing the lazy functions
//    above each of its ~80 chunks, a note on its loader, and indentation.
//    Every first page load fetches it, within the shell's brotli budget, so
//    whole-line comments and indentation go (about 530 B brotli). Its loader
//    calls fetch() for every chunk a lazy function needs in one go: the sync
//    code's ~36 chunks held a 4x slower phone's main thread for ~150 ms. The
//    loader is made to yield to the browser after each chunk's fetch, so
//    taps and paints run between them; the fetches still overlap.
// 2. Its precompressed copies are made again with the reference brotli
//    (Node's zlib, quality 11), which packs the main WASM 500–800 B tighter
//    than cargo-leptos' precompression; a copy is replaced only when smaller.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const pkg = process.argv[2];
// Brotli's mode and block size change the main WASM's size by ~300 B, and
// which setting wins depends on the bytes (wasm-bindgen's names differ with
// the checkout's path): large files try a few and keep the smallest.
const SETTINGS = [[constants.BROTLI_MODE_GENERIC, 0], [constants.BROTLI_MODE_GENERIC, 16],
  [constants.BROTLI_MODE_FONT, 0], [constants.BROTLI_MODE_FONT, 16], [constants.BROTLI_MODE_FONT, 18],
  [constants.BROTLI_MODE_TEXT, 16]];
const brotli = (bytes) => {
  const tries = bytes.length > 100_000 ? SETTINGS : SETTINGS.slice(0, 1);
  return tries
    .map(([mode, block]) => brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_MODE]: mode,
        [constants.BROTLI_PARAM_LGBLOCK]: block,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }))
    .reduce((best, packed) => (packed.length < best.length ? packed : best));
};

// The loader's line that starts every dependency's fetch at once; the build
// fails if a new wasm-split writes it differently, rather than ship unchanged.
const ALL_AT_ONCE = 'const parallelStuff = deps.map(d => d());';
const ONE_BY_ONE = 'const parallelStuff = [];\nfor (const d of deps) { parallelStuff.push(d()); await pause(); }';
// scheduler.yield() resumes ahead of other queued work; setTimeout where it is missing.
const PAUSE = 'const pause = () => globalThis.scheduler?.yield ? scheduler.yield() : new Promise(r => setTimeout(r));\n';
const staggered = (text) => {
  if (text.includes(ONE_BY_ONE)) return text; // packed already
  if (!text.includes(ALL_AT_ONCE)) throw new Error(`pack-pkg: the split loader has no "${ALL_AT_ONCE}"`);
  return text.replace(ALL_AT_ONCE, ONE_BY_ONE).replace('function makeLoad(', `${PAUSE}function makeLoad(`);
};

for (const name of readdirSync(pkg).filter((f) => /^__wasm_split\..*\.js$/.test(f))) {
  const file = join(pkg, name);
  const text = staggered(readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\/\*.*\*\/\s*|\/\/.*)$/.test(line))
    .map((line) => line.trimStart())
    .join('\n'));
  writeFileSync(file, text);
  writeFileSync(`${file}.gz`, gzipSync(text, { level: 9 }));
  writeFileSync(`${file}.br`, brotli(Buffer.from(text)));
}

for (const name of readdirSync(pkg).filter((f) => /\.(wasm|js|css)$/.test(f))) {
  const file = join(pkg, name);
  let before;
  try {
    before = statSync(`${file}.br`).size;
  } catch {
    continue; // not precompressed by the build: served as is
  }
  const packed = brotli(readFileSync(file));
  if (packed.length < before) writeFileSync(`${file}.br`, packed);
}
