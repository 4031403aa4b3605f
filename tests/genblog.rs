//! A generated Zola blog for the large-blog tests and benchmarks: thousands of posts whose
//! sizes are drawn like a real blog's, laid out on disk as a writer's old site is, so that
//! the test goes through `spokes import` as a writer does.
//!
//! Sizes follow a log-normal distribution (most posts a few kilobytes, a long tail of long
//! ones up to 150 kB), scaled so that the whole blog is close to the Markdown size asked for.
//! The text is made of ordinary English words in paragraphs, headings, lists, quotes, code
//! blocks and links. The layout is the one of the real blog that first failed to publish:
//! a Zola site whose posts carry their date only in `path = "YYYY/MM/DD/slug"`, plus page
//! bundles (`content/blog/YYYY-MM-DD-slug/index.md`) with a picture beside them, and the
//! section files (`_index.md`) that are not posts. Everything comes from a fixed seed.

use std::path::Path;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Number of posts.
    pub posts: usize,
    /// Approximate Markdown size of all posts together, in bytes.
    pub markdown_bytes: usize,
    /// Every `picture_every`-th post is a page bundle with a picture (0: none).
    pub picture_every: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for Options {
    /// 2,000 posts, 20 MB of Markdown, a picture in every 40th post.
    fn default() -> Options {
        Options { posts: 2000, markdown_bytes: 20_000_000, picture_every: 40, seed: 0x5eed_b10c }
    }
}

/// One generated post, as a test reads it back.
#[derive(Clone, Debug)]
pub struct GenPost {
    /// Title (unique in the blog).
    pub title: String,
    /// Slug (the last segment of its `path`, or its bundle folder's name without the date).
    pub slug: String,
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// Markdown size of the body in bytes.
    pub bytes: usize,
    /// Whether it is a page bundle with a picture.
    pub picture: bool,
}

/// splitmix64: small, fast and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const WORDS: &[&str] = &[
    "the", "harbour", "light", "morning", "boats", "water", "walk", "city", "garden", "letter", "winter", "summer", "river", "bridge", "window", "kitchen", "bread", "coffee", "train",
    "station", "book", "pages", "reading", "writing", "notes", "friend", "mother", "father", "school", "teacher", "village", "market", "island", "weather", "rain", "sun", "evening",
    "night", "stars", "road", "journey", "house", "door", "street", "music", "song", "piano", "paint", "colour", "blue", "green", "old", "new", "small", "quiet", "long", "short",
    "slowly", "again", "always", "never", "often", "perhaps", "because", "although", "while", "after", "before", "under", "over", "through", "between", "around", "about", "and",
    "but", "or", "with", "without", "for", "from", "into", "of", "to", "in", "on", "at", "by", "we", "they", "she", "he", "it", "I", "you", "was", "were", "is", "are", "had",
    "have", "found", "made", "saw", "heard", "kept", "left", "brought", "thought", "knew", "learned", "remembered", "forgot", "began", "finished", "wrote", "read", "built", "mended",
    "planted", "cooked", "carried", "opened", "closed", "a", "an", "this", "that", "every", "some", "many", "few", "first", "last", "other", "same", "different", "simple", "hard",
    "careful", "honest", "strange", "familiar", "bright", "dark", "warm", "cold", "year", "day", "week", "hour", "moment", "story", "question", "answer", "reason", "idea", "plan",
    "mistake", "lesson", "work", "tool", "machine", "program", "server", "network", "signal", "map", "field", "forest", "mountain", "valley", "coast", "shore", "sea", "wind",
];

const CODE: &[&str] = &["fn main() {\n    println!(\"hello\");\n}", "for f in *.md; do\n  wc -w \"$f\"\ndone", "let total = posts.iter().map(|p| p.words).sum::<usize>();", "SELECT title FROM posts WHERE year = 2019;"];

fn words(r: &mut Rng, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[r.below(WORDS.len())]);
    }
    s
}

fn sentence(r: &mut Rng) -> String {
    let n = 6 + r.below(18);
    let mut s = words(r, n);
    if let Some(c) = s.get(..1) {
        let up = c.to_uppercase();
        s.replace_range(..1, &up);
    }
    s.push(if r.below(12) == 0 { '?' } else { '.' });
    s
}

fn paragraph(r: &mut Rng) -> String {
    let n = 2 + r.below(6);
    let mut p: Vec<String> = (0..n).map(|_| sentence(r)).collect();
    match r.below(10) {
        0 => p.push(format!("See [{}](https://example.org/{}/{}).", words(r, 2), WORDS[r.below(WORDS.len())], r.below(1000))),
        1 => p.push(format!("It was *{}*, and **{}**.", words(r, 2), words(r, 1))),
        2 => p.push(format!("The `{}` file.", WORDS[r.below(WORDS.len())])),
        _ => {}
    }
    p.join(" ")
}

/// A Markdown body of about `target` bytes.
fn body(r: &mut Rng, target: usize) -> String {
    let mut s = String::with_capacity(target + 512);
    while s.len() < target {
        match r.below(14) {
            0 => s.push_str(&format!("## {}\n\n", sentence(r).trim_end_matches(['.', '?']))),
            1 => {
                for _ in 0..2 + r.below(4) {
                    let n = 3 + r.below(8);
                    s.push_str(&format!("- {}\n", words(r, n)));
                }
                s.push('\n');
            }
            2 => s.push_str(&format!("> {}\n\n", sentence(r))),
            3 => s.push_str(&format!("```\n{}\n```\n\n", CODE[r.below(CODE.len())])),
            _ => s.push_str(&format!("{}\n\n", paragraph(r))),
        }
    }
    s
}

/// A small valid PNG, distinct for each `n` (a trailer after the image's end, which decoders ignore).
pub fn picture(n: usize) -> Vec<u8> {
    let mut b = spokes_core::image::EXAMPLE_PNG.to_vec();
    b.extend_from_slice(format!("generated picture {n}").as_bytes());
    b
}

/// Writes a Zola site with `o.posts` posts into `root` (created if needed) and returns them in
/// the order written, oldest first. Errors: the file system's.
pub fn write_zola_site(root: &Path, o: &Options) -> std::io::Result<Vec<GenPost>> {
    let mut r = Rng(o.seed);
    let content = root.join("content/blog");
    std::fs::create_dir_all(&content)?;
    std::fs::write(root.join("config.toml"), "base_url = \"https://example.org\"\ntitle = \"A generated blog\"\n")?;
    std::fs::write(root.join("content/_index.md"), "+++\ntitle = \"Home\"\n+++\n")?;
    std::fs::write(content.join("_index.md"), "+++\ntitle = \"Blog\"\nsort_by = \"date\"\n+++\n")?;
    // Log-normal sizes (sigma 0.9), scaled to the total asked for.
    let raw: Vec<f64> = (0..o.posts).map(|_| (0.9 * r.normal()).exp()).collect();
    let sum: f64 = raw.iter().sum();
    let scale = o.markdown_bytes as f64 / sum.max(1.0);
    let mut titles = std::collections::HashSet::new();
    let start = chrono::NaiveDate::from_ymd_opt(2014, 1, 1).expect("date");
    let mut out = Vec::with_capacity(o.posts);
    for (i, w) in raw.iter().enumerate() {
        let size = ((w * scale) as usize).clamp(200, 150_000);
        let mut title = sentence(&mut r).trim_end_matches(['.', '?']).to_owned();
        title.truncate(title.char_indices().nth(60).map_or(title.len(), |(b, _)| b));
        let title = title.trim_end().to_owned();
        let title = if titles.insert(title.clone()) { title } else { format!("{title} ({i})") };
        titles.insert(title.clone());
        let slug = spokes_core::doc::slugify(&title);
        // About ten years, in order.
        let date = start + chrono::Duration::days((i * 3650 / o.posts.max(1)) as i64);
        let ymd = date.format("%Y/%m/%d").to_string();
        let mut text = body(&mut r, size);
        let picture_post = o.picture_every > 0 && i % o.picture_every == o.picture_every - 1;
        let tags = format!("[\"{}\", \"{}\"]", WORDS[r.below(WORDS.len())], WORDS[r.below(WORDS.len())]);
        if picture_post {
            let folder = content.join(format!("{}-{slug}", date.format("%Y-%m-%d")));
            std::fs::create_dir_all(&folder)?;
            std::fs::write(folder.join("photo.png"), picture(i))?;
            text.insert_str(0, &format!("![{}](photo.png)\n\n", words(&mut r, 3)));
            std::fs::write(folder.join("index.md"), format!("+++\ntitle = \"{title}\"\n[taxonomies]\ntags = {tags}\n+++\n{text}"))?;
        } else {
            std::fs::write(content.join(format!("{slug}.md")), format!("+++\ntitle = \"{title}\"\npath = \"{ymd}/{slug}\"\n[taxonomies]\ntags = {tags}\n+++\n{text}"))?;
        }
        out.push(GenPost { title, slug, date: date.format("%Y-%m-%d").to_string(), bytes: text.len(), picture: picture_post });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_spread_like_a_real_blog_and_add_up() {
        let t = tempfile::tempdir().unwrap();
        let o = Options { posts: 400, markdown_bytes: 4_000_000, picture_every: 50, seed: 1 };
        let posts = write_zola_site(t.path(), &o).unwrap();
        let total: usize = posts.iter().map(|p| p.bytes).sum();
        assert!((3_600_000..4_600_000).contains(&total), "{total}");
        let mut sizes: Vec<usize> = posts.iter().map(|p| p.bytes).collect();
        sizes.sort();
        let (median, p99) = (sizes[sizes.len() / 2], sizes[sizes.len() * 99 / 100]);
        assert!(median < 10_000 && p99 > 3 * median, "median {median}, p99 {p99}");
        assert_eq!(posts.iter().filter(|p| p.picture).count(), 8);
        let titles: std::collections::HashSet<_> = posts.iter().map(|p| &p.title).collect();
        assert_eq!(titles.len(), 400);
    }
}
