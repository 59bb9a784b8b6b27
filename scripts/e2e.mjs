#!/usr/bin/env node
// Runs the Playwright suite against Debian's Chromium. Without a browser it says so loudly and skips,
// except under CI=true, where a missing browser is a failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ci = ['1', 'true'].includes(String(process.env.CI).toLowerCase());

if (!fs.existsSync(chromium)) {
  const bar = '!'.repeat(78);
  const msg = [
    bar,
    `!! e2e SKIPPED: no Chromium at ${chromium}.`,
    '!! Install it with:  sudo apt-get install -y chromium   (or set CHROMIUM_PATH)',
    '!! (npx playwright install is not used: the suite drives the system Chromium.)',
    bar,
  ].join('\n');
  console.error(msg);
  process.exit(ci ? 1 : 0);
}

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env: process.env });

// The specs serve the built SPA, so build it first.
const build = run('npx', ['vite', 'build', '--logLevel', 'warn']);
if (build.status !== 0) process.exit(build.status ?? 1);

const pw = run('npx', ['playwright', 'test', ...process.argv.slice(2)]);
process.exit(pw.status ?? 1);
