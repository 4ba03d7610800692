//! Where a JSON text's strings, brackets, colons and commas are, found 64 bytes at a time as
//! bit masks, and walks over objects and arrays that jump from one of them to the next: the
//! envelope's fast way to a page's items and their top-level members (and the decoder's to the
//! members of the nested objects it reads, `location`, `custom_attributes`), without reading
//! every byte of every value one at a time.
//!
//! The masks (one bit per byte, a `u64` per 64 bytes): quotes, backslashes, brackets and
//! separators are compared a block at a time; a quote preceded by an odd run of backslashes
//! is escaped; the bytes inside strings are the running XOR of the unescaped quotes (carried
//! from block to block); brackets and separators count only outside strings. What the walks
//! check: every object's keys, colons, commas and braces, every array's commas and brackets,
//! strings closed, brackets matched in kind, the scalars an object or array holds directly
//! (`true`, `false`, `null`, numbers' characters). Scalars deeper inside a value are skipped
//! unread, as the value is: whoever reads the value parses it.

use std::ops::Range;

/// Bytes per mask.
const BLOCK: usize = 64;

/// Containers deeper than this inside a value are not followed (the walk gives up and the
/// caller reads the text another way).
const MAX_DEPTH: u32 = 64;

/// A JSON text's masks.
pub(crate) struct Structure<'t> {
    text: &'t [u8],
    /// Per block, its [`TOKENS`], [`BRACKETS`] and [`BACKSLASHES`].
    masks: Vec<[u64; 3]>,
}

/// Unescaped quotes, and brackets, colons and commas outside strings.
const TOKENS: usize = 0;
/// Brackets outside strings.
const BRACKETS: usize = 1;
/// Backslashes.
const BACKSLASHES: usize = 2;

/// The masks a page needs, from one page to the next on a thread (a page's masks are a third
/// of its size: allocated for each page, they would be freed among pages that are not yet,
/// and the allocator would keep the holes).
mod spare {
    use std::cell::Cell;

    /// Masks kept for the next page up to this many blocks (pages of 3 MB).
    const KEPT: usize = 1 << 16;

    thread_local! {
        static SPARE: Cell<Vec<[u64; 3]>> = const { Cell::new(Vec::new()) };
    }

    /// An empty buffer for `blocks` blocks' masks.
    pub(super) fn take(blocks: usize) -> Vec<[u64; 3]> {
        let mut masks = SPARE.with(Cell::take);
        masks.reserve(blocks);
        masks
    }

    /// Gives `masks` back for the next page.
    pub(super) fn give(mut masks: Vec<[u64; 3]>) {
        if masks.capacity() <= KEPT {
            masks.clear();
            SPARE.with(|spare| spare.set(masks));
        }
    }
}

impl Drop for Structure<'_> {
    fn drop(&mut self) {
        spare::give(std::mem::take(&mut self.masks));
    }
}

/// One block's bytes of each kind.
#[derive(Debug, Default, PartialEq, Eq)]
struct Kinds {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
    separator: u64,
}

/// Sorts a block's bytes into the kinds the masks are made of: SSE2's compares, 16 bytes at
/// a time.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn kinds(block: &[u8; BLOCK]) -> Kinds {
    // SAFETY: SSE2 is part of the x86_64 baseline: every processor this code runs on has it.
    unsafe { kinds_sse2(block) }
}

/// Sorts a block's bytes into the kinds the masks are made of, a byte at a time.
#[cfg(not(target_arch = "x86_64"))]
fn kinds(block: &[u8; BLOCK]) -> Kinds {
    kinds_bytewise(block)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn kinds_sse2(block: &[u8; BLOCK]) -> Kinds {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };
    let bits = |equal: __m128i| u64::from(_mm_movemask_epi8(equal) as u16);
    let byte = |b: u8| _mm_set1_epi8(b as i8);
    let mut kinds = Kinds::default();
    for (n, lane) in block.chunks_exact(16).enumerate() {
        let half = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&lane[at..at + 8]);
            i64::from_le_bytes(word)
        };
        let bytes = _mm_set_epi64x(half(8), half(0));
        // `[` and `{`, `]` and `}` differ only in the bit 0x20.
        let folded = _mm_or_si128(bytes, byte(0x20));
        let shift = n * 16;
        kinds.quote |= bits(_mm_cmpeq_epi8(bytes, byte(b'"'))) << shift;
        kinds.backslash |= bits(_mm_cmpeq_epi8(bytes, byte(b'\\'))) << shift;
        kinds.open |= bits(_mm_cmpeq_epi8(folded, byte(b'{'))) << shift;
        kinds.close |= bits(_mm_cmpeq_epi8(folded, byte(b'}'))) << shift;
        let colon = _mm_cmpeq_epi8(bytes, byte(b':'));
        let comma = _mm_cmpeq_epi8(bytes, byte(b','));
        kinds.separator |= bits(_mm_or_si128(colon, comma)) << shift;
    }
    kinds
}

/// [`kinds`] without vector instructions (other targets; the tests hold one against the
/// other).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn kinds_bytewise(block: &[u8; BLOCK]) -> Kinds {
    let mut kinds = Kinds::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b | 0x20 {
            b'{' => kinds.open |= bit,
            b'}' => kinds.close |= bit,
            _ => {}
        }
        match b {
            b'"' => kinds.quote |= bit,
            b'\\' => kinds.backslash |= bit,
            b':' | b',' => kinds.separator |= bit,
            _ => {}
        }
    }
    kinds
}

/// The bytes escaped by a backslash among a block's, given its `backslashes` and whether the
/// block before ended with an unpaired backslash (`carry`, updated for the next block).
fn escaped(backslashes: u64, carry: &mut bool) -> u64 {
    if backslashes == 0 && !*carry {
        return 0;
    }
    let mut escaped = 0u64;
    let mut left = backslashes;
    if *carry {
        // The first byte is escaped; if it is a backslash, it escapes nothing.
        escaped = 1;
        left &= !1;
    }
    *carry = false;
    while left != 0 {
        let at = left.trailing_zeros();
        left &= left - 1;
        if at == 63 {
            *carry = true;
        } else {
            let next = 1u64 << (at + 1);
            escaped |= next;
            left &= !next;
        }
    }
    escaped
}

/// Bit `i` is the XOR of bits `0..=i`: from an opening quote (set) to its closing quote (not).
#[inline(always)]
fn running_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// What one block's masks carry into the next's.
#[derive(Default)]
struct Carry {
    /// All ones when the block ended inside a string.
    inside: u64,
    /// Whether the next block's first byte is escaped.
    escaped: bool,
}

impl Carry {
    /// The masks of a block whose bytes are of `kinds`.
    #[inline(always)]
    fn masks(&mut self, kinds: Kinds) -> [u64; 3] {
        let quotes = kinds.quote & !escaped(kinds.backslash, &mut self.escaped);
        let strings = running_xor(quotes) ^ self.inside;
        self.inside = 0u64.wrapping_sub(strings >> 63);
        let brackets = (kinds.open | kinds.close) & !strings;
        let tokens = quotes | brackets | (kinds.separator & !strings);
        [tokens, brackets, kinds.backslash]
    }
}

/// Pushes the masks of `text`'s blocks (the last padded with spaces) onto `masks`: with
/// AVX2's compares, 32 bytes at a time, when the CPU has them (the masks of a 330 KB page took
/// ~3 instructions a byte with SSE2's).
fn add_masks(text: &[u8], carry: &mut Carry, masks: &mut Vec<[u64; 3]>) {
    let (blocks, last) = padded_chunks::<BLOCK>(text);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, as just checked.
        unsafe { add_masks_avx2(blocks, last.as_ref(), carry, masks) };
        return;
    }
    add_masks_by(blocks, last.as_ref(), carry, masks, kinds);
}

/// `bytes` in chunks of `N`, the bytes after the whole ones as a last chunk padded with
/// spaces (for compares a chunk at a time: a space is no byte they look for).
pub(crate) fn padded_chunks<const N: usize>(bytes: &[u8]) -> (&[[u8; N]], Option<[u8; N]>) {
    let (chunks, rest) = bytes.as_chunks::<N>();
    let last = (!rest.is_empty()).then(|| {
        let mut last = [b' '; N];
        last[..rest.len()].copy_from_slice(rest);
        last
    });
    (chunks, last)
}

/// [`add_masks`]' loop with the kinds of each block found by `kinds`.
fn add_masks_by(
    blocks: &[[u8; BLOCK]],
    last: Option<&[u8; BLOCK]>,
    carry: &mut Carry,
    masks: &mut Vec<[u64; 3]>,
    kinds: impl Fn(&[u8; BLOCK]) -> Kinds,
) {
    for block in blocks.iter().chain(last) {
        masks.push(carry.masks(kinds(block)));
    }
}

/// [`add_masks`]' loop compiled for AVX2: [`kinds_avx2`] called without a check per block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_masks_avx2(
    blocks: &[[u8; BLOCK]],
    last: Option<&[u8; BLOCK]>,
    carry: &mut Carry,
    masks: &mut Vec<[u64; 3]>,
) {
    for block in blocks.iter().chain(last) {
        masks.push(carry.masks(kinds_avx2(block)));
    }
}

/// [`kinds`] by AVX2's 32-byte compares. Not inlined: inlined, LLVM turned the masks back
/// into bytes to combine them with the carried string mask, 3 times slower.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
fn kinds_avx2(block: &[u8; BLOCK]) -> Kinds {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8,
    };
    let (low, high) = block.split_at(32);
    // SAFETY: each half is 32 bytes, what an unaligned load reads.
    let (low, high) = unsafe {
        (
            _mm256_loadu_si256(low.as_ptr().cast::<__m256i>()),
            _mm256_loadu_si256(high.as_ptr().cast::<__m256i>()),
        )
    };
    // The bytes of both halves equal to `$b` (after `$fold` is or-ed in), as one mask.
    macro_rules! equal {
        ($b:expr) => {
            equal!($b, 0)
        };
        ($b:expr, $fold:expr) => {{
            let (b, fold) = (_mm256_set1_epi8($b as i8), _mm256_set1_epi8($fold));
            let low = _mm256_cmpeq_epi8(_mm256_or_si256(low, fold), b);
            let high = _mm256_cmpeq_epi8(_mm256_or_si256(high, fold), b);
            u64::from(_mm256_movemask_epi8(low) as u32)
                | u64::from(_mm256_movemask_epi8(high) as u32) << 32
        }};
    }
    Kinds {
        quote: equal!(b'"'),
        backslash: equal!(b'\\'),
        // `[` and `]` are `{` and `}` but for the 0x20 bit.
        open: equal!(b'{', 0x20),
        close: equal!(b'}', 0x20),
        separator: equal!(b':') | equal!(b','),
    }
}

/// A walk that skips whitespace between tokens (any JSON text).
pub(crate) const SPACED: bool = true;
/// A walk that finds no whitespace between tokens (Intercom's answers are written so): a
/// few checks fewer per member; a text it refuses may still be walked [`SPACED`].
pub(crate) const COMPACT: bool = false;

/// JSON's whitespace.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl<'t> Structure<'t> {
    /// The masks of `text`, or `None` when it ends inside a string.
    pub(crate) fn of(text: &'t str) -> Option<Self> {
        let text = text.as_bytes();
        let mut masks = spare::take(text.len().div_ceil(BLOCK));
        let mut carry = Carry::default();
        add_masks(text, &mut carry, &mut masks);
        let structure = Structure { text, masks };
        (carry.inside == 0 && !carry.escaped).then_some(structure)
    }

    /// The first byte from `at` on that is not whitespace, if any.
    pub(crate) fn skip_space(&self, mut at: usize) -> usize {
        while self.text.get(at).is_some_and(|&b| is_space(b)) {
            at += 1;
        }
        at
    }

    /// The text's length in bytes.
    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Whether only whitespace follows `at`.
    pub(crate) fn ends_after(&self, at: usize) -> bool {
        self.skip_space(at) >= self.text.len()
    }

    /// Whether there is a backslash in `range` (a string with an escape, when it is a
    /// string's text).
    fn escapes(&self, range: Range<usize>) -> bool {
        if range.is_empty() {
            return false;
        }
        let (first, last) = (range.start / BLOCK, (range.end - 1) / BLOCK);
        (first..=last).any(|block| {
            let mut mask = self.masks.get(block).map_or(0, |masks| masks[BACKSLASHES]);
            if block == first {
                mask &= !0u64 << (range.start % BLOCK);
            }
            if block == last {
                mask &= !0u64 >> (BLOCK - 1 - (range.end - 1) % BLOCK);
            }
            mask != 0
        })
    }

    /// `range` when it holds no backslash: a key's text that is the key itself (a key with
    /// escapes is left to serde_json, which unescapes it).
    pub(crate) fn plain(&self, range: Range<usize>) -> Option<Range<usize>> {
        (!self.escapes(range.clone())).then_some(range)
    }

    /// The tokens from `at` on.
    fn tokens_from(&self, at: usize) -> Cursor<'_> {
        Cursor::at(&self.masks, TOKENS, at)
    }

    /// The bracket that closes the one at `open`.
    fn close_of(&self, open: usize) -> Option<usize> {
        // One bit per open container, innermost lowest: set for an object.
        let (mut objects, mut depth) = (0u64, 0u32);
        let mut brackets = Cursor::at(&self.masks, BRACKETS, open);
        loop {
            let at = brackets.next()?;
            let b = self.text[at];
            if b | 0x20 == b'{' {
                if depth == MAX_DEPTH {
                    return None;
                }
                objects = objects << 1 | u64::from(b == b'{');
                depth += 1;
            } else {
                if depth == 0 || (objects & 1 == 1) != (b == b'}') {
                    return None;
                }
                objects >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
        }
    }

    /// The first byte from `at` on that may be a token: whitespace skipped when `S` is
    /// [`SPACED`], `at` itself when it is [`COMPACT`].
    #[inline(always)]
    fn gap<const S: bool>(&self, at: usize) -> usize {
        if S { self.skip_space(at) } else { at }
    }

    /// The value that starts at `start` (its first byte, whitespace skipped), whose first
    /// token is `token`: its end, and the first token after it. Inlined into the walks (a
    /// call per member was a sixth of its instructions).
    #[inline(always)]
    fn value<'s, const S: bool>(
        &'s self,
        start: usize,
        token: usize,
        tokens: &mut Cursor<'s>,
    ) -> Option<(usize, usize)> {
        if start != token {
            // A scalar: it runs to the token after it (a separator or a closing bracket).
            let mut end = token;
            while S && end > start && is_space(self.text[end - 1]) {
                end -= 1;
            }
            return scalar(self.text.get(start..end)?).then_some((end, token));
        }
        let end = match self.text[token] {
            b'"' => tokens.next()? + 1,
            b'{' | b'[' => {
                let close = self.close_of(token)?;
                *tokens = self.tokens_from(close + 1);
                close + 1
            }
            _ => return None,
        };
        let next = tokens.next()?;
        (self.gap::<S>(end) == next).then_some((end, next))
    }

    /// The members of the object whose `{` is at `open`, in order, as each key's text
    /// (between its quotes) and its value's text; the object's `}`. `None` for anything
    /// that is not such an object, or, when `S` is [`COMPACT`], that has whitespace between
    /// its tokens.
    pub(crate) fn members<const S: bool>(
        &self,
        open: usize,
        mut member: impl FnMut(Range<usize>, Range<usize>) -> Option<()>,
    ) -> Option<usize> {
        if self.text.get(open) != Some(&b'{') {
            return None;
        }
        let mut tokens = self.tokens_from(open + 1);
        let mut after = open + 1;
        let mut first = true;
        loop {
            let key = tokens.next()?;
            if self.gap::<S>(after) != key {
                return None;
            }
            match self.text[key] {
                b'"' => {}
                b'}' if first => return Some(key),
                _ => return None,
            }
            let key_end = tokens.next()?;
            let colon = tokens.next()?;
            if self.text[colon] != b':' || self.gap::<S>(key_end + 1) != colon {
                return None;
            }
            let start = self.gap::<S>(colon + 1);
            let token = tokens.next()?;
            let (end, next) = self.value::<S>(start, token, &mut tokens)?;
            member(key + 1..key_end, start..end)?;
            if !self.more(next, b'}')? {
                return Some(next);
            }
            after = next + 1;
            first = false;
        }
    }

    /// After a member or an element, the token at `at`: a comma (`Some(true)`: another
    /// follows) or the container's `close` (`Some(false)`).
    fn more(&self, at: usize, close: u8) -> Option<bool> {
        match self.text[at] {
            b',' => Some(true),
            b if b == close => Some(false),
            _ => None,
        }
    }

    /// The elements of the array whose `[` is at `open`, in order: `element` is given where
    /// each starts (whitespace skipped), reads it and says where it ends (for an object,
    /// [`Self::members`]' close + 1). The array's `]`. `None` for anything that is not such an
    /// array, or, when `S` is [`COMPACT`], that has whitespace between its tokens.
    pub(crate) fn elements<const S: bool>(
        &self,
        open: usize,
        mut element: impl FnMut(usize) -> Option<usize>,
    ) -> Option<usize> {
        if self.text.get(open) != Some(&b'[') {
            return None;
        }
        let mut after = open + 1;
        let mut first = true;
        loop {
            let start = self.gap::<S>(after);
            if first && self.text.get(start) == Some(&b']') {
                return Some(start);
            }
            let end = element(start)?;
            let next = self.tokens_from(end).next()?;
            if self.gap::<S>(end) != next {
                return None;
            }
            if !self.more(next, b']')? {
                return Some(next);
            }
            after = next + 1;
            first = false;
        }
    }
}

/// Whether `text` is a JSON scalar that is not a string: a literal, or made of a number's
/// characters (their order is checked by whoever reads the number).
fn scalar(text: &[u8]) -> bool {
    match text.first() {
        Some(b'-' | b'0'..=b'9') => text
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')),
        _ => matches!(text, b"true" | b"false" | b"null"),
    }
}

/// The set bits of one kind of masks, in order from a byte on.
struct Cursor<'m> {
    masks: &'m [[u64; 3]],
    kind: usize,
    block: usize,
    bits: u64,
}

impl<'m> Cursor<'m> {
    fn at(masks: &'m [[u64; 3]], kind: usize, at: usize) -> Self {
        let block = at / BLOCK;
        let bits = masks
            .get(block)
            .map_or(0, |masks| masks[kind] & (!0u64 << (at % BLOCK)));
        Cursor {
            masks,
            kind,
            block,
            bits,
        }
    }

    /// The next set bit's byte.
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.block += 1;
            self.bits = self.masks.get(self.block)?[self.kind];
        }
        let at = self.block * BLOCK + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The members of the object `text` is, as texts, by the masks.
    fn members_of(text: &str) -> Option<Vec<(String, String)>> {
        members_as::<SPACED>(text)
    }

    /// [`members_of`] by a walk that skips whitespace (`S` is [`SPACED`]) or finds none.
    fn members_as<const S: bool>(text: &str) -> Option<Vec<(String, String)>> {
        let structure = Structure::of(text)?;
        let mut members = Vec::new();
        let open = structure.skip_space(0);
        let close = structure.members::<S>(open, |key, value| {
            members.push((text[key].to_string(), text[value].to_string()));
            Some(())
        })?;
        structure.ends_after(close + 1).then_some(members)
    }

    /// The members of the object `text` is, in the order of its text, by serde_json (reading
    /// every byte).
    pub(in crate::client) fn members_by_serde(text: &str) -> Option<Vec<(String, String)>> {
        use serde::de::{Deserializer, MapAccess, Visitor};
        use serde_json::value::RawValue;
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &RawValue>()? {
                    out.push((key, value.get().to_string()));
                }
                Ok(out)
            }
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let members = de.deserialize_map(Ordered).ok()?;
        de.end().ok()?;
        Some(members)
    }

    #[test]
    fn blocks_are_sorted_alike_with_and_without_vector_instructions() {
        let mut rng = fastrand::Rng::with_seed(64);
        let alphabet = b"\"\\{}[]:, a{|}\x7b\x5b\x5d\xc3\xa9";
        for _ in 0..2000 {
            let block: [u8; BLOCK] = std::array::from_fn(|_| alphabet[rng.usize(..alphabet.len())]);
            assert_eq!(kinds(&block), kinds_bytewise(&block), "{block:?}");
            assert_eq!(kinds_wide(&block), kinds_bytewise(&block), "{block:?}");
        }
        let every: Vec<u8> = (0..=255).collect();
        for block in every.chunks_exact(BLOCK) {
            let block: &[u8; BLOCK] = block.try_into().unwrap();
            assert_eq!(kinds(block), kinds_bytewise(block));
            assert_eq!(kinds_wide(block), kinds_bytewise(block));
        }
    }

    /// AVX2's kinds where the CPU has them, else the bytewise ones.
    fn kinds_wide(block: &[u8; BLOCK]) -> Kinds {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, as just checked.
            return unsafe { kinds_avx2(block) };
        }
        kinds_bytewise(block)
    }

    #[test]
    fn texts_have_the_same_masks_whichever_instructions_find_them() {
        // The masks as this CPU finds them (AVX2 where it has it) against the bytewise kinds
        // and SSE2's, on random JSON texts, whole and cut anywhere (inside strings, after a
        // backslash): the same masks, the same carry.
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..500 {
            let value = spaced(&random_value(&mut rng, 0).to_string(), &mut rng);
            let cut = rng.usize(..=value.len());
            for text in [value.as_bytes(), &value.as_bytes()[..cut]] {
                let (blocks, last) = padded_chunks::<BLOCK>(text);
                let masks_of = |kinds: &dyn Fn(&[u8; BLOCK]) -> Kinds| {
                    let (mut carry, mut masks) = (Carry::default(), Vec::new());
                    add_masks_by(blocks, last.as_ref(), &mut carry, &mut masks, kinds);
                    (masks, carry.inside, carry.escaped)
                };
                let (mut carry, mut masks) = (Carry::default(), Vec::new());
                add_masks(text, &mut carry, &mut masks);
                let found = (masks, carry.inside, carry.escaped);
                assert_eq!(found, masks_of(&kinds_bytewise), "{text:?}");
                assert_eq!(found, masks_of(&kinds), "{text:?}");
            }
        }
    }

    #[test]
    fn backslashes_are_found_in_any_range() {
        let text: String = (0..200)
            .map(|i| if i % 37 == 5 { '\\' } else { 'a' })
            .collect();
        let structure = Structure::of(&text).unwrap();
        for start in 0..200 {
            for end in start..=200 {
                let expected = text[start..end].contains('\\');
                assert_eq!(structure.escapes(start..end), expected, "{start}..{end}");
            }
        }
    }

    #[test]
    fn escapes_are_followed_across_blocks() {
        // A backslash as the last byte of a block escapes the first byte of the next: pad so
        // the escaping backslash sits at every position around the block's edge.
        for pad in 0..70 {
            for value in [
                r#""a\"b""#,
                r#""a\\""#,
                r#""\\\"""#,
                r#""\\\\\\""#,
                r#""\\\\\"\\""#,
            ] {
                let text = format!(r#"{{"{}":{value},"b":[1,{{"c":"]"}}]}}"#, "k".repeat(pad));
                let members = members_of(&text).unwrap_or_else(|| panic!("{text}"));
                assert_eq!(members, members_by_serde(&text).unwrap(), "{text}");
                assert_eq!(members[0].1, value, "{text}");
            }
        }
    }

    #[test]
    fn what_is_not_well_formed_is_refused() {
        for text in [
            r#"{"a":1"#,
            r#"{"a":"1}"#,
            r#"{"a":[1}"#,
            r#"{"a":{"b":[1]]}"#,
            r#"{"a" x:1}"#,
            r#"{"a":1 2}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{,"a":1}"#,
            r#"{"a":1}}"#,
            r#"{"a":"b" "c"}"#,
            r#"{"a":"x\"}"#,
            r#"{"a":x"b"}"#,
            r#"{"a"}"#,
            "{\"a\":1}\\",
        ] {
            assert!(members_of(text).is_none(), "{text}");
            assert!(members_as::<COMPACT>(text).is_none(), "{text}");
            assert!(members_by_serde(text).is_none(), "{text}");
        }
        // Deeper than the walk follows: it gives up rather than guess.
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(65), "]".repeat(65));
        assert!(members_of(&deep).is_none());
        let deep = format!(r#"{{"a":{}{}}}"#, "[".repeat(64), "]".repeat(64));
        assert_eq!(members_of(&deep).unwrap()[0].1.len(), 128);
    }

    /// The end of any value that starts at `start`.
    fn value_end(structure: &Structure, start: usize) -> Option<usize> {
        let mut tokens = structure.tokens_from(start);
        let token = tokens.next()?;
        structure
            .value::<SPACED>(start, token, &mut tokens)
            .map(|(end, _)| end)
    }

    #[test]
    fn the_compact_walk_refuses_whitespace_between_tokens() {
        let compact = r#"{"a":1,"b":[1, 2],"c":"x y","d":{"e" : null}}"#;
        assert_eq!(members_as::<COMPACT>(compact), members_of(compact));
        for spaced in [
            r#"{ "a":1}"#,
            r#"{"a" :1}"#,
            r#"{"a": 1}"#,
            r#"{"a":1 }"#,
            r#"{"a":1 ,"b":2}"#,
            r#"{"a":1, "b":2}"#,
            r#"{"a":"x" }"#,
            r#"{"a":[1] }"#,
        ] {
            assert!(members_of(spaced).is_some(), "{spaced}");
            assert_eq!(members_as::<COMPACT>(spaced), None, "{spaced}");
        }
    }

    #[test]
    fn elements_are_found_in_order() {
        let text = r#" [ 1 , "x,]" , {"a":[2]} ,[ ], null ,-1.5e3 ] "#;
        let structure = Structure::of(text).unwrap();
        let mut elements = Vec::new();
        let close = structure
            .elements::<SPACED>(structure.skip_space(0), |start| {
                let end = value_end(&structure, start)?;
                elements.push(&text[start..end]);
                Some(end)
            })
            .unwrap();
        assert!(structure.ends_after(close + 1));
        assert_eq!(
            elements,
            ["1", r#""x,]""#, r#"{"a":[2]}"#, "[ ]", "null", "-1.5e3"]
        );
        let empty = Structure::of("[ ]").unwrap();
        assert_eq!(empty.elements::<SPACED>(0, |_| None), Some(2));
        assert_eq!(empty.elements::<COMPACT>(0, |_| None), None);
        for broken in ["[1,]", "[,1]", "[1 2]", "[1", "[}", "[{}]]"] {
            let structure = Structure::of(broken).unwrap();
            let found = structure.elements::<SPACED>(0, |start| value_end(&structure, start));
            assert!(
                found.is_none_or(|close| !structure.ends_after(close + 1)),
                "{broken}"
            );
        }
    }

    /// A random JSON value: nested objects and arrays, strings with escapes and non-ASCII
    /// characters, numbers and literals.
    pub(in crate::client) fn random_value(
        rng: &mut fastrand::Rng,
        depth: u32,
    ) -> serde_json::Value {
        use serde_json::Value;
        let pieces = [
            "a",
            "\"",
            "\\",
            "é",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\u{1F600}",
        ];
        let string = |rng: &mut fastrand::Rng| -> String {
            (0..rng.usize(0..12))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect()
        };
        match rng.u8(0..if depth > 3 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.bool()),
            2 => Value::from(rng.i64(..)),
            3 => Value::from(rng.f64() * 1e6 - 5e5),
            4 => Value::String(string(rng)),
            5 => Value::Array(
                (0..rng.usize(0..5))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.usize(0..5))
                    .map(|_| (string(rng), random_value(rng, depth + 1)))
                    .collect(),
            ),
        }
    }

    /// `text` with whitespace added after each structural byte outside strings, at random.
    pub(in crate::client) fn spaced(text: &str, rng: &mut fastrand::Rng) -> String {
        let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
        for c in text.chars() {
            out.push(c);
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            } else if matches!(c, '{' | '}' | '[' | ']' | ',' | ':') && rng.u8(..4) == 0 {
                out.push_str([" ", "\n\t", "  \r\n"][rng.usize(..3)]);
            }
        }
        out
    }

    #[test]
    fn random_objects_are_read_as_serde_json_reads_them() {
        let mut rng = fastrand::Rng::with_seed(13);
        for _ in 0..3000 {
            let members: serde_json::Map<_, _> = (0..rng.usize(1..8))
                .map(|n| (format!("k{n}"), random_value(&mut rng, 0)))
                .collect();
            let compact = serde_json::Value::Object(members).to_string();
            assert_eq!(members_as::<COMPACT>(&compact), members_by_serde(&compact));
            let text = if rng.bool() {
                spaced(&compact, &mut rng)
            } else {
                compact
            };
            assert_eq!(members_of(&text), members_by_serde(&text), "{text}");
            // Whitespace between tokens: refused by the compact walk, or read alike.
            let by_compact = members_as::<COMPACT>(&text);
            assert!(
                by_compact.is_none() || by_compact == members_of(&text),
                "{text}"
            );
            // Cut short anywhere (at a character's edge): refused as serde_json refuses it (only
            // trailing whitespace can go).
            let mut cut = rng.usize(1..text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let cut = &text[..cut];
            assert_eq!(members_of(cut), members_by_serde(cut), "{cut}");
        }
    }
}
