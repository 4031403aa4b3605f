"""What a writer could pick instead of Spokes: the same blog as Nostr long-form posts.

Used by `spokes-bench run nostr` (crates/bench/src/nostr.rs), which starts three
nostr-rs-relay processes on loopback and runs this script with nostr-sdk (PyPI):

    python3 nostr_bench.py SITE_DIR EDITS ws://127.0.0.1:P1 ws://127.0.0.1:P2 ws://127.0.0.1:P3

Every post of the generated Zola site (`content/**/*.md` but `_index.md`) becomes one NIP-23
event (kind 30023: the Markdown as content, tags `d` = slug, `title`, `published_at`), signed
by one key. The clock runs from the first event signed until every relay acknowledged every
event (OK true); then one more post is signed and sent EDITS times, each until all three
acknowledge it. Prints one JSON object: whole_blog_s, one_post_p50_ms, one_post_p99_ms,
events, relays.
"""

import asyncio
import json
import pathlib
import sys
import time

import nostr_sdk as n


def posts(site: pathlib.Path):
    """(slug, title, body) of every post file, in path order."""
    out = []
    for f in sorted(site.glob("content/**/*.md")):
        if f.name == "_index.md":
            continue
        text = f.read_text(encoding="utf-8")
        front, body = "", text
        if text.startswith("+++\n"):
            end = text.index("\n+++\n", 4)
            front, body = text[4:end], text[end + 5 :]
        title = next((l.split("=", 1)[1].strip().strip('"') for l in front.splitlines() if l.startswith("title")), f.stem)
        slug = f.parent.name if f.name == "index.md" else f.stem
        out.append((slug, title, body))
    return out


async def main():
    site, edits, urls = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    keys = n.Keys.generate()
    client = n.Client()
    for u in urls:
        await client.add_relay(n.RelayUrl.parse(u))
    await client.connect()

    async def sign(slug, title, body, at):
        tags = [n.Tag.identifier(slug), n.Tag.parse(["title", title]), n.Tag.parse(["published_at", str(at)])]
        return n.EventBuilder(n.Kind(30023), body).tags(tags).finalize(keys)

    async def send(ev):
        out = await client.send_event(ev)
        if len(out.success) != len(urls):
            raise SystemExit(f"only {len(out.success)} of {len(urls)} relays acknowledged: {out.failed}")

    blog = posts(site)
    t0 = time.monotonic()
    now = int(time.time())
    events = [await sign(slug, title, body, now - i) for i, (slug, title, body) in enumerate(blog)]
    # Sent concurrently, as a client would publish a whole archive; each waits for all OKs.
    sem = asyncio.Semaphore(64)

    async def bounded(ev):
        async with sem:
            await send(ev)

    await asyncio.gather(*(bounded(e) for e in events))
    whole = time.monotonic() - t0

    one = []
    for i in range(edits):
        slug, title, body = blog[0]
        t = time.monotonic()
        ev = await sign(slug, title, f"Edited for the {i}th time.\n\n{body}", now + i + 1)
        await send(ev)
        one.append((time.monotonic() - t) * 1000)
    one.sort()
    pct = lambda p: one[min(len(one) - 1, (len(one) * p) // 100)] if one else None
    print(json.dumps({"whole_blog_s": whole, "one_post_p50_ms": pct(50), "one_post_p99_ms": pct(99), "events": len(events), "relays": len(urls)}))
    await client.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
