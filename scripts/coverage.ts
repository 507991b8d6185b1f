/**
 * `npm run coverage [-- <jest args>]`: runs the jest suite once and measures line and branch
 * coverage of lib/, server.ts and workers/, wherever the tests run that code:
 *
 * - inside jest (ts-jest, vm modules): jest's own V8 coverage, put on .ts lines through ts-jest's
 *   source maps (`--coverage --coverageProvider=v8`, json reporter → coverage/jest/);
 * - in the server and worker processes the tests start (`node --import tsx …`): NODE_V8_COVERAGE,
 *   which they inherit and write when they exit (coverage/v8/), put on .ts lines through the
 *   source maps of tsx and, for the lib/ code the route handlers run, of `next build`.
 *
 * The two are merged line by line into coverage/ (coverage.txt, html/, coverage-final.json).
 * Exits non-zero when jest fails or lines fall below COVERAGE_MIN_LINES (default 85).
 * COVERAGE_REPORT_ONLY=1 reports again from the data of the last run, without running jest.
 *
 * Like `npm test` it needs Chromium, the FerretDB binary and a `next build` (see scripts/test.sh).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eachMapping, FlattenMap, type SourceMapInput } from '@jridgewell/trace-mapping';
import libCoverage, { type CoverageMapData, type FileCoverageData } from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';
import v8ToIstanbul from 'v8-to-istanbul';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT = path.join(ROOT, 'coverage');
const V8_DIR = path.join(OUT, 'v8'); // one file per child process (or thread) that exits
const SOURCES = ['lib/**/*.ts', 'server.ts', 'workers/**/*.ts'];
const MIN_LINES = Number(process.env.COVERAGE_MIN_LINES ?? 85);

/** A path, or a file: URL as source maps in Node's cache have them. */
const toPath = (file: string) => (file.startsWith('file:') ? fileURLToPath(file) : file);
/** Whether a file is one of SOURCES. */
const isMeasured = (file: string) => /^(lib|workers)\/.+\.ts$|^server\.ts$/.test(path.relative(ROOT, toPath(file)));

let jestCode = 0;
if (!process.env.COVERAGE_REPORT_ONLY) jestCode = await runJest(process.argv.slice(2));
const map = libCoverage.createCoverageMap(readJson(path.join(OUT, 'jest/coverage-final.json')));
map.merge(await childProcessCoverage());
report(map);

const { lines, branches } = map.getCoverageSummary();
console.log(`\nlines ${lines.pct}% (${lines.covered}/${lines.total}), branches ${branches.pct}% (${branches.covered}/${branches.total})`);
console.log('per file: coverage/coverage.txt, coverage/html/index.html');
if (lines.pct < MIN_LINES) {
  console.error(`coverage: lines ${lines.pct}% is below the minimum of ${MIN_LINES}% (COVERAGE_MIN_LINES)`);
  process.exit(1);
}
process.exit(jestCode);

/** The suite as `npm test` runs it, plus jest's coverage of the code that runs inside jest. */
async function runJest(args: string[]): Promise<number> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(V8_DIR, { recursive: true });
  const started = Date.now();
  const jestArgs = ['--runInBand', '--coverage', '--coverageProvider=v8', '--coverageReporters=json'];
  jestArgs.push(`--coverageDirectory=${path.join(OUT, 'jest')}`, ...SOURCES.flatMap((glob) => ['--collectCoverageFrom', glob]));
  const jest = spawn(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), ...jestArgs, ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules'].filter(Boolean).join(' '),
      NEXT_TELEMETRY_DISABLED: '1',
      NODE_V8_COVERAGE: V8_DIR, // inherited by every process the tests start
    },
  });
  const code = await new Promise<number>((resolve) => jest.on('exit', (exitCode) => resolve(exitCode ?? 1)));
  console.log(`\njest: exit code ${code} after ${Math.round((Date.now() - started) / 1000)} s`);
  // jest's own process wrote a file too, where lib/*.ts is ts-jest's output run in vm modules,
  // with no source map that Node knows of: it would land on the wrong lines. jest measured it.
  for (const file of readdirSync(V8_DIR)) {
    if (file.startsWith(`coverage-${jest.pid}-`)) rmSync(path.join(V8_DIR, file));
  }
  return code;
}

type FunctionCoverage = Parameters<ReturnType<typeof v8ToIstanbul>['applyCoverage']>[0][number];
interface ScriptCoverage {
  url: string;
  functions: FunctionCoverage[];
}
interface CachedSourceMap {
  lineLengths: number[];
  data: (SourceMapInput & { sources?: string[] }) | null;
}

/** The files in coverage/v8 as coverage of the .ts files, through each script's source map. */
async function childProcessCoverage(): Promise<CoverageMapData> {
  const map = libCoverage.createCoverageMap();
  for (const file of readdirSync(V8_DIR)) {
    const dump = readJson(path.join(V8_DIR, file)) as { result: ScriptCoverage[]; 'source-map-cache'?: Record<string, CachedSourceMap> };
    const sourceMaps = new Map(Object.entries(dump['source-map-cache'] ?? {}).map(([url, cached]) => [toPath(url), cached]));
    for (const script of dump.result) {
      if (!script.url.startsWith('file:') || script.url.includes('/node_modules/')) continue;
      const scriptPath = fileURLToPath(script.url);
      const cached = sourceMaps.get(scriptPath);
      if (!cached?.data) continue; // not compiled from .ts (next.config.mjs, Next's own code)
      if (isMeasured(scriptPath)) map.merge(await tsxCoverage(scriptPath, script, cached));
      else map.merge(bundleCoverage(script, cached));
    }
  }
  return map.data;
}

/** A .ts file run through tsx: one file, one source map, code that is not minified. */
async function tsxCoverage(scriptPath: string, script: ScriptCoverage, cached: CachedSourceMap): Promise<CoverageMapData> {
  // The file on disk is the .ts source; Node recorded the compiled code's line lengths, and
  // the converter needs nothing more of that code.
  const compiled = cached.lineLengths.map((length) => '.'.repeat(length)).join('\n');
  const sources = { source: compiled, originalSource: '', sourceMap: { sourcemap: cached.data! } };
  const converter = v8ToIstanbul(scriptPath, 0, sources, (file) => !isMeasured(file));
  await converter.load();
  converter.applyCoverage(script.functions);
  return converter.toIstanbul();
}

/**
 * A bundle of `next build` (or of the dev server): minified code from many files, which
 * v8-to-istanbul puts on the wrong files and lines. Here a line of SOURCES counts as run as
 * often as the start of its code in the bundle did (the smallest block V8 reported around
 * it). Lines only: blocks in minified code make no useful branches.
 */
function bundleCoverage(script: ScriptCoverage, cached: CachedSourceMap): CoverageMapData {
  const lineStarts = [0];
  for (const length of cached.lineLengths) lineStarts.push(lineStarts.at(-1)! + length + 1);
  // file → line → where the line's code starts: its first column, at these offsets in the bundle
  const starts = new Map<string, Map<number, { column: number; offsets: number[] }>>();
  eachMapping(new FlattenMap(cached.data!), ({ source, originalLine, originalColumn, generatedLine, generatedColumn }) => {
    if (source === null || !isMeasured(source)) return;
    const file = toPath(source);
    const offset = lineStarts[generatedLine - 1] + generatedColumn;
    if (!starts.has(file)) starts.set(file, new Map());
    const start = starts.get(file)!.get(originalLine);
    if (!start || originalColumn < start.column) starts.get(file)!.set(originalLine, { column: originalColumn, offsets: [offset] });
    else if (originalColumn === start.column) start.offsets.push(offset); // the same code, inlined twice
  });
  const blocks = script.functions.flatMap((fn) => fn.ranges);
  const countAt = (offset: number) => {
    let smallest: (typeof blocks)[number] | undefined;
    for (const block of blocks) {
      if (block.startOffset <= offset && offset < block.endOffset && (!smallest || block.endOffset - block.startOffset < smallest.endOffset - smallest.startOffset)) smallest = block;
    }
    return smallest?.count ?? 0;
  };
  const coverage: CoverageMapData = {};
  for (const [file, lines] of starts) {
    const sourceLines = readFileSync(file, 'utf8').split(/\r?\n/);
    const fileCoverage: FileCoverageData = { path: file, statementMap: {}, s: {}, fnMap: {}, f: {}, branchMap: {}, b: {} };
    for (const [line, { offsets }] of lines) {
      // The same location as v8-to-istanbul's line statements, so that the maps merge.
      fileCoverage.statementMap[line] = { start: { line, column: 0 }, end: { line, column: sourceLines[line - 1]?.length ?? 0 } };
      fileCoverage.s[line] = Math.max(...offsets.map(countAt));
    }
    coverage[file] = fileCoverage;
  }
  return coverage;
}

function report(coverageMap: libCoverage.CoverageMap): void {
  const context = libReport.createContext({ dir: OUT, coverageMap });
  reports.create('json', { file: 'coverage-final.json' }).execute(context);
  reports.create('text', { file: 'coverage.txt' }).execute(context);
  reports.create('html', { subdir: 'html' }).execute(context);
  reports.create('text-summary').execute(context);
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}
