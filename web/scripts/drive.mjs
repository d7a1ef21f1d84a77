// Run jobs against a served player site in headless Chromium, one browser for all of
// them, and print their results as one JSON list. tests/test_web.py and
// benchmarks/browser_generate.py use it.
//
//   node scripts/drive.mjs SITE_URL JOBS_JSON
//
// Each job is {kind: 'ui' | 'chess' | 'chat' | 'trace' | 'chat-trace' | 'bench', ...}:
// 'ui' drives the page as a person would (ui.mjs), 'chess' plays a chess release's board
// (chess.mjs), 'chat' talks with a chat release (chat.mjs); 'trace', 'chat-trace' and
// 'bench' run the player module itself (engine.mjs). Every
// result also has `console` (console errors and uncaught page errors), `dialogs` (each
// alert/confirm/prompt the page opened, dismissed at once) and `requests` (every URL
// the page and its worker asked for, in order), so tests can check that hostile input
// ran no script and fetched nothing it should not.
// Chromium is the system build (Debian's chromium package, or SUP_CHROMIUM); playwright-
// core drives it and downloads no browser of its own.
import { chromium } from 'playwright-core';

import { playChat } from './chat.mjs';
import { playChess } from './chess.mjs';
import { bench, chatTrace, trace } from './engine.mjs';
import { playUi } from './ui.mjs';

const KINDS = {
  ui: playUi,
  chess: playChess,
  chat: playChat,
  trace,
  'chat-trace': chatTrace,
  bench,
};
const [siteUrl, jobsJson] = process.argv.slice(2);

const browser = await chromium.launch({
  executablePath: process.env.SUP_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const results = [];
  for (const job of JSON.parse(jobsJson)) {
    const page = await browser.newPage();
    const errors = [];
    const dialogs = [];
    const requests = [];
    page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('dialog', (dialog) => {
      dialogs.push({ type: dialog.type(), message: dialog.message() });
      dialog.dismiss().catch(() => {});
    });
    page.on('request', (request) => requests.push(request.url())); // the worker's too
    const result = await KINDS[job.kind](page, siteUrl, job);
    results.push({ ...result, console: errors, dialogs, requests });
    await page.close();
  }
  process.stdout.write(JSON.stringify(results));
} finally {
  await browser.close();
}
