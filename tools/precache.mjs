// Trunk post-build hook, run in Trunk's staging directory:
// 1. lists every file of the built app shell into sw.js, with a version that is a hash of
//    their contents (a new build is a new service worker, which is how browsers see updates);
// 2. writes .br and .gz beside each compressible file, so the server sends compressed bytes
//    without compressing the 1 MB wasm on every request.
import { createHash } from "node:crypto";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
// Where the bundle is served: "" for the phone's app, "/desk" for the desk bundle.
const prefix = process.argv[2] ?? "";
if (!dir) throw new Error("TRUNK_STAGING_DIR is not set: run through `trunk build`");

const files = [];
(function walk(d) {
  for (const name of readdirSync(d).sort()) {
    const path = join(d, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
})(dir);

const hash = createHash("sha256");
const urls = [];
for (const path of files) {
  const url = prefix + "/" + relative(dir, path).split("\\").join("/");
  if (url === prefix + "/sw.js") continue;
  hash.update(url).update(readFileSync(path));
  urls.push(url);
}
const version = hash.digest("hex").slice(0, 16);
const swPath = join(dir, "sw.js");
if (existsSync(swPath)) {
  const sw = readFileSync(swPath, "utf8")
    .replace("__PRECACHE_VERSION__", version)
    .replace("__PRECACHE_LIST__", JSON.stringify(urls, null, 2));
  writeFileSync(swPath, sw);
  console.log(`precache: ${urls.length} files, version ${version}`);
}

let compressed = 0;
// sw.js is left to the server's on-the-fly compression: it is tiny, and browsers fetch it on
// every update check, so it must never be served from a stale sibling.
for (const path of files.filter((p) => p !== swPath)) {
  if (!/\.(wasm|js|css|html|webmanifest|svg|json)$/.test(path)) continue;
  const data = readFileSync(path);
  writeFileSync(path + ".br", brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(path + ".gz", gzipSync(data, { level: 9 }));
  compressed++;
}
console.log(`precompressed ${compressed} files`);
