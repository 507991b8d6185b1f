import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { cruise, type DependencyType, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

/**
 * Runs dependency-cruiser with .dependency-cruiser.cjs over the same folders as
 * `npm run lint:deps` and fails on any violation of the layer rules (see the config
 * for the rules and why each exists).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const CRUISED = ['lib', 'workers', 'app', 'components', 'hooks', 'server.ts'];

function describeViolation(v: IViolation): string {
  const line = `  [${v.rule.name}] ${v.from} → ${v.to}`;
  if (v.cycle?.length) return `${line}\n      cycle: ${[v.from, ...v.cycle.map((step) => step.name)].join(' → ')}`;
  if (v.via?.length) return `${line}\n      via: ${v.via.map((step) => step.name).join(' → ')}`;
  return line;
}

async function cruiseRepo(): Promise<ICruiseResult> {
  const options = await extractDepcruiseOptions(path.join(ROOT, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(path.join(ROOT, 'tsconfig.json'));
  const result = await cruise(
    CRUISED,
    { ...options, baseDir: ROOT, validate: true },
    options.enhancedResolveOptions ?? {},
    { tsConfig },
  );
  // With no outputType the "identity" reporter hands back the result object itself.
  return result.output as ICruiseResult;
}

/** Dependency kinds a healthy cruise of this repo must contain, and what their absence means. */
const EXPECTED_KINDS: [kind: DependencyType, ifMissing: string][] = [
  ['aliased-tsconfig-paths', 'no `@/` import resolved: tsconfig paths are not being applied'],
  ['npm', 'no npm package seen: node_modules is excluded or unresolved, so the package rules are blind'],
  ['core', 'no node builtin seen: the builtin rules are blind'],
  ['type-only', 'no `import type` seen: tsPreCompilationDeps is off, so type-only imports escape the rules'],
];

describe('architecture: layer rules (.dependency-cruiser.cjs)', () => {
  let result: ICruiseResult;

  beforeAll(async () => {
    result = await cruiseRepo();
  });

  it('sees the whole graph (otherwise every rule would pass vacuously)', () => {
    const problems: string[] = [];
    if (result.summary.totalCruised < 50) problems.push(`only ${result.summary.totalCruised} modules cruised`);
    const kinds = new Set(result.modules.flatMap((m) => m.dependencies.flatMap((d) => d.dependencyTypes)));
    for (const [kind, ifMissing] of EXPECTED_KINDS) if (!kinds.has(kind)) problems.push(ifMissing);
    expect(problems).toEqual([]);
  });

  it('has no dependency that breaks a layer rule, and no cycle', () => {
    const { violations } = result.summary;
    const report = violations.map(describeViolation).join('\n');
    expect(`${violations.length} violation(s)\n${report}`).toBe('0 violation(s)\n');
  });
});
