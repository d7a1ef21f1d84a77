// A person at the player page with a chat release: open it, pick the release, set the
// knobs, then take each step in turn (send a message and wait for the whole reply, or
// press New chat), reading the conversation after each.
//
// Job: {query?, model?, temperature?, topK?, topP?, seed?, length?, steps, screenshot?}:
// steps is a list of {say: TEXT, enter?: true, stop?: true} (typed into the message
// box, then sent with the Send button, or with the Enter key, or sent and stopped at
// once) and {newChat: true}; a step with
// `screenshot` saves the page there after it, the job's screenshot is of the end.
// Result: {state, error, notice, chatShown, promptShown, outputShown, steps}: each step's
// {state, error, notice, stats, cachedTokens, log}, log being the bubbles in order
// ({who, text, classes}), text as the page holds it (textContent).

const TIMEOUT_MS = 60_000;

function untilState(page, states) {
  return page.waitForFunction((s) => s.includes(document.body.dataset.state), states, {
    timeout: TIMEOUT_MS,
  });
}

async function fill(page, selector, value) {
  if (value !== undefined) await page.fill(selector, value === null ? '' : String(value));
}

function snapshot(page) {
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    const shown = (id) => ($(id).hidden ? null : $(id).textContent);
    const cached = $('chat').dataset.cachedTokens;
    return {
      state: document.body.dataset.state,
      error: shown('error'),
      notice: shown('notice'),
      stats: $('chat-stats').textContent,
      cachedTokens: cached === undefined ? null : Number(cached),
      log: Array.from($('chat-log').children, (li) => ({
        who: li.classList.contains('user') ? 'user' : 'model',
        text: li.textContent,
        classes: [...li.classList].filter((c) => c !== 'user' && c !== 'model'),
      })),
    };
  });
}

export async function playChat(page, siteUrl, job) {
  await page.goto(new URL(job.query ?? '', siteUrl).href);
  await untilState(page, ['ready', 'error']);
  if (job.model) {
    await page.selectOption('#model', job.model);
    await untilState(page, ['ready', 'error']);
  }
  await fill(page, '#temperature', job.temperature);
  await fill(page, '#top-k', job.topK);
  await fill(page, '#top-p', job.topP);
  await fill(page, '#seed', job.seed);
  await fill(page, '#length', job.length);
  const steps = [];
  for (const step of job.steps ?? []) {
    if ((await page.getAttribute('body', 'data-state')) === 'error') break;
    if (step.newChat) {
      await page.click('#chat-new');
    } else {
      await page.fill('#chat-input', step.say);
      if (step.stop) {
        // Send, then Stop in the same task: the worker has the stop before the first
        // token is out, and the reply ends after its first token or so
        await page.evaluate(() => {
          document.getElementById('chat-send').click();
          document.getElementById('chat-stop').click();
        });
      } else if (step.enter) {
        await page.press('#chat-input', 'Enter');
      } else {
        await page.click('#chat-send');
      }
      await untilState(page, ['done', 'error']);
    }
    steps.push(await snapshot(page));
    if (step.screenshot) await page.screenshot({ path: step.screenshot, fullPage: true });
  }
  if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
  const visibleAt = (selector) => page.isVisible(selector);
  return {
    ...(await snapshot(page)),
    chatShown: await visibleAt('#chat'),
    promptShown: await visibleAt('#prompt'),
    outputShown: await visibleAt('#output'),
    steps,
  };
}
