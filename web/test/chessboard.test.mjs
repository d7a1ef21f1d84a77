// The chess board of a daydream release (src/chessboard.js): FENs of the three tiers as
// Fairy-Stockfish writes them, square and move names, and the SVG shapes drawn.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  TIERS,
  boardShapes,
  endText,
  glyph,
  parseFen,
  parseMove,
  parseSquare,
  squareName,
  tierBoard,
} from '../src/chessboard.js';

// The engine's start positions (sup.chess.engine Engine.board([])["Fen"]).
const START = {
  micro: 'rnbqk/ppppp/5/PPPPP/RNBQK w - - 0 1',
  regular: 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1',
  grand:
    'r10r/1nbcaqkacbn1/pppppppppppp/12/12/12/12/PPPPPPPPPPPP/1NBCAQKACBN1/R10R w - - 0 1',
};

test('the three tiers, and only they, have boards; their start FENs are the engine\'s', () => {
  for (const name of ['micro', 'regular', 'grand']) {
    assert.equal(tierBoard({ kind: 'chess', tier: name }).start, START[name]);
  }
  for (const game of [{ tier: '__proto__' }, { tier: 'constructor' }, { tier: 5 }, null, {}]) {
    assert.equal(tierBoard(game), null);
  }
});

test('square names run a..l and 1..10, and only squares of the board parse', () => {
  assert.equal(squareName(0, 0), 'a1');
  assert.equal(squareName(11, 9), 'l10');
  assert.deepEqual(parseSquare('l10', 12, 10), { file: 11, rank: 9 });
  assert.deepEqual(parseSquare('e5', 5, 5), { file: 4, rank: 4 });
  assert.equal(parseSquare('f1', 5, 5), null); // off a 5x5 board
  assert.equal(parseSquare('a6', 5, 5), null);
  assert.equal(parseSquare('a11', 12, 10), null);
  assert.equal(parseSquare('a0', 8, 8), null);
  assert.equal(parseSquare('m1', 12, 10), null);
});

test('moves name two squares of the board, with an optional promotion', () => {
  assert.deepEqual(parseMove('a10c10', 12, 10), {
    from: { file: 0, rank: 9 },
    to: { file: 2, rank: 9 },
    promotion: null,
  });
  assert.equal(parseMove('g4g3b', 12, 10).promotion, 'b');
  assert.equal(parseMove('c2c1c', 12, 10).promotion, 'c'); // a chancellor
  for (const bad of ['', 'b2', 'e2e6', 'f1f2', 'bec22', 'b323r', null, 42, 'a1a1qq', ' b1c3']) {
    assert.equal(parseMove(bad, 5, 5), null, String(bad));
  }
  assert.ok(parseMove('e2e4', 8, 8));
});

test('the start positions of the three tiers fill their boards', () => {
  for (const [name, { files, ranks }] of Object.entries(TIERS)) {
    const { rows, toMove } = parseFen(START[name], files, ranks);
    assert.equal(rows.length, ranks, name);
    assert.ok(rows.every((row) => row.length === files), name);
    assert.equal(toMove, 'white');
  }
  const grand = parseFen(START.grand, 12, 10).rows;
  assert.deepEqual(grand[0], ['r', ...Array(10).fill(null), 'r']); // "r10r": a 10-square run
  assert.deepEqual(grand[4], Array(12).fill(null)); // "12"
  assert.equal(grand[1][3], 'c');
  assert.equal(grand[8][4], 'A');
  const micro = parseFen('rnbqk/ppppp/P4/1PPPP/RNBQK b - - 0 1', 5, 5);
  assert.equal(micro.toMove, 'black');
  assert.equal(micro.rows[2][0], 'P');
  assert.equal(micro.rows[3][0], null);
});

test('a FEN that does not fit the board is refused', () => {
  assert.throws(() => parseFen(START.regular, 5, 5), /8 ranks, not 5/);
  assert.throws(() => parseFen('rnbqk/ppppp/6/PPPPP/RNBQK w', 5, 5), /rank 3 has 6 squares/);
  assert.throws(() => parseFen('rnbqk/ppppp/4/PPPPP/RNBQK w', 5, 5), /rank 3 has 4 squares/);
  assert.throws(() => parseFen('rnbqk/pp<pp/5/PPPPP/RNBQK w', 5, 5), /not a piece/);
  assert.throws(() => parseFen('99999999/8/8/8/8/8/8/8 w', 8, 8), /squares, not 8/);
  assert.throws(() => parseFen('', 5, 5), /1 ranks, not 5/);
  // Fairy-Stockfish's promoted-piece mark and walls are read, not refused
  assert.equal(parseFen('rnbqk/ppppp/5/PPPPQ~/RNBQ* w', 5, 5).rows[3][4], 'Q');
});

test('pieces are chess symbols, chancellor and archbishop their letters', () => {
  assert.equal(glyph('K'), '\u265a');
  assert.equal(glyph('p'), '\u265f');
  assert.equal(glyph('c'), 'C');
  assert.equal(glyph('A'), 'A');
});

test('the board shapes: squares, pieces, the last move and the near-misses faded', () => {
  const fen = 'rnbqk/ppppp/2N2/PPPPP/R1BQK b - - 1 1';
  const view = boardShapes({
    fen,
    files: 5,
    ranks: 5,
    lastMove: 'b1c3',
    tried: ['b2', '', 'a2a5', 'e1e1', 'f1f2', '\u001b[2J'],
  });
  const of = (cls) => view.shapes.filter((s) => s.attrs.class === cls);
  assert.equal(of('light').length + of('dark').length, 25);
  const a1 = { x: 18, y: 160, width: 40, height: 40, class: 'dark' };
  assert.deepEqual(view.shapes[0].attrs, a1);
  const pieces = view.shapes.filter((s) => s.attrs.class.startsWith('piece'));
  assert.equal(pieces.length, 20);
  const knight = pieces.find((s) => s.attrs['data-square'] === 'c3');
  assert.equal(knight.attrs['data-piece'], 'N');
  assert.equal(knight.attrs.class, 'piece white');
  assert.equal(knight.text, '\u265e');
  assert.equal(pieces.find((s) => s.attrs['data-square'] === 'e5').attrs.class, 'piece black');
  assert.deepEqual(
    of('last').map((s) => [s.attrs.x, s.attrs.y]),
    [[58, 160], [98, 80]], // b1 and c3
  );
  // a2a5: faded squares and an arrow; e1e1: squares only; the rest are not squares here
  const tried = of('tried');
  assert.deepEqual(tried.map((s) => s.tag), ['rect', 'rect', 'line', 'polygon', 'rect', 'rect']);
  const coords = of('coord').map((s) => s.text);
  assert.deepEqual(coords, ['1', '2', '3', '4', '5', 'a', 'b', 'c', 'd', 'e']);
  assert.equal(view.width, 18 + 5 * 40);
  assert.equal(view.height, 5 * 40 + 18);
  // drawing order: squares, highlights, pieces above them, coordinates last
  const order = view.shapes.map((s) => s.attrs.class.split(' ')[0]);
  assert.ok(order.lastIndexOf('tried') < order.indexOf('piece'));
  assert.ok(order.lastIndexOf('piece') < order.indexOf('coord'));
});

test('the grand board is 12 files by 10 ranks, with a..l and 1..10 around it', () => {
  const view = boardShapes({ fen: START.grand, files: 12, ranks: 10, lastMove: 'a10c10' });
  const coords = view.shapes.filter((s) => s.attrs.class === 'coord').map((s) => s.text);
  assert.deepEqual(coords.slice(0, 10), ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.equal(coords.slice(10).join(''), 'abcdefghijkl');
  const pieces = view.shapes.filter((s) => s.attrs.class.startsWith('piece'));
  assert.equal(pieces.length, 2 * (2 + 10 + 12));
  assert.equal(pieces.find((s) => s.attrs['data-square'] === 'l10').attrs['data-piece'], 'r');
  assert.equal(pieces.find((s) => s.attrs['data-square'] === 'd9').text, 'C');
  assert.deepEqual(
    view.shapes.filter((s) => s.attrs.class === 'last').map((s) => s.attrs.y),
    [0, 0], // rank 10 is the top row
  );
});

test('a finished game reads as the terminal player says it', () => {
  assert.equal(endText('checkmate', 'white'), 'checkmate, white wins');
  assert.equal(endText('stalemate', null), 'stalemate');
  assert.equal(endText('threefold repetition', null), 'threefold repetition');
});
