//! Bounding what Automerge bytes from a peer expand to, before Automerge decodes them.
//!
//! Automerge's binary format (<https://automerge.org/automerge-binary-format-spec/>) packs
//! data two ways that a few bytes can blow up without limit:
//!
//! - **DEFLATE**: a compressed change chunk (chunk type 2) and any column of a document chunk
//!   (type 0) whose specification has the deflate bit (`0x08`) set. DEFLATE expands up to
//!   about 1,032 times, so a 4 MiB sync message can stand for 4 GiB of columns, which Automerge
//!   inflates whole and holds several times over.
//! - **Run-length encoding**: a column's run `(count, value)` stands for `count` rows (one per
//!   operation or change), and `count` is a 64-bit integer.
//!
//! [`ExpansionBudget::check`] walks the chunks of a payload the way Automerge will, inflating
//! each compressed part through a reader that stops at the budget and summing each column's
//! run lengths without materialising a row, and refuses the payload before anything of it is
//! handed to Automerge. A session (or an archive) keeps one budget across everything it
//! receives, so splitting a bomb over many messages does not help:
//!
//! - inflated bytes may reach [`EXPANDED_FLOOR_BYTES`] plus [`MAX_EXPANSION_RATIO`] times the
//!   bytes received so far, and never [`MAX_EXPANDED_BYTES`];
//! - rows may reach [`ROWS_FLOOR`] plus [`ROWS_PER_BYTE`] per inflated byte.
//!
//! Real blogs stay far inside: a published blog's Markdown compresses about 3 to 4 times, and
//! each operation takes at least a byte somewhere in the payload except in runs of deletions.
//! Bundle chunks (type 3), which Spokes never sends, are refused; so is a change chunk with
//! compressed columns, which Automerge refuses too.

use std::io::Read;

/// Most inflated bytes per received byte, beyond [`EXPANDED_FLOOR_BYTES`].
pub const MAX_EXPANSION_RATIO: u64 = 32;
/// Inflated bytes allowed whatever was received: 32 MiB, so a blog of tens of megabytes
/// passes however well it compresses (a post of one line repeated compresses hundreds of
/// times), while a bomb still cannot pass this floor by much.
pub const EXPANDED_FLOOR_BYTES: u64 = 32 * 1024 * 1024;
/// Most inflated bytes in one budget, whatever was received: 1 GiB.
pub const MAX_EXPANDED_BYTES: u64 = 1024 * 1024 * 1024;
/// Rows (operations, changes) allowed whatever was received.
pub const ROWS_FLOOR: u64 = 1 << 20;
/// Most rows per inflated byte, beyond [`ROWS_FLOOR`].
pub const ROWS_PER_BYTE: u64 = 64;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DEFLATE_BIT: u32 = 0x08;

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpansionError {
    /// The bytes are not Automerge chunks as Spokes sends them.
    #[error("not a readable document or change: {0}")]
    Malformed(String),
    /// The payload would expand past the budget.
    #[error("{what} would expand past {limit} (a document or change this small cannot honestly hold that much)")]
    TooLarge {
        /// What exceeded: "inflated bytes" or "rows".
        what: &'static str,
        /// The limit in force when it was passed.
        limit: u64,
    },
}

/// What a session or an archive has let through so far; see the module docs for the limits.
#[derive(Debug, Clone, Default)]
pub struct ExpansionBudget {
    received: u64,
    expanded: u64,
    rows: u64,
}

/// What one checked payload held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Chunks in the payload.
    pub chunks: u64,
    /// Bytes after inflation (chunk bodies as Automerge will hold them).
    pub expanded_bytes: u64,
    /// Rows summed over chunks (per chunk, its longest column).
    pub rows: u64,
}

impl ExpansionBudget {
    /// A fresh budget.
    pub fn new() -> ExpansionBudget {
        ExpansionBudget::default()
    }

    fn bytes_limit(&self) -> u64 {
        EXPANDED_FLOOR_BYTES.saturating_add(self.received.saturating_mul(MAX_EXPANSION_RATIO)).min(MAX_EXPANDED_BYTES)
    }

    fn rows_limit(&self) -> u64 {
        ROWS_FLOOR.saturating_add(self.expanded.saturating_mul(ROWS_PER_BYTE))
    }

    /// Checks `bytes`, one or more concatenated Automerge chunks (a saved document, the output
    /// of `save_after`, one entry of a sync message's change list), and charges them to this
    /// budget. Empty input is fine. Errors: [`ExpansionError::Malformed`] for anything
    /// Automerge would not load or Spokes does not send, [`ExpansionError::TooLarge`] when the
    /// budget is passed (nothing is charged then; the caller refuses the session).
    pub fn check(&mut self, bytes: &[u8]) -> Result<Expansion, ExpansionError> {
        let mut trial = self.clone();
        trial.received = trial.received.saturating_add(bytes.len() as u64);
        let mut seen = Expansion::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let mut r = Reader(rest);
            if r.take(4)? != MAGIC {
                return Err(malformed("no Automerge magic bytes"));
            }
            r.take(4)?; // checksum: Automerge checks it
            let typ = r.byte()?;
            let len = usize::try_from(r.uleb()?).map_err(|_| malformed("chunk length"))?;
            let body = r.take(len)?;
            rest = r.0;
            seen.chunks += 1;
            let rows = match typ {
                0 => trial.document(body)?,
                1 => {
                    trial.charge_bytes(body.len() as u64)?;
                    trial.change(body)?
                }
                2 => {
                    let inflated = trial.inflate(body)?;
                    trial.change(&inflated)?
                }
                3 => return Err(malformed("a bundle chunk (Spokes does not send bundles)")),
                t => return Err(malformed(&format!("unknown chunk type {t}"))),
            };
            trial.charge_rows(rows)?;
            seen.rows += rows;
        }
        seen.expanded_bytes = trial.expanded - self.expanded;
        *self = trial;
        Ok(seen)
    }

    fn charge_bytes(&mut self, n: u64) -> Result<(), ExpansionError> {
        let limit = self.bytes_limit();
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > limit {
            return Err(ExpansionError::TooLarge { what: "inflated bytes", limit });
        }
        Ok(())
    }

    fn charge_rows(&mut self, n: u64) -> Result<(), ExpansionError> {
        let limit = self.rows_limit();
        self.rows = self.rows.saturating_add(n);
        if self.rows > limit {
            return Err(ExpansionError::TooLarge { what: "rows", limit });
        }
        Ok(())
    }

    /// Inflates raw DEFLATE `data`, charging every inflated byte; stops reading at the limit.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, ExpansionError> {
        let limit = self.bytes_limit();
        let room = limit.saturating_sub(self.expanded);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(data).take(room.saturating_add(1)).read_to_end(&mut out).map_err(|e| malformed(&format!("compressed data: {e}")))?;
        self.charge_bytes(out.len() as u64)?;
        Ok(out)
    }

    /// A change chunk's body (after the header, inflated): its longest column's rows.
    fn change(&mut self, body: &[u8]) -> Result<u64, ExpansionError> {
        let mut r = Reader(body);
        let deps = r.uleb()?;
        for _ in 0..deps {
            r.take(32)?;
        }
        r.bytes()?; // actor
        r.uleb()?; // seq
        r.uleb()?; // start op
        r.sleb()?; // time
        r.bytes()?; // message
        let others = r.uleb()?;
        for _ in 0..others {
            r.bytes()?;
        }
        let columns = r.columns()?;
        let mut most = 0;
        for (spec, len) in columns {
            if spec & DEFLATE_BIT != 0 {
                return Err(malformed("a change with compressed columns"));
            }
            most = most.max(column_rows(spec, r.take(len)?, self.rows_limit())?);
        }
        Ok(most)
    }

    /// A document chunk's body: charges its bytes (inflating compressed columns) and returns
    /// its change columns' rows plus its operation columns' rows.
    fn document(&mut self, body: &[u8]) -> Result<u64, ExpansionError> {
        let mut r = Reader(body);
        let actors = r.uleb()?;
        for _ in 0..actors {
            r.bytes()?;
        }
        let heads = r.uleb()?;
        for _ in 0..heads {
            r.take(32)?;
        }
        let change_cols = r.columns()?;
        let op_cols = r.columns()?;
        let mut rows = 0u64;
        let mut compressed = 0u64;
        for cols in [change_cols, op_cols] {
            let mut most = 0;
            for (spec, len) in cols {
                let data = r.take(len)?;
                let n = if spec & DEFLATE_BIT != 0 {
                    compressed += len as u64;
                    let inflated = self.inflate(data)?;
                    column_rows(spec, &inflated, self.rows_limit())?
                } else {
                    column_rows(spec, data, self.rows_limit())?
                };
                most = most.max(n);
            }
            rows = rows.saturating_add(most);
        }
        // The prefix, uncompressed columns and head indices, as they are.
        self.charge_bytes((body.len() as u64).saturating_sub(compressed))?;
        Ok(rows)
    }
}

/// The attack this module stops, for tests of hostile peers: a compressed change chunk (type
/// 2) whose body inflates to about `expanded` bytes (a change whose message is zero bytes),
/// built by streaming so the caller never holds the inflated form. DEFLATE packs 1 GiB of
/// zeros into about 1 MiB. The checksum is left zero: Automerge checks it only after inflating.
pub fn compressed_change_bomb(expanded: u64) -> Vec<u8> {
    use std::io::Write;
    let mut head = vec![0u8, 16];
    head.extend([0x5a; 16]); // actor
    head.extend([1, 1, 0]); // seq, start op, time
    push_uleb(expanded, &mut head); // message length
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    let mut left = expanded;
    let _ = e.write_all(&head);
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        let _ = e.write_all(&zeros[..n]);
        left -= n as u64;
    }
    let _ = e.write_all(&[0, 0]); // no other actors, no columns
    let body = e.finish().unwrap_or_default();
    let mut out = MAGIC.to_vec();
    out.extend([0; 4]);
    out.push(2);
    push_uleb(body.len() as u64, &mut out);
    out.extend(body);
    out
}

fn push_uleb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn malformed(what: &str) -> ExpansionError {
    ExpansionError::Malformed(what.to_owned())
}

/// Rows of one column (spec's low three bits are its type), summing run lengths; stops with
/// [`ExpansionError::TooLarge`] once past `limit`.
fn column_rows(spec: u32, data: &[u8], limit: u64) -> Result<u64, ExpansionError> {
    let mut r = Reader(data);
    let mut rows: u64 = 0;
    let mut add = |n: u64| {
        rows = rows.saturating_add(n);
        if rows > limit { Err(ExpansionError::TooLarge { what: "rows", limit }) } else { Ok(()) }
    };
    match spec & 0x07 {
        // Group, actor, integer, value metadata: run-length encoded unsigned LEB128.
        0 | 1 | 2 | 6 => rle(&mut r, &mut add, |r| r.uleb().map(drop))?,
        // Delta integer: run-length encoded signed LEB128.
        3 => rle(&mut r, &mut add, |r| r.sleb().map(drop))?,
        // Boolean: alternating run lengths.
        4 => {
            while !r.0.is_empty() {
                add(r.uleb()?)?;
            }
        }
        // String: run-length encoded length-prefixed UTF-8.
        5 => rle(&mut r, &mut add, |r| r.bytes().map(drop))?,
        // Value: raw bytes whose rows the metadata column counts.
        _ => {}
    }
    Ok(rows)
}

fn rle<'a>(r: &mut Reader<'a>, add: &mut impl FnMut(u64) -> Result<(), ExpansionError>, mut value: impl FnMut(&mut Reader<'a>) -> Result<(), ExpansionError>) -> Result<(), ExpansionError> {
    while !r.0.is_empty() {
        let n = r.sleb()?;
        if n > 0 {
            value(r)?;
            add(n as u64)?;
        } else if n < 0 {
            let literals = n.unsigned_abs();
            add(literals)?;
            for _ in 0..literals {
                value(r)?;
            }
        } else {
            add(r.uleb()?)?;
        }
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ExpansionError> {
        if n > self.0.len() {
            return Err(malformed("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8, ExpansionError> {
        Ok(self.take(1)?[0])
    }

    fn uleb(&mut self) -> Result<u64, ExpansionError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(malformed("LEB128 overflow"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("LEB128 overflow"))
    }

    fn sleb(&mut self) -> Result<i64, ExpansionError> {
        let mut v: i64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                return Err(malformed("LEB128 overflow"));
            }
            v |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Ok(v);
            }
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], ExpansionError> {
        let n = usize::try_from(self.uleb()?).map_err(|_| malformed("length"))?;
        self.take(n)
    }

    /// Column metadata: a count, then (specification, length) pairs.
    fn columns(&mut self) -> Result<Vec<(u32, usize)>, ExpansionError> {
        let n = self.uleb()?;
        let mut cols = Vec::new();
        for _ in 0..n {
            let spec = u32::try_from(self.uleb()?).map_err(|_| malformed("column specification"))?;
            let len = usize::try_from(self.uleb()?).map_err(|_| malformed("column length"))?;
            cols.push((spec, len));
        }
        Ok(cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};
    use std::io::Write;

    use super::push_uleb as uleb;

    fn sleb(mut v: i64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn chunk(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([0; 4]);
        out.push(typ);
        uleb(body.len() as u64, &mut out);
        out.extend(body);
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A blog-like document: many small maps and a few long texts, saved in all the ways a
    /// peer sends it.
    fn realistic() -> AutoCommit {
        let mut doc = AutoCommit::new();
        let posts = doc.put_object(ROOT, "posts", ObjType::Map).unwrap();
        for i in 0..300 {
            let p = doc.put_object(&posts, format!("post-{i}"), ObjType::Map).unwrap();
            doc.put(&p, "title", format!("Post number {i}")).unwrap();
            doc.put(&p, "body", "Some words of a post, written plainly. ".repeat(i % 40 + 1)).unwrap();
            let t = doc.put_object(&p, "draft", ObjType::Text).unwrap();
            doc.splice_text(&t, 0, 0, &"Text typed one character at a time. ".repeat(3)).unwrap();
            doc.commit();
        }
        let t = doc.put_object(ROOT, "long", ObjType::Text).unwrap();
        doc.splice_text(&t, 0, 0, &"x".repeat(10_000)).unwrap();
        doc.commit();
        doc.splice_text(&t, 0, 10_000, "").unwrap(); // a run of deletions
        doc.commit();
        doc
    }

    #[test]
    fn real_documents_changes_and_sync_messages_pass() {
        let mut doc = realistic();
        let saved = doc.save();
        let whole = ExpansionBudget::new().check(&saved).unwrap();
        assert_eq!(whole.chunks, 1);
        assert!(whole.expanded_bytes >= saved.len() as u64, "{whole:?}");
        assert!(whole.rows > 10_000, "the deletions and insertions are counted: {whole:?}");
        let heads = doc.get_heads();
        let mid = doc.get_changes(&[]).into_iter().nth(100).unwrap().hash();
        let after = doc.save_after(&[mid]);
        assert!(ExpansionBudget::new().check(&after).unwrap().chunks > 150);
        // Compressed change chunks, as Automerge sends large changes.
        let mut big = doc.fork();
        big.put(ROOT, "essay", "A long essay with many words in it. ".repeat(2_000)).unwrap();
        big.commit();
        let mut c = big.get_last_local_change().unwrap();
        let bytes = c.bytes().into_owned();
        assert_eq!(bytes[8], 2, "Automerge compresses a change this large");
        assert!(ExpansionBudget::new().check(&bytes).unwrap().expanded_bytes > 70_000);
        // A sync message's change list, chunk by chunk.
        let mut peer = AutoCommit::new();
        let (mut s1, mut s2) = (automerge::sync::State::new(), automerge::sync::State::new());
        use automerge::sync::SyncDoc;
        let mut budget = ExpansionBudget::new();
        for _ in 0..10 {
            if let Some(m) = doc.sync().generate_sync_message(&mut s1) {
                peer.sync().receive_sync_message(&mut s2, m).unwrap();
            }
            if let Some(m) = peer.sync().generate_sync_message(&mut s2) {
                let m = automerge::sync::Message::decode(&m.encode()).unwrap();
                for chunk in m.changes.iter() {
                    budget.check(chunk).unwrap();
                }
                doc.sync().receive_sync_message(&mut s1, m).unwrap();
            }
        }
        assert_eq!(peer.get_heads(), heads);
        assert!(ExpansionBudget::new().check(&[]).is_ok());
    }

    #[test]
    fn a_deflate_bomb_is_refused_before_it_is_inflated_past_the_budget() {
        // A change holding 64 MiB of zeros, compressed into a chunk of about 64 KiB.
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "x", "\0".repeat(64 << 20)).unwrap();
        doc.commit();
        let change = doc.get_last_local_change().unwrap();
        let raw = change.raw_bytes();
        let body_at = raw.len() - change_body_len(raw);
        let bomb = chunk(2, &deflate(&raw[body_at..]));
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let mut budget = ExpansionBudget::new();
        match budget.check(&bomb) {
            Err(ExpansionError::TooLarge { what: "inflated bytes", limit }) => assert_eq!(limit, EXPANDED_FLOOR_BYTES + bomb.len() as u64 * MAX_EXPANSION_RATIO),
            other => panic!("{other:?}"),
        }
        // Nothing was charged, and honest bytes still pass the same budget.
        assert!(budget.check(&realistic().save()).is_ok());
    }

    /// The length of a change chunk's body (after its header).
    fn change_body_len(raw: &[u8]) -> usize {
        let mut r = Reader(&raw[9..]);
        r.uleb().unwrap() as usize
    }

    #[test]
    fn the_bomb_for_tests_is_what_it_says() {
        let bomb = compressed_change_bomb(48 << 20);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let mut generous = ExpansionBudget { received: 1 << 30, ..Default::default() };
        assert_eq!(generous.check(&bomb).unwrap().expanded_bytes, (48 << 20) + 23 + 4);
        assert!(matches!(ExpansionBudget::new().check(&bomb), Err(ExpansionError::TooLarge { .. })));
    }

    #[test]
    fn a_document_with_a_compressed_column_bomb_is_refused() {
        // A document chunk with no actors or heads and one deflated operation column of 64 MiB.
        let data = deflate(&vec![0u8; 64 << 20]);
        let mut body = vec![0, 0, 0, 1];
        uleb(u64::from((5u32 << 4) | DEFLATE_BIT | 7), &mut body);
        uleb(data.len() as u64, &mut body);
        body.extend(&data);
        let err = ExpansionBudget::new().check(&chunk(0, &body)).unwrap_err();
        assert!(matches!(err, ExpansionError::TooLarge { what: "inflated bytes", .. }), "{err:?}");
    }

    #[test]
    fn a_run_length_bomb_is_refused_without_counting_its_rows_one_by_one() {
        // A change whose action column claims 2^60 operations in nine bytes.
        let mut body = vec![0]; // no dependencies
        body.push(16);
        body.extend([7; 16]); // actor
        body.extend([1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
        let mut col = Vec::new();
        sleb(1 << 60, &mut col);
        uleb(1, &mut col);
        body.push(1);
        uleb(u64::from((4u32 << 4) | 2), &mut body);
        uleb(col.len() as u64, &mut body);
        body.extend(&col);
        let c = chunk(1, &body);
        let err = ExpansionBudget::new().check(&c).unwrap_err();
        assert_eq!(err, ExpansionError::TooLarge { what: "rows", limit: ROWS_FLOOR + ROWS_PER_BYTE * (c.len() as u64 - 10) });
    }

    #[test]
    fn a_bomb_split_over_many_messages_meets_one_budget() {
        let mut budget = ExpansionBudget::new();
        let piece = chunk(2, &deflate(&vec![0u8; 1 << 20]));
        let mut passed = 0;
        let err = loop {
            match budget.check(&piece) {
                Ok(_) => passed += 1,
                Err(e) => break e,
            }
            assert!(passed < 100, "never refused");
        };
        assert!(matches!(err, ExpansionError::TooLarge { what: "inflated bytes", .. }));
        assert!(passed >= 4, "the floor lets small messages through: {passed}");
    }

    #[test]
    fn garbage_and_damaged_documents_are_malformed_never_a_panic() {
        let saved = realistic().save();
        assert!(matches!(ExpansionBudget::new().check(b"not automerge"), Err(ExpansionError::Malformed(_))));
        assert!(matches!(ExpansionBudget::new().check(&chunk(3, &[])), Err(ExpansionError::Malformed(_))));
        assert!(matches!(ExpansionBudget::new().check(&saved[..saved.len() / 2]), Err(ExpansionError::Malformed(_))));
        // Every single-byte change and truncation of a real document: an answer, never a panic.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..3_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bad = saved.clone();
            let at = (seed as usize) % bad.len();
            bad[at] = (seed >> 32) as u8;
            bad.truncate(bad.len() - (seed >> 40) as usize % 64);
            let _ = ExpansionBudget::new().check(&bad);
        }
    }
}
