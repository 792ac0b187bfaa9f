// snapshotDownload of @huggingface/hub against the bench Hub, for `make bench`.
// Usage: node hfjs.cjs NODE_MODULES_DIR HUB_URL REPO_ID CACHE_DIR
// Prints the snapshot folder. The package is installed (pinned) into build/bench/node_modules.
"use strict";
const { createRequire } = require("node:module");
const path = require("node:path");

const [nodeModules, hubUrl, repo, cacheDir] = process.argv.slice(2);
const req = createRequire(path.join(path.resolve(nodeModules), "bench.cjs"));
const { snapshotDownload } = req("@huggingface/hub");

console.debug = () => {}; // downloadFileToCacheDir logs every file it starts

snapshotDownload({ repo, cacheDir, hubUrl })
  .then((folder) => process.stdout.write(folder + "\n"))
  .catch((e) => {
    process.stderr.write("hfjs: " + (e && e.stack ? e.stack : e) + "\n");
    process.exit(1);
  });
