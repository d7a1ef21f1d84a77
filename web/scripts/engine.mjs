// The player module on its own, in a blank page of the site (no worker, no DOM):
//
// - trace {bundle, prompt, length, useCache}: a greedy generation that records the
//   logits of every graph call, for exact parity checks against the Python player.
//   Result: {context, unknown, ids, logits}.
// - chat-trace {bundle, says, length, useCache}: a greedy conversation with a chat
//   release, each text of `says` a user turn, as the page's worker runs it (the KV
//   cache kept from reply to reply, player.js KvCache). Result: {turns}, each
//   {context, dropped, cachedTokens, steps, ids, text}: steps lists every graph call
//   of the reply as [tokens fed, positions already cached].
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

export async function chatTrace(page, siteUrl, job) {
  await openBlankPage(page, siteUrl);
  return page.evaluate(async ({ bundle, says, length, useCache }) => {
    const { KvCache, Player } = await import('./src/player.js');
    const { Utf8Stream } = await import('./src/sampling.js');
    const player = await Player.load(new URL(bundle, location.href).href);
    let steps = [];
    for (const graph of ['step', 'full']) {
      const call = player[graph].bind(player);
      player[graph] = async (ids, past) => {
        steps.push([ids.length, past ? past.dims[4] : 0]);
        return call(ids, past);
      };
    }
    const kept = new KvCache();
    const messages = [];
    const turns = [];
    for (const [n, say] of says.entries()) {
      messages.push({ role: 'user', content: say });
      const { ids: context, dropped } = player.chatContext(messages, length);
      const cachedTokens = useCache ? kept.reusable(context) : 0;
      const options = { maxNewTokens: length, temperature: 0, topK: null, topP: null, seed: n };
      steps = [];
      const ids = [];
      for await (const id of player.generate(context, { ...options, useCache, kept })) {
        ids.push(id);
      }
      const stream = new Utf8Stream();
      const text = ids.map((id) => stream.push(player.tokenizer.tokenBytes(id))).join('') +
        stream.flush();
      messages.push({ role: 'assistant', content: text });
      turns.push({ context, dropped, cachedTokens, steps, ids, text });
    }
    return { turns };
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
