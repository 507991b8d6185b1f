/**
 * dependency-cruiser rules for this repo's layers (folders say who runs the code).
 *
 *   lib/util/            neutral helpers, below everyone
 *   lib/domain/          browser-safe rules: job type, statuses, state machine, errors, events, schemas
 *   lib/engine/          the download engine: knows no jobs, queues, rooms or UI
 *   lib/infra/           node-side pieces both processes use (config, logger, store, queue, control)
 *   lib/job-events/      the job-events port
 *   lib/shared-context.ts  builder shared by both composition roots
 *   lib/server/          server side (Next route handlers, socket.io, SSE)
 *   lib/browser/, components/, hooks/   browser code
 *   workers/             the download worker process
 *   app/, server.ts      Next app and the server composition root
 *
 * Paths are relative to the repo root (run from there). `to.path` of an npm
 * package is its resolved file (node_modules/<package>/...); of a node builtin
 * it is the bare name (node:fs resolves to fs) with dependencyTypes ['core'].
 *
 * Run: npm run lint:deps, or the unit test tests/unit/architecture.test.ts (part of npm test).
 * Pinned to 17.x: the last line that supports Node 20.
 * Docs: https://github.com/sverweij/dependency-cruiser/blob/main/doc/rules-reference.md
 */

/** Top-level code outside lib/ that no lib/ module may reach back into. */
const APP_LAYERS = '^(workers/|app/|components/|hooks/|server\\.ts$)';

/** Packages that only make sense in a node process (database, redis, queue, realtime server, logger). */
const SERVER_PACKAGES =
  '^node_modules/(mongodb|ioredis|bullmq|socket\\.io|pino|@socket\\.io/redis-[^/]+)/';

/** Everything the engine must stay ignorant of: jobs, queues, rooms, storage. */
const ENGINE_FORBIDDEN_PACKAGES =
  '^node_modules/(bullmq|socket\\.io[^/]*|@socket\\.io/[^/]+|engine\\.io[^/]*|mongodb|ioredis)/';

/** The only npm packages lib/domain/ may use; add a package here only if it is browser-safe. */
const DOMAIN_PACKAGES = ['^node_modules/zod/'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- whole graph -------------------------------------------------------
    {
      name: 'no-circular',
      comment: 'Cycles make load order fragile and hide which layer owns what; invert one edge.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve (typo, missing package, broken @/ alias) would slip past every layer rule.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },

    // ---- lib/ never reaches up into the processes or the UI ---------------
    {
      name: 'lib-not-to-app-layers',
      comment: 'lib/ is shared building blocks; workers/, app/, components/, hooks/ and server.ts sit on top of it, never below.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: APP_LAYERS },
    },

    // ---- lib/util ----------------------------------------------------------
    {
      name: 'util-only-util',
      comment: 'lib/util/ is the bottom layer: helpers usable by everyone must not depend on any other lib folder.',
      severity: 'error',
      from: { path: '^lib/util/' },
      to: { path: '^lib/', pathNot: '^lib/util/' },
    },

    // ---- lib/domain --------------------------------------------------------
    {
      name: 'domain-only-domain-and-util',
      comment: 'lib/domain/ is browser-safe rules; it may only build on lib/domain/ and lib/util/.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { path: '^lib/', pathNot: '^lib/(domain|util)/' },
    },
    {
      name: 'domain-no-node-builtins',
      comment: 'lib/domain/ is bundled for the browser, where node:* builtins do not exist.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'domain-only-browser-safe-packages',
      comment: 'lib/domain/ runs in the browser: only allow-listed browser-safe packages (zod), never mongodb/ioredis/bullmq/socket.io/pino.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { path: '^node_modules/', pathNot: DOMAIN_PACKAGES },
    },

    // ---- lib/engine --------------------------------------------------------
    {
      name: 'engine-only-engine-and-util',
      comment: 'The download engine knows no jobs, queues, rooms or UI: inside lib/ it may only use lib/engine/ and lib/util/.',
      severity: 'error',
      from: { path: '^lib/engine/' },
      to: { path: '^lib/', pathNot: '^lib/(engine|util)/' },
    },
    {
      name: 'engine-no-job-packages',
      comment: 'The download engine must not know about queues (bullmq), rooms (socket.io) or storage (mongodb, ioredis).',
      severity: 'error',
      from: { path: '^lib/engine/' },
      to: { path: ENGINE_FORBIDDEN_PACKAGES },
    },

    // ---- lib/infra ---------------------------------------------------------
    {
      name: 'infra-not-to-upper-lib',
      comment: 'lib/infra/ is used by both processes and by the job-events port; it must not depend on lib/job-events/, lib/server/ or lib/browser/.',
      severity: 'error',
      from: { path: '^lib/infra/' },
      to: { path: '^lib/(job-events|server|browser)/' },
    },

    // ---- lib/job-events ----------------------------------------------------
    {
      name: 'job-events-not-to-server-or-browser',
      comment: 'The job-events port is shared by server and worker; it must not depend on lib/server/ or lib/browser/.',
      severity: 'error',
      from: { path: '^lib/job-events/' },
      to: { path: '^lib/(server|browser)/' },
    },

    // ---- lib/shared-context.ts ----------------------------------------------
    {
      name: 'shared-context-not-to-server-or-browser',
      comment: 'lib/shared-context.ts is built by both composition roots (server and worker); it must not depend on lib/server/ or lib/browser/.',
      severity: 'error',
      from: { path: '^lib/shared-context\\.ts$' },
      to: { path: '^lib/(server|browser)/' },
    },

    // ---- lib/server --------------------------------------------------------
    {
      name: 'server-not-to-browser',
      comment: 'lib/server/ runs in node; browser code (lib/browser/) is not importable from it.',
      severity: 'error',
      from: { path: '^lib/server/' },
      to: { path: '^lib/browser/' },
    },

    // ---- browser: lib/browser, components, hooks ---------------------------
    {
      name: 'browser-not-to-server-code',
      comment: 'Browser code must not pull server-only modules (lib/server, lib/infra, lib/job-events, lib/engine, lib/shared-context.ts, workers/, server.ts) into the client bundle.',
      severity: 'error',
      from: { path: '^(lib/browser|components|hooks)/' },
      to: {
        path: '^(lib/(server|infra|job-events|engine)/|lib/shared-context\\.ts$|workers/|server\\.ts$)',
      },
    },
    {
      name: 'browser-no-node-builtins',
      comment: 'Browser code runs in the browser, where node:* builtins do not exist.',
      severity: 'error',
      from: { path: '^(lib/browser|components|hooks)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'browser-no-server-packages',
      comment: 'Browser code must not bundle node-only packages (mongodb, ioredis, bullmq, socket.io server, pino); socket.io-client is fine.',
      severity: 'error',
      from: { path: '^(lib/browser|components|hooks)/' },
      to: { path: SERVER_PACKAGES },
    },

    // ---- workers -----------------------------------------------------------
    {
      name: 'workers-not-to-web',
      comment: 'The worker is a plain node process: no Next.js, no app/, components/, hooks/, lib/server/ or lib/browser/.',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: '^(node_modules/next/|app/|components/|hooks/|lib/(server|browser)/)' },
    },
  ],

  options: {
    // Record imports of npm packages (the package rules above match their resolved
    // node_modules/... path) but never cruise into them.
    doNotFollow: { path: ['node_modules'] },
    // Build output and coverage are never source. node_modules is deliberately NOT
    // excluded here: `exclude` drops matching modules as dependencies too, which would
    // silently blind every rule about npm packages (zod allow-list, mongodb, bullmq...).
    exclude: { path: '(^|/)(\\.next|coverage)/' },

    // Count `import type` and other imports that vanish in compiled JS: a type-only
    // import of server code from components/ is still a layering error.
    tsPreCompilationDeps: true,

    // Resolve the `@/*` paths alias (and the rest of compilerOptions) from tsconfig.
    tsConfig: { fileName: 'tsconfig.json' },

    // process.getBuiltinModule('fs') is a builtin import too.
    detectProcessBuiltinModuleCalls: true,

    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.jsx', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },

    // Only run the analyses the rules above need (faster).
    skipAnalysisNotInRules: true,
  },
};
