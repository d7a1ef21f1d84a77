// A person at the player page: open it, pick a model, set the knobs, press Generate,
// maybe press Stop, and read what the page shows.
//
// Job: {query?, model?, generate?, prompt?, controls?, temperature?, topK?, topP?, seed?,
// length?, stopAfter?, screenshot?}. stopAfter presses Stop once that many tokens have
// streamed; controls sets a release's instrument controls ({name: value}) by their inputs.
// Result: {state, prompt, shownPrompt, controls, generated, stats, error, notice, tokens,
// tokensPerSecond, view, dom}, where controls lists the control inputs the page made
// ({name, type, value, shown}) and shownPrompt is the prompt as the output shows it, where view is what a person sees: the rendered text of the visible model menu
// choice, model description and output (null where hidden); dom is what hostile input
// could have planted: every option's text, #model-info's text, each href/src attribute
// in the document (as written and as resolved), the elements' tag names and the title.

const TIMEOUT_MS = 30_000;

function untilState(page, states) {
  return page.waitForFunction((s) => s.includes(document.body.dataset.state), states, {
    timeout: TIMEOUT_MS,
  });
}

async function fill(page, selector, value) {
  if (value !== undefined) await page.fill(selector, value === null ? '' : String(value));
}

export async function playUi(page, siteUrl, job) {
  await page.goto(new URL(job.query ?? '', siteUrl).href);
  await untilState(page, ['ready', 'error']);
  const ready = async () => (await page.getAttribute('body', 'data-state')) !== 'error';
  if (job.model && (await ready())) {
    await page.selectOption('#model', job.model);
    await untilState(page, ['ready', 'error']);
  }
  if (job.generate && (await ready())) {
    if (job.prompt !== undefined && (await page.isVisible('#prompt'))) {
      await fill(page, '#prompt', job.prompt);
    }
    for (const [name, value] of Object.entries(job.controls ?? {})) {
      await fill(page, `#control-${name}`, value);
    }
    await fill(page, '#temperature', job.temperature);
    await fill(page, '#top-k', job.topK);
    await fill(page, '#top-p', job.topP);
    await fill(page, '#seed', job.seed);
    await fill(page, '#length', job.length);
    await page.click('#generate');
    if (job.stopAfter) {
      await page.waitForFunction(
        (n) =>
          Number(document.getElementById('stats').dataset.tokens) >= n ||
          document.body.dataset.state !== 'generating',
        job.stopAfter,
        { timeout: TIMEOUT_MS },
      );
      if (await page.isEnabled('#stop')) await page.click('#stop');
    }
    await untilState(page, ['done', 'error']);
  }
  if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
  const seen = async (selector) =>
    (await page.isVisible(selector)) ? page.innerText(selector) : null;
  const view = {
    model: (await page.isVisible('#model'))
      ? await page.$eval('#model', (menu) => menu.selectedOptions[0]?.textContent ?? null)
      : null,
    modelInfo: await seen('#model-info'),
    output: await seen('#output'),
  };
  const state = await page.evaluate(() => {
    const text = (id) => document.getElementById(id).textContent;
    const shown = (id) => (document.getElementById(id).hidden ? null : text(id));
    const stats = document.getElementById('stats').dataset;
    return {
      state: document.body.dataset.state,
      prompt: document.getElementById('prompt').value,
      promptVisible: !document.getElementById('prompt-label').hidden,
      shownPrompt: text('shown-prompt'),
      controls: Array.from(document.querySelectorAll('#instrument-controls input'), (el) => ({
        name: el.dataset.control,
        type: el.type,
        value: el.value,
        shown: el.parentElement.querySelector('output')?.textContent ?? null,
      })),
      generated: text('generated'),
      stats: text('stats'),
      error: shown('error'),
      notice: shown('notice'),
      tokens: stats.tokens ? Number(stats.tokens) : null,
      tokensPerSecond: stats.tokensPerSecond ? Number(stats.tokensPerSecond) : null,
    };
  });
  const dom = await page.evaluate(() => ({
    options: Array.from(document.querySelectorAll('#model option'), (o) => o.textContent),
    modelInfo: document.getElementById('model-info').textContent,
    links: Array.from(document.querySelectorAll('[href], [src]'), (el) => ({
      tag: el.tagName.toLowerCase(),
      raw: el.getAttribute('href') ?? el.getAttribute('src'),
      resolved: el.href ?? el.src,
    })),
    tags: [...new Set(Array.from(document.querySelectorAll('*'), (el) => el.localName))],
    title: document.title,
  }));
  return { ...state, view, dom };
}
