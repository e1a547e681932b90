/**
 * The one bundling configuration every function shares, and the runtime it targets.
 *
 * NodejsFunction turns BUNDLING into esbuild command-line flags at synth time; esbuildOptionsFor()
 * maps the same object into esbuild's BuildOptions, so a benchmark (or anything else) that builds
 * a handler with plain esbuild gets the very bundle that is deployed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { buildSync, version as esbuildVersion, type BuildOptions, type Format } from 'esbuild';

/** The newest Node.js runtime aws-cdk-lib offers (cdk-nag's AwsSolutions-L1 wants the latest). */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

/** esbuild target for the runtime, e.g. `node24`: the syntax the runtime runs natively is left as is. */
function esbuildTarget(runtime: Runtime): string {
  const major = /^nodejs(\d+)/.exec(runtime.name)?.[1];
  if (!major) throw new Error(`not a Node.js runtime: ${runtime.name}`);
  return `node${major}`;
}

/**
 * ESM code may not call `require`, yet some CommonJS dependencies bundled into it do (e.g. of Node
 * built-ins). The banner defines a real `require` for them. The import is aliased so it cannot
 * collide with a `createRequire` import that esbuild itself emits for bundled code.
 */
const CREATE_REQUIRE_BANNER =
  "import { createRequire as __bannerCreateRequire } from 'node:module'; const require = __bannerCreateRequire(import.meta.url);";

export const BUNDLING = {
  // ESM: smaller than CommonJS output, and dependencies' ESM builds tree-shake better.
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  target: esbuildTarget(LAMBDA_RUNTIME),
  minify: true,
  // Stack traces point at the TypeScript sources (the function sets NODE_OPTIONS=--enable-source-maps).
  // Mappings are enough for that; leaving the sources out keeps the .map (which covers the SDK) small.
  sourceMap: true,
  sourcesContent: false,
  // Nothing is external: @aws-sdk/* is bundled, so the deployed code runs the SDK version we tested
  // with, not whichever copy the runtime happens to ship.
  externalModules: [],
} satisfies BundlingOptions;

const ESBUILD_FORMAT = { [OutputFormat.CJS]: 'cjs', [OutputFormat.ESM]: 'esm' } as const satisfies Record<OutputFormat, Format>;

/**
 * The esbuild options NodejsFunction derives from BUNDLING, for building `entry` with plain esbuild.
 * Write the result to a `.mjs` file (NodejsFunction writes `index.mjs`) so Node loads it as ESM.
 */
export function esbuildOptionsFor(entry: string): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: ESBUILD_FORMAT[BUNDLING.format],
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    external: [...BUNDLING.externalModules],
  };
}

/**
 * What a function's bundle is made of, as one hash: the contents of every project file its entry
 * imports (found by esbuild, which reads only our sources here: packages stay external, so this
 * takes milliseconds), tsconfig.json, package-lock.json (every package's version) and esbuild's
 * version. NodejsFunction takes it as the asset hash (CDK adds the bundling options to it) and skips
 * esbuild when cdk.out already holds that asset: `cdk synth` rebuilds only the functions whose
 * inputs changed. A package edited in node_modules by hand is not seen; `npm ci` restores them.
 */
export function bundleInputHash(entry: string, projectRoot: string): string {
  const { metafile } = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    absWorkingDir: projectRoot,
  });
  const files = [...Object.keys(metafile.inputs), 'tsconfig.json', 'package-lock.json'].sort();
  const hash = createHash('sha256').update(`esbuild ${esbuildVersion}\n`);
  for (const file of files) {
    hash.update(`${file}\n`).update(fs.readFileSync(path.resolve(projectRoot, file))).update('\n');
  }
  return hash.digest('hex');
}
