// Copies the installed rasa-webchat bundle (a self-contained UMD build with React inside) and its
// licence into the handoff service's static files, where the demo page and embedders load it.
// The bundle's CSS imports a web font from Google's CDN; that import is removed so the widget
// loads nothing from third parties (it uses the page's fonts instead). The bundle also logs the
// customer's session id to the browser console on every connect; that log is removed (a session id
// is the key to the conversation and has no business in a console other scripts can read).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "node_modules", "rasa-webchat");
const target = join(here, "..", "handoff", "web", "static", "webchat");
const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));

const fontImport = /@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);/g;
const sessionLogs = [
  /console\.log\("session_confirm:"\.concat\([^)]*\)\.concat\([a-z]\)\),/g,
  /console\.log\("sending init payload",[a-z]\),/g,
];
const original = readFileSync(join(pkg, "lib", "index.js"), "utf8");
const bundle = sessionLogs.reduce((text, log) => text.replace(log, ""), original.replace(fontImport, ""));
if (/@import url\(https?:/.test(bundle)) {
  console.error("rasa-webchat bundle still imports remote CSS; update web/build.mjs");
  process.exit(1);
}
if (/session_id:"|sending init payload/.test(bundle) || !sessionLogs.every((log) => original.match(log))) {
  console.error("rasa-webchat bundle still logs the session id (or its log changed); update web/build.mjs");
  process.exit(1);
}

mkdirSync(target, { recursive: true });
writeFileSync(join(target, "webchat.js"), bundle);
copyFileSync(join(pkg, "LICENSE"), join(target, "LICENSE.rasa-webchat.txt"));
console.log(`rasa-webchat ${version} -> handoff/web/static/webchat/webchat.js`);
