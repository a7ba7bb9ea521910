// Builds Ferry's offline web form into ../build (served at /collect/ by server/collect/views.py).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// ODK Web Forms inlines Roboto as base64 for every script (Cyrillic, Greek, symbols...) and again as
// woff next to each woff2: 870 kB, more than the whole engine once gzipped. Ferry's forms are in
// Vietnamese and English, and every browser with a service worker reads woff2, so only the latin,
// latin-ext and vietnamese woff2 faces are kept; other scripts fall back to the system sans-serif.
const KEPT_RANGES = ['U+0000-00FF', 'U+0100-02BA', 'U+0102-0103'];

function slimOdkFonts() {
  return {
    name: 'ferry-slim-odk-fonts',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('@getodk/web-forms/dist/index.js')) return null;
      let kept = 0;
      let dropped = 0;
      const out = code.replace(/@font-face\{[^}]*\}/g, (face) => {
        if (!KEPT_RANGES.some((range) => face.includes(`unicode-range:${range}`))) {
          dropped += 1;
          return '';
        }
        kept += 1;
        return face.replace(/,url\(data:font\/woff;base64,[A-Za-z0-9+/=]+\) format\("woff"\)/, '');
      });
      if (kept === 0) this.error('no Roboto face matched: ODK Web Forms changed its CSS; update vite.config.js');
      this.info?.(`kept ${kept} Roboto faces, dropped ${dropped}`);
      return { code: out, map: null };
    },
  };
}

// The service worker precaches the app shell: every file of the build, under a name that changes
// with their content, so a new build replaces the old cache in one step.
function serviceWorker() {
  return {
    name: 'ferry-service-worker',
    apply: 'build',
    async generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((name) => !name.endsWith('.map')).sort();
      const shell = ['./', ...files.filter((f) => f !== 'index.html'), 'manifest.webmanifest', 'icon.svg'];
      const hash = createHash('sha256');
      for (const name of files) {
        const item = bundle[name];
        hash.update(name).update(item.type === 'chunk' ? item.code : item.source);
      }
      const { readFile } = await import('node:fs/promises');
      const template = await readFile(new URL('./src/sw.js', import.meta.url), 'utf8');
      const source = template
        .replace('__SHELL__', JSON.stringify(shell))
        .replace('__VERSION__', JSON.stringify(hash.digest('hex').slice(0, 16)));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

// Each asset also as .gz (level 9), which server/collect/views.py sends to browsers that accept gzip:
// on 2G the first load is what the gzipped bytes cost, and Flask compresses nothing by itself.
function precompress() {
  return {
    name: 'ferry-precompress',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const [name, item] of Object.entries(bundle)) {
        if (!/\.(js|css|html|svg|webmanifest)$/.test(name)) continue;
        const raw = item.type === 'chunk' ? item.code : item.source;
        this.emitFile({ type: 'asset', fileName: `${name}.gz`, source: gzipSync(raw, { level: 9 }) });
      }
    },
  };
}

export default defineConfig({
  base: '/collect/',
  plugins: [slimOdkFonts(), vue(), serviceWorker(), precompress()],
  build: {
    outDir: '../build',
    emptyOutDir: true,
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
});
