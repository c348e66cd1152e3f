// Copies a built `fauxkey` binary into the platform package and the licenses into both packages,
// so `npm pack` gives installable tarballs.
//
//   cargo build --release && node npm/scripts/copy-binary.mjs [PATH_TO_BINARY]
//
// The binary defaults to $CARGO_TARGET_DIR/release/fauxkey (else target/release/fauxkey).
import { chmodSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const npmDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(npmDir, '..');
const platform = `${process.platform}-${process.arch}`;
const packageDir = join(npmDir, platform);
if (!existsSync(join(packageDir, 'package.json'))) {
  console.error(`copy-binary: no platform package npm/${platform} (this platform is not packaged yet)`);
  process.exit(1);
}
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, 'target');
const binary = resolve(process.argv[2] || join(targetDir, 'release', 'fauxkey'));
if (!existsSync(binary)) {
  console.error(`copy-binary: ${binary} does not exist; run \`cargo build --release\` first`);
  process.exit(1);
}
copyFileSync(binary, join(packageDir, 'bin', 'fauxkey'));
chmodSync(join(packageDir, 'bin', 'fauxkey'), 0o755);
for (const license of ['LICENSE-MIT', 'LICENSE-APACHE']) {
  for (const dir of [packageDir, join(npmDir, 'fauxkey')]) copyFileSync(join(repo, license), join(dir, license));
}
console.log(`copied ${binary} into npm/${platform}/bin/fauxkey`);
