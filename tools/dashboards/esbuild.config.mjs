// Bundles src/render.jsx (React 18, styled-components 5, Splunk dashboard framework) into
// build/render.js for scripts/render_dashboards.sh.
import * as esbuild from 'esbuild';

await esbuild.build({
    entryPoints: ['src/render.jsx'],
    bundle: true,
    outfile: 'build/render.js',
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    minify: true,
    legalComments: 'none',
    loader: { '.js': 'jsx', '.css': 'css', '.svg': 'dataurl', '.png': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl' },
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    logLevel: 'warning',
});
