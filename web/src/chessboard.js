/**
 * The board of a daydream chess release (manifest `game: {kind: "chess", tier}`): a FEN
 * read into squares, and the board drawn as SVG shapes, for the three tiers (5x5, 8x8,
 * 12 files x 10 ranks). No chess rules live here: `sup serve` (POST /v1/daydream/move)
 * asks the engine, the one referee for every tier, and sends the FEN after each move.
 *
 * The functions are pure (no DOM) so node tests cover them; `drawBoard` turns the shapes
 * into elements with createElementNS and setAttribute/textContent, never markup. A FEN
 * and the model's tries are untrusted: a FEN that does not fit the board is refused, and
 * a try that does not name two squares of the board is not drawn (the move list still
 * shows it, through `visible`).
 */

// The boards and their start positions, as the engine writes them (Engine.board([])), so
// a page without `sup serve` can still show the board.
export const TIERS = {
  micro: { files: 5, ranks: 5, start: 'rnbqk/ppppp/5/PPPPP/RNBQK w - - 0 1' },
  regular: {
    files: 8,
    ranks: 8,
    start: 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1',
  },
  grand: {
    files: 12,
    ranks: 10,
    start: 'r10r/1nbcaqkacbn1/pppppppppppp/12/12/12/12/PPPPPPPPPPPP/1NBCAQKACBN1/R10R w - - 0 1',
  },
};

/** A manifest's `game.tier` as its board, or null for a tier this page does not know. */
export function tierBoard(game) {
  const name = game?.tier;
  return typeof name === 'string' && Object.hasOwn(TIERS, name) ? TIERS[name] : null;
}

const FILES = 'abcdefghijkl';
const SQUARE = 40; // px per square in the SVG's user units
const MARGIN = 18; // room for the rank numbers (left) and file letters (below)

// Filled glyphs for both sides (white ones get a white fill and a dark outline), so a
// piece looks the same whatever the font does with the outlined glyphs. Chancellor (c)
// and archbishop (a) have no standard symbol: they are drawn as their letters.
const GLYPHS = { k: '\u265a', q: '\u265b', r: '\u265c', b: '\u265d', n: '\u265e', p: '\u265f' };

/**
 * The name of a square: file `file` (0 = a) and rank `rank` (0 = 1), as `a1`, `l10`.
 * @param {number} file
 * @param {number} rank
 */
export function squareName(file, rank) {
  return `${FILES[file]}${rank + 1}`;
}

/**
 * A square's name as {file, rank} (0-based), or null when it is not a square of a
 * `files` x `ranks` board.
 * @param {string} name
 * @param {number} files
 * @param {number} ranks
 */
export function parseSquare(name, files, ranks) {
  const m = /^([a-l])(10|[1-9])$/.exec(name);
  if (!m) return null;
  const file = FILES.indexOf(m[1]);
  const rank = Number(m[2]) - 1;
  return file < files && rank < ranks ? { file, rank } : null;
}

/**
 * A UCI move (`e2e4`, `a10c10`, `g4g3b`) as {from, to, promotion}, or null when it does
 * not name two squares of the board.
 * @param {unknown} move
 * @param {number} files
 * @param {number} ranks
 */
export function parseMove(move, files, ranks) {
  if (typeof move !== 'string') return null;
  const m = /^([a-l](?:10|[1-9]))([a-l](?:10|[1-9]))([a-z]?)$/.exec(move);
  if (!m) return null;
  const from = parseSquare(m[1], files, ranks);
  const to = parseSquare(m[2], files, ranks);
  return from && to ? { from, to, promotion: m[3] || null } : null;
}

/**
 * A FEN's position on a `files` x `ranks` board: {rows, toMove}, rows[0] the top rank
 * (the highest number) and rows[r][f] a piece letter (upper case White) or null. Digit
 * runs may be 10 or 12 (a 12-file board's empty rank is "12"); Fairy-Stockfish's `~`
 * (a promoted piece) is dropped and `*` (a wall) is an empty square. Throws on a FEN
 * that does not fill the board exactly.
 * @param {string} fen
 * @param {number} files
 * @param {number} ranks
 */
export function parseFen(fen, files, ranks) {
  const [placement, side] = String(fen).trim().split(/\s+/);
  const lines = (placement ?? '').replace(/\[[^\]]*\]$/, '').split('/');
  if (lines.length !== ranks) throw new Error(`the FEN has ${lines.length} ranks, not ${ranks}`);
  const rows = lines.map((line, i) => {
    const row = [];
    for (const [, run, piece] of line.replaceAll('~', '').matchAll(/(\d+)|([A-Za-z*])|./g)) {
      if (run) row.push(...Array(Math.min(Number(run), files + 1)).fill(null));
      else if (piece) row.push(piece === '*' ? null : piece);
      else throw new Error(`the FEN's rank ${ranks - i} has a character that is not a piece`);
    }
    if (row.length !== files) {
      throw new Error(`the FEN's rank ${ranks - i} has ${row.length} squares, not ${files}`);
    }
    return row;
  });
  return { rows, toMove: side === 'b' ? 'black' : 'white' };
}

/** A piece letter's glyph: a chess symbol for k q r b n p, else the letter itself. */
export function glyph(piece) {
  return GLYPHS[piece.toLowerCase()] ?? piece.toUpperCase();
}

/** The centre of a square in SVG units, White at the bottom. */
function centre({ file, rank }, ranks) {
  return { x: MARGIN + (file + 0.5) * SQUARE, y: (ranks - rank - 0.5) * SQUARE };
}

function squareRect({ file, rank }, ranks, cls) {
  const attrs = { x: MARGIN + file * SQUARE, y: (ranks - 1 - rank) * SQUARE };
  return { tag: 'rect', attrs: { ...attrs, width: SQUARE, height: SQUARE, class: cls } };
}

/** A line from `a` to `b` (squares) ending in a head, shortened to sit inside both. */
function arrow(a, b, ranks, cls) {
  const p = centre(a, ranks);
  const q = centre(b, ranks);
  const length = Math.hypot(q.x - p.x, q.y - p.y) || 1;
  const ux = (q.x - p.x) / length;
  const uy = (q.y - p.y) / length;
  const head = SQUARE * 0.3;
  const tip = { x: q.x - ux * SQUARE * 0.15, y: q.y - uy * SQUARE * 0.15 };
  const base = { x: tip.x - ux * head, y: tip.y - uy * head };
  const side = { x: -uy * head * 0.5, y: ux * head * 0.5 };
  const round = (v) => Math.round(v * 10) / 10;
  const corners = [
    tip,
    { x: base.x + side.x, y: base.y + side.y },
    { x: base.x - side.x, y: base.y - side.y },
  ];
  const points = corners.map((pt) => `${round(pt.x)},${round(pt.y)}`).join(' ');
  const line = { x1: round(p.x), y1: round(p.y), x2: round(base.x), y2: round(base.y) };
  return [
    { tag: 'line', attrs: { ...line, class: cls } },
    { tag: 'polygon', attrs: { points, class: cls } },
  ];
}

/**
 * The board as SVG shapes: {width, height, shapes}, each shape {tag, attrs, text?}
 * (attrs.class names it for the stylesheet and the tests). In drawing order: squares
 * (`light`/`dark`), the last move's squares (`last`), faded from/to squares and arrows
 * for the model's tries the engine refused (`tried`), pieces (`piece white|black`, text
 * the glyph, attrs `data-square` and `data-piece`), then coordinates (`coord`).
 * @param {{fen: string, files: number, ranks: number, lastMove?: string|null,
 *   tried?: unknown[]}} view
 */
export function boardShapes({ fen, files, ranks, lastMove = null, tried = [] }) {
  const { rows } = parseFen(fen, files, ranks);
  const shapes = [];
  for (let rank = 0; rank < ranks; rank++) {
    for (let file = 0; file < files; file++) {
      shapes.push(squareRect({ file, rank }, ranks, (file + rank) % 2 ? 'light' : 'dark'));
    }
  }
  const last = parseMove(lastMove, files, ranks);
  if (last) shapes.push(squareRect(last.from, ranks, 'last'), squareRect(last.to, ranks, 'last'));
  for (const move of tried) {
    const miss = parseMove(move, files, ranks);
    if (!miss) continue; // not two squares of this board: the move list shows it
    shapes.push(squareRect(miss.from, ranks, 'tried'), squareRect(miss.to, ranks, 'tried'));
    if (miss.from.file !== miss.to.file || miss.from.rank !== miss.to.rank) {
      shapes.push(...arrow(miss.from, miss.to, ranks, 'tried'));
    }
  }
  rows.forEach((row, i) => {
    const rank = ranks - 1 - i;
    row.forEach((piece, file) => {
      if (!piece) return;
      const { x, y } = centre({ file, rank }, ranks);
      const side = piece === piece.toUpperCase() ? 'white' : 'black';
      const square = squareName(file, rank);
      const attrs = { x, y, class: `piece ${side}`, 'data-square': square, 'data-piece': piece };
      shapes.push({ tag: 'text', attrs, text: glyph(piece) });
    });
  });
  for (let rank = 0; rank < ranks; rank++) {
    const y = (ranks - rank - 0.5) * SQUARE;
    const attrs = { x: MARGIN / 2, y, class: 'coord' };
    shapes.push({ tag: 'text', attrs, text: String(rank + 1) });
  }
  for (let file = 0; file < files; file++) {
    const x = MARGIN + (file + 0.5) * SQUARE;
    const attrs = { x, y: ranks * SQUARE + MARGIN / 2, class: 'coord' };
    shapes.push({ tag: 'text', attrs, text: FILES[file] });
  }
  return { width: MARGIN + files * SQUARE, height: ranks * SQUARE + MARGIN, shapes };
}

/**
 * Draw `boardShapes(view)` into `svg` (an <svg> element), replacing what it held.
 * Attributes and text only: nothing is parsed as markup.
 * @param {SVGSVGElement} svg
 * @param {Parameters<typeof boardShapes>[0]} view
 */
export function drawBoard(svg, view) {
  const { width, height, shapes } = boardShapes(view);
  const ns = 'http://www.w3.org/2000/svg';
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren(
    ...shapes.map(({ tag, attrs, text }) => {
      const el = svg.ownerDocument.createElementNS(ns, tag);
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
      if (text !== undefined) el.textContent = text;
      return el;
    }),
  );
}

/**
 * How a finished game reads: "checkmate, white wins", "stalemate", ...
 * @param {string} end
 * @param {string|null} winner
 */
export function endText(end, winner) {
  return end === 'checkmate' && winner ? `checkmate, ${winner} wins` : end;
}
