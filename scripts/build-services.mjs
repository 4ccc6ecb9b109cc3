#!/usr/bin/env node
// Bundles each service into services/<name>/dist/main.mjs, what production runs with plain
// `node` (no tsx: its loader thread and source maps cost each service ~35 MB of memory).
//
//   node scripts/build-services.mjs [name...]      (`npm run build`; no names: every service)
//   node scripts/build-services.mjs --at-start <name>   (each service's `npm run start`: builds
//        when esbuild is installed, else runs the bundle already built)
//
// The services are the folders under services/ that have src/main.ts; a service's operator
// tools, services/<name>/bin/<tool>.ts, are bundled next to it as dist/<tool>.mjs. The workspace's own code
// (relative imports and @gha-slurm/* packages) is inlined; every npm package stays an import
// of node_modules, resolved at run time as it is from source. Plain JavaScript, so that it
// needs nothing but esbuild (a root devDependency).
//
// Files read at run time through `new URL('<relative path>', import.meta.url)` resolve from the
// bundle, not from the source file that names them: each bundled source file is scanned for
// them. One that resolves to the same file from dist/main.mjs as from its source (a path
// out of services/<name>/src, one level up: ../templates/, ../../../web/dist) is left as it
// is; one next to its source (./try-grant.lua) is copied into dist/; any other, or any other
// use of import.meta.url, fails the build rather than the service at start.
import { existsSync, readdirSync, readFileSync, rmSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folders under services/ that have src/main.ts, sorted. */
export function serviceNames() {
  return readdirSync(join(root, 'services'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, 'services', entry.name, 'src', 'main.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** Bare specifiers are npm packages, kept external, except the workspace's own @gha-slurm/*. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@gha-slurm/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const URL_REFERENCE = /new\s+URL\(\s*(['"`])([^'"`$]+)\1\s*,\s*import\.meta\.url\s*\)/g;
const ALLOWED_USE = /createRequire\(\s*import\.meta\.url\s*\)/g;

/**
 * The run-time file references of the bundled workspace files: what each one needs copied into
 * dist/ (target -> source); throws when one cannot be made to resolve from the bundle.
 */
function assetsOf(inputs, distDir, mainFile) {
  const copies = new Map();
  const problems = [];
  for (const input of inputs) {
    const file = resolve(root, input);
    if (file.split(sep).includes('node_modules') || !/\.[cm]?[jt]sx?$/.test(file)) continue;
    const source = readFileSync(file, 'utf8');
    const rest = source.replace(URL_REFERENCE, '').replace(ALLOWED_USE, '');
    if (rest.includes('import.meta.url')) {
      problems.push(`${relative(root, file)} uses import.meta.url other than as new URL('<relative path>', import.meta.url): it would mean the bundle's location`);
    }
    for (const match of source.matchAll(URL_REFERENCE)) {
      const reference = match[2];
      const fromSource = fileURLToPath(new URL(reference, pathToFileURL(file)));
      const fromBundle = fileURLToPath(new URL(reference, pathToFileURL(mainFile)));
      if (fromSource === fromBundle) continue;
      const where = `${relative(root, file)}: new URL('${reference}', import.meta.url)`;
      if (dirname(fromBundle) !== distDir || dirname(fromSource) !== dirname(file)) {
        problems.push(`${where} resolves to ${relative(root, fromBundle)} from the bundle, not ${relative(root, fromSource)}; only files next to their source are copied`);
      } else if (!existsSync(fromSource) || !statSync(fromSource).isFile()) {
        problems.push(`${where}: ${relative(root, fromSource)} does not exist`);
      } else if (copies.has(fromBundle) && copies.get(fromBundle) !== fromSource) {
        problems.push(`${where}: ${relative(root, copies.get(fromBundle))} has the same name, and both would be dist/${reference}`);
      } else {
        copies.set(fromBundle, fromSource);
      }
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return copies;
}

/** src/main.ts, and bin/<tool>.ts if any: output name (without .mjs) -> source. */
function entriesOf(serviceDir) {
  const entries = { main: join(serviceDir, 'src', 'main.ts') };
  const bin = join(serviceDir, 'bin');
  if (existsSync(bin)) {
    for (const file of readdirSync(bin).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts')).sort()) {
      const name = file.slice(0, -'.ts'.length);
      if (name === 'main') throw new Error(`${relative(root, join(bin, file))}: a tool may not be called main`);
      entries[name] = join(bin, file);
    }
  }
  return entries;
}

/** Builds one service; returns what it wrote. */
export async function buildService(name) {
  const serviceDir = join(root, 'services', name);
  if (!existsSync(join(serviceDir, 'src', 'main.ts'))) throw new Error(`services/${name}/src/main.ts does not exist (services: ${serviceNames().join(', ')})`);
  const distDir = join(serviceDir, 'dist');
  const outfile = join(distDir, 'main.mjs');
  const entries = entriesOf(serviceDir);
  const started = performance.now();
  rmSync(distDir, { recursive: true, force: true });
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: distDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    plugins: [externalPackages],
  });
  for (const warning of result.warnings) console.warn(`${name}: warning: ${warning.text}`);
  let copies;
  try {
    copies = assetsOf(Object.keys(result.metafile.inputs), distDir, outfile);
  } catch (error) {
    rmSync(distDir, { recursive: true, force: true });
    throw new Error(`services/${name}: ${error.message}`);
  }
  mkdirSync(distDir, { recursive: true });
  for (const [target, source] of copies) copyFileSync(source, target);
  return {
    name,
    outfile,
    tools: Object.keys(entries).filter((entry) => entry !== 'main').map((tool) => `${tool}.mjs`),
    bytes: statSync(outfile).size,
    assets: [...copies.keys()].map((target) => relative(distDir, target)).sort(),
    ms: performance.now() - started,
  };
}

/** Builds the named services (all of them without names), one line each on `log`. */
export async function buildServices(names = [], log = (line) => console.log(line)) {
  const all = serviceNames();
  const unknown = names.filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new Error(`no such service: ${unknown.join(', ')} (services: ${all.join(', ')})`);
  const built = await Promise.all((names.length > 0 ? names : all).map((name) => buildService(name)));
  for (const service of built) {
    const extra = [...service.tools, ...service.assets];
    const assets = extra.length > 0 ? ` + ${extra.join(', ')}` : '';
    log(`${relative(root, service.outfile)}  ${(service.bytes / 1024).toFixed(0)} kB${assets}  (${service.ms.toFixed(0)} ms)`);
  }
  return built;
}

/** Whether esbuild can be loaded: not in an install without dev dependencies (`npm ci --omit=dev`). */
async function esbuildInstalled() {
  try {
    await import('esbuild');
    return true;
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return false;
    throw error;
  }
}

/**
 * `--at-start <name>`, what each service's `npm run start` runs first: build the bundle from
 * the current source, so a checkout never starts a stale one; where esbuild is not installed (a
 * production install), run the bundle already built, and refuse only when there is none.
 * Its one line goes to stderr: stdout is the service's log.
 */
async function buildAtStart(names) {
  if (await esbuildInstalled()) return buildServices(names, (line) => console.error(line));
  const missing = names.filter((name) => !existsSync(join(root, 'services', name, 'dist', 'main.mjs')));
  if (missing.length > 0) {
    throw new Error(`services/${missing[0]}/dist/main.mjs is missing and esbuild is not installed to build it: run npm ci && npm run build at the repository root`);
  }
  return [];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const atStart = args[0] === '--at-start';
  try {
    if (atStart) await buildAtStart(args.slice(1));
    else await buildServices(args);
  } catch (error) {
    console.error(`build-services: ${error.message}`);
    process.exit(1);
  }
}
