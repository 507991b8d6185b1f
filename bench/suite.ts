/**
 * `npm run bench`: the benchmark suite. Each scenario runs the app's own path and a reference
 * in the same run, in alternating rounds, and checks ratios against its goals; the suite exits 1
 * when a goal is missed. `BENCH_QUICK=1` is a short smoke run (part of `npm test`);
 * `BENCH_ONLY=name,name` picks scenarios; a full run of every scenario writes bench/RESULTS.md.
 *
 * Loopback only: every server a scenario dials is one it started on 127.0.0.1.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeCheck, met, type Check, type Scenario, type ScenarioResult } from './harness';
import { activeDownloads } from './scenarios/active-downloads';
import { firstProgress } from './scenarios/first-progress';
import { idleSockets } from './scenarios/idle-sockets';
import { smallJobs } from './scenarios/small-jobs';
import { verifiedFile } from './scenarios/verified-file';
import { watchers } from './scenarios/watchers';

const SCENARIOS: Scenario[] = [verifiedFile, idleSockets, smallJobs, watchers, activeDownloads, firstProgress];

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function resultsMarkdown(results: Array<[Scenario, ScenarioResult]>): string {
  const rows = results.flatMap(([scenario, result]) =>
    result.checks.map((check) => `| ${scenario.name} | ${describeCheck(check).replace(/\|/g, '\\|')} | ${met(check) ? 'met' : '**missed**'} |`),
  );
  const details = results.map(([scenario, result]) => `### ${scenario.name}\n\n${scenario.title}.\n\n\`\`\`\n${result.lines.join('\n')}\n\`\`\``);
  return [
    '# Benchmark results',
    '',
    `Latest full run of \`npm run bench\`, ${new Date().toISOString().slice(0, 10)}, on ${machine()}.`,
    'Every figure is a ratio to a reference measured in the same run (see the README).',
    '',
    '| scenario | goal | verdict |',
    '|---|---|---|',
    ...rows,
    '',
    ...details,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const quick = process.env.BENCH_QUICK === '1';
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
  const chosen = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  if (chosen.length === 0) throw new Error(`No scenario named ${only?.join(', ')}; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  console.log(`Benchmark suite${quick ? ' (quick smoke run: outcomes judged, ratios shown)' : ''} on ${machine()}`);
  // A quick run shares a busy machine with the tests: speed is shown, not judged.
  const judged = (check: Check) => !quick || check.kind === 'outcome';

  const results: Array<[Scenario, ScenarioResult]> = [];
  for (const scenario of chosen) {
    console.log(`\n== ${scenario.name}: ${scenario.title}`);
    const result = await scenario.run({ quick });
    for (const line of result.lines) console.log(`   ${line}`);
    for (const check of result.checks) console.log(`${met(check) ? 'ok  ' : judged(check) ? 'MISS' : 'miss (not judged in a quick run)'} ${describeCheck(check)}`);
    results.push([scenario, result]);
  }

  const missed = results.flatMap(([scenario, result]) => result.checks.filter((check) => judged(check) && !met(check)).map((check) => `${scenario.name}: ${check.label}`));
  console.log(missed.length === 0 ? '\nEvery goal met.' : `\nMissed:\n  ${missed.join('\n  ')}`);
  if (!quick && !only) {
    await writeFile(path.join(import.meta.dirname, 'RESULTS.md'), resultsMarkdown(results));
    console.log('Wrote bench/RESULTS.md.');
  }
  process.exitCode = missed.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
