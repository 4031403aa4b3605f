//! Text edits as the editor makes them: splices in UTF-16 code units.
//!
//! The webview's editor reports each change as a [`Splice`] (JavaScript strings count UTF-16
//! code units, and so does the documents' text, see [`crate::doc`]). Between two autosaves a
//! writer makes dozens of them, mostly typing forward or deleting backwards at one place.
//! [`coalesce`] folds such runs into one splice each, so an autosave applies a few contiguous
//! splices (and makes one change) instead of one splice per keystroke. The result is the same
//! text; concurrent edits elsewhere still merge character by character.

use serde::{Deserialize, Serialize};

/// One edit of a text: delete `delete` UTF-16 code units at `pos`, then insert `insert` there.
///
/// Splices in a list apply in order, each to the text the previous one left. Positions must not
/// fall inside a surrogate pair (the editor never produces such positions).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Splice {
    /// Offset in UTF-16 code units from the start of the text.
    pub pos: usize,
    /// UTF-16 code units removed at `pos`.
    #[serde(default)]
    pub delete: usize,
    /// Text inserted at `pos` after the deletion.
    #[serde(default)]
    pub insert: String,
}

/// Length of `s` in UTF-16 code units.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Byte offset in `s` of UTF-16 offset `units`, or `None` if it falls inside a surrogate pair
/// or beyond the end.
fn byte_offset(s: &str, units: usize) -> Option<usize> {
    let mut u = 0;
    for (i, c) in s.char_indices() {
        if u == units {
            return Some(i);
        }
        u += c.len_utf16();
        if u > units {
            return None;
        }
    }
    (u == units).then_some(s.len())
}

/// Folds `next` into `prev` when `next` touches or overlaps the text `prev` inserted (typing on,
/// backspacing, retyping a word); `None` when they are apart.
fn merge(prev: &Splice, next: &Splice) -> Option<Splice> {
    let prev_end = prev.pos + utf16_len(&prev.insert);
    let next_end = next.pos + next.delete;
    if next.pos > prev_end || next_end < prev.pos {
        return None;
    }
    // Original text deleted left of and right of what `prev` inserted.
    let left = prev.pos.saturating_sub(next.pos);
    let right = next_end.saturating_sub(prev_end);
    let a = byte_offset(&prev.insert, next.pos.max(prev.pos) - prev.pos)?;
    let b = byte_offset(&prev.insert, next_end.min(prev_end) - prev.pos)?;
    let mut insert = String::with_capacity(prev.insert.len() + next.insert.len());
    insert.push_str(&prev.insert[..a]);
    insert.push_str(&next.insert);
    insert.push_str(&prev.insert[b..]);
    Some(Splice { pos: prev.pos.min(next.pos), delete: prev.delete + left + right, insert })
}

/// Folds runs of adjacent splices into one splice each. Applying the result in order gives the
/// same text as applying `splices` in order. Empty splices (nothing deleted, nothing inserted)
/// are dropped.
pub fn coalesce(splices: &[Splice]) -> Vec<Splice> {
    let mut out: Vec<Splice> = Vec::new();
    for s in splices {
        if s.delete == 0 && s.insert.is_empty() {
            continue;
        }
        match out.last().and_then(|prev| merge(prev, s)) {
            Some(m) if m.delete == 0 && m.insert.is_empty() => {
                out.pop();
            }
            Some(m) => {
                if let Some(last) = out.last_mut() {
                    *last = m;
                }
            }
            None => out.push(s.clone()),
        }
    }
    out
}

/// Applies `splices` to `text` in order (a reference implementation for tests and checks).
/// Returns `None` if a splice falls outside the text or inside a surrogate pair.
pub fn apply_to_string(text: &str, splices: &[Splice]) -> Option<String> {
    let mut t = text.to_owned();
    for s in splices {
        let a = byte_offset(&t, s.pos)?;
        let b = byte_offset(&t, s.pos + s.delete)?;
        t.replace_range(a..b, &s.insert);
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp(pos: usize, delete: usize, insert: &str) -> Splice {
        Splice { pos, delete, insert: insert.into() }
    }

    #[test]
    fn typing_and_backspacing_fold_into_one_splice() {
        let typed: Vec<Splice> = "hello".chars().enumerate().map(|(i, c)| sp(3 + i, 0, &c.to_string())).collect();
        assert_eq!(coalesce(&typed), vec![sp(3, 0, "hello")]);
        // Two backspaces, then "p!": "help!".
        let mut more = typed.clone();
        more.extend([sp(7, 1, ""), sp(6, 1, ""), sp(6, 0, "p"), sp(7, 0, "!")]);
        assert_eq!(coalesce(&more), vec![sp(3, 0, "help!")]);
        // Backspacing past the typed text into what was there deletes original text.
        let mut past = typed.clone();
        past.extend((0..7).rev().map(|i| sp(1 + i, 1, "")));
        assert_eq!(coalesce(&past), vec![sp(1, 2, "")]);
        // Forward deletes at one place.
        assert_eq!(coalesce(&[sp(4, 1, ""), sp(4, 1, ""), sp(4, 2, "")]), vec![sp(4, 4, "")]);
    }

    #[test]
    fn edits_apart_stay_apart_and_nothing_changes_the_result() {
        let base = "The quick brown fox";
        let edits = [sp(4, 0, "very "), sp(0, 3, "A"), sp(15, 0, "!"), sp(16, 0, "!"), sp(2, 0, "")];
        let folded = coalesce(&edits);
        assert_eq!(folded.len(), 3);
        assert_eq!(apply_to_string(base, &folded), apply_to_string(base, &edits));
    }

    #[test]
    fn emoji_count_two_units_and_pairs_are_never_split() {
        // "😀" is one code point and two UTF-16 units.
        assert_eq!(utf16_len("a😀b"), 4);
        let edits = [sp(0, 0, "😀"), sp(2, 0, "x"), sp(3, 0, "🎉"), sp(5, 1, "")];
        let folded = coalesce(&edits);
        assert_eq!(folded, vec![sp(0, 1, "😀x🎉")]);
        assert_eq!(apply_to_string("yz", &folded).as_deref(), Some("😀x🎉z"));
        // A splice inside the pair the previous one inserted is not merged (and is invalid).
        let bad = [sp(0, 0, "😀"), sp(1, 0, "x")];
        assert_eq!(coalesce(&bad).len(), 2);
        assert_eq!(apply_to_string("", &bad), None);
    }

    #[test]
    fn typing_then_deleting_it_all_leaves_nothing_to_apply() {
        assert!(coalesce(&[sp(5, 0, "a"), sp(6, 0, "b"), sp(6, 1, ""), sp(5, 1, "")]).is_empty());
    }

    /// Random edit sequences: the folded splices always give the same text.
    #[test]
    fn folding_never_changes_the_text() {
        let alphabet = ["a", "b", " ", "é", "😀", "\n"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for _ in 0..300 {
            let base: String = (0..rnd(12)).map(|_| alphabet[rnd(alphabet.len())]).collect();
            let mut text = base.clone();
            let mut edits = Vec::new();
            let mut cursor = rnd(utf16_len(&text) + 1);
            for _ in 0..rnd(30) {
                // Positions on code point boundaries, mostly near the previous edit.
                let bounds: Vec<usize> = std::iter::once(0).chain(text.chars().scan(0, |u, c| { *u += c.len_utf16(); Some(*u) })).collect();
                let pos = if rnd(4) == 0 { bounds[rnd(bounds.len())] } else { *bounds.iter().min_by_key(|b| b.abs_diff(cursor)).unwrap_or(&0) };
                let i = bounds.iter().position(|b| *b == pos).unwrap_or(0);
                let del_chars = if rnd(3) == 0 { rnd(3).min(bounds.len() - 1 - i) } else { 0 };
                let delete = bounds[i + del_chars] - pos;
                let insert: String = (0..rnd(3)).map(|_| alphabet[rnd(alphabet.len())]).collect();
                let s = sp(pos, delete, &insert);
                text = apply_to_string(&text, std::slice::from_ref(&s)).unwrap_or_default();
                cursor = pos + utf16_len(&insert);
                edits.push(s);
            }
            let folded = coalesce(&edits);
            assert!(folded.len() <= edits.len());
            assert_eq!(apply_to_string(&base, &folded).as_deref(), Some(text.as_str()), "edits {edits:?} folded {folded:?}");
        }
    }
}
