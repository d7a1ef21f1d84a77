// A person at the player page with a chess release: open it, pick the release, set the
// game's knobs, press Play, wait for the game to end (or the ply cap), and read the
// board and the move list.
//
// Job: {query?, model?, play?, vs?, level?, plies?, temperature?, seed?, screenshot?}.
// Result: {state, error, notice, note, status, plies, end, fen, playEnabled, moves,
// pieces, shapes}: moves is the move list ({by, move, tried, forced}), pieces the
// board's pieces ({square, piece}), shapes the count of board shapes by class.

const TIMEOUT_MS = 45_000;

function untilState(page, states) {
  return page.waitForFunction((s) => s.includes(document.body.dataset.state), states, {
    timeout: TIMEOUT_MS,
  });
}

async function fill(page, selector, value) {
  if (value !== undefined) await page.fill(selector, String(value));
}

export async function playChess(page, siteUrl, job) {
  await page.goto(new URL(job.query ?? '', siteUrl).href);
  await untilState(page, ['ready', 'error']);
  if (job.model) {
    await page.selectOption('#model', job.model);
    await untilState(page, ['ready', 'error']);
  }
  // sup serve's answer to "do you play this model?" decides whether Play is enabled
  await page.waitForFunction(
    () => !document.getElementById('chess-note').hidden || !document.getElementById('chess-play').disabled,
    null,
    { timeout: TIMEOUT_MS },
  );
  if (job.play) {
    if (job.vs !== undefined) await page.selectOption('#chess-vs', job.vs);
    await fill(page, '#chess-level', job.level);
    await fill(page, '#chess-plies', job.plies);
    await fill(page, '#temperature', job.temperature);
    await fill(page, '#seed', job.seed);
    await page.click('#chess-play');
    await untilState(page, ['done', 'error']);
  }
  if (job.screenshot) await page.screenshot({ path: job.screenshot, fullPage: true });
  return page.evaluate(() => {
    const $ = (id) => document.getElementById(id);
    const shown = (id) => ($(id).hidden ? null : $(id).textContent);
    const shapes = {};
    for (const el of $('chess-board').children) {
      const cls = el.getAttribute('class') ?? '';
      const key = `${el.localName}.${cls.split(' ')[0]}`;
      shapes[key] = (shapes[key] ?? 0) + 1;
    }
    return {
      state: document.body.dataset.state,
      chessShown: !$('chess').hidden,
      promptShown: $('prompt').offsetParent !== null,
      error: shown('error'),
      notice: shown('notice'),
      note: shown('chess-note'),
      status: $('chess-status').textContent,
      plies: Number($('chess').dataset.plies),
      end: $('chess').dataset.end,
      fen: $('chess-board').dataset.fen,
      playEnabled: !$('chess-play').disabled,
      moves: Array.from($('chess-moves').children, (li) => ({
        by: li.dataset.by,
        move: li.dataset.move,
        tried: Array.from(li.querySelectorAll('.tried'), (s) => s.textContent),
        text: li.textContent,
      })),
      pieces: Array.from($('chess-board').querySelectorAll('text.piece'), (el) => ({
        square: el.dataset.square,
        piece: el.dataset.piece,
      })),
      shapes,
    };
  });
}
