// The player module on its own, in a blank page of the site (no worker, no DOM):
//
// - trace {bundle, prompt, length, useCache}: a greedy generation that records the
//   logits of every graph call, for exact parity checks against the Python player.
//   Result: {context, unknown, ids, logits}.
// - bench {bundle, prompt, length, warmup}: greedy generation speed, ignoring stop
//   tokens so every run makes exactly `length` tokens. `cold` is the first run after
//   loading (V8 still runs the wasm in its baseline tier); `cache` and `noCache` come
//   after `warmup` tokens of each. Result: {cold, cache, noCache}, each {ids, tokens,
//   seconds, tokensPerSecond}.
//
// `bundle` is the bundle directory's URL relative to the site root.

async function openBlankPage(page, siteUrl) {
  const url = new URL('__engine__.html', siteUrl).href;
  await page.route(url, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>engine</title>' }),
  );
  await page.goto(url);
}

export async function trace(page, siteUrl, job) {
  await openBlankPage(page, siteUrl);
  return page.evaluate(async ({ bundle, prompt, length, useCache }) => {
    const { Player } = await import('./src/player.js');
    const player = await Player.load(new URL(bundle, location.href).href);
    const logits = [];
    for (const graph of ['step', 'full']) {
      const call = player[graph].bind(player);
      player[graph] = async (...args) => {
        const out = await call(...args);
        logits.push(Array.from(out.logits));
        return out;
      };
    }
    const { ids: context, unknown } = player.context(prompt);
    const options = { maxNewTokens: length, temperature: 0, topK: null, topP: null, seed: 0 };
    const ids = [];
    for await (const id of player.generate(context, { ...options, useCache })) ids.push(id);
    return { context, unknown, ids, logits };
  }, job);
}

export async function bench(page, siteUrl, job) {
  await openBlankPage(page, siteUrl);
  return page.evaluate(async ({ bundle, prompt, length, warmup }) => {
    const { Player } = await import('./src/player.js');
    const player = await Player.load(new URL(bundle, location.href).href);
    player.manifest.generation.stop_ids = [];
    const { ids: context } = player.context(prompt);
    const run = async (maxNewTokens, useCache) => {
      const options = { maxNewTokens, temperature: 0, topK: null, topP: null, seed: 0, useCache };
      const start = performance.now();
      const ids = [];
      for await (const id of player.generate(context, options)) ids.push(id);
      const seconds = (performance.now() - start) / 1000;
      return { ids, tokens: ids.length, seconds, tokensPerSecond: ids.length / seconds };
    };
    const cold = await run(length, true);
    await run(warmup, true);
    await run(warmup, false);
    return { cold, cache: await run(length, true), noCache: await run(length, false) };
  }, job);
}
