// Copy the front-end libraries the page uses from node_modules into static/vendor.
// Run by scripts/setup.sh after `npm ci` (and by `npm run build`).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "static", "vendor");
mkdirSync(out, { recursive: true });
const files = [
  ["uplot/dist/uPlot.iife.min.js", "uPlot.iife.min.js"],
  ["uplot/dist/uPlot.min.css", "uPlot.min.css"],
  ["uplot/LICENSE", "uPlot.LICENSE"],
];
for (const [src, dst] of files) {
  copyFileSync(join(here, "node_modules", src), join(out, dst));
}
const version = JSON.parse(readFileSync(join(here, "node_modules", "uplot", "package.json"))).version;
console.log(`vendored uPlot ${version} into ${out}`);
