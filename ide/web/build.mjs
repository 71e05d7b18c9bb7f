// Bundles GraphiQL and its dependencies into ../dist/graphiql.js and
// ../dist/graphiql.css (minified, fonts inlined as data URLs), and writes the
// licenses of every bundled package to ../dist/THIRD_PARTY_LICENSES.txt.
// Run it through `make ide`, which installs the pinned packages with `npm ci`.
import * as esbuild from 'esbuild';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const outdir = '../dist';

const result = await esbuild.build({
  entryPoints: { graphiql: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome109', 'edge109', 'firefox115', 'safari16'],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'none',
  metafile: true,
  logLevel: 'info',
  outdir,
});

// packageDirs lists the node_modules package folders the bundle took code from.
function packageDirs(inputs) {
  const dirs = new Set();
  for (const file of Object.keys(inputs)) {
    const m = file.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//);
    if (m) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

// licenseText returns the package's license file, or its package.json
// license field when it ships none.
function licenseText(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  if (file) return readFileSync(join(dir, file), 'utf8').trim();
  return `License: ${JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).license}`;
}

const notices = packageDirs(result.metafile.inputs).map((dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return `${pkg.name}@${pkg.version}\n\n${licenseText(dir)}\n`;
});
writeFileSync(
  join(outdir, 'THIRD_PARTY_LICENSES.txt'),
  `Packages bundled into graphiql.js and graphiql.css.\n\n${notices.join('\n' + '-'.repeat(72) + '\n\n')}`,
);
console.log(`${notices.length} bundled packages, licenses in ${outdir}/THIRD_PARTY_LICENSES.txt`);
