//! Writing into a byte buffer for the renderers that stream (`decode`,
//! `reflect`): styles that can be left out, numbers and flag names without
//! `core::fmt`.
//!
//! `decode` renders hundreds of MB; through `write!` and styled `String`s
//! it spent most of its time in `core::fmt` and the allocator (profiled:
//! `fmt::write`, `format_inner`, `pad_integral`, malloc/free). These write
//! straight into one buffer the caller reuses. Styles come from [`Ink`]:
//! the caller says whether it wants them (the binary knows whether colour
//! is on for its writer; a library caller decides for its own), so when
//! colour is off no escape is written and nothing has to strip one.

use crate::wire::proto::FlagName;

/// Whether a renderer writes style escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ink {
    on: bool,
}

/// A style as the escape that starts it (what `anstyle` renders for it,
/// checked by a test), so that writing one costs a copy, not `core::fmt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hue {
    start: &'static [u8],
}

/// The escape that ends every style.
const RESET: &[u8] = b"\x1b[0m";

impl Ink {
    /// Styles written (the writer strips them when colour is off, as for
    /// every other printer).
    pub const ON: Ink = Ink { on: true };
    /// No styles at all.
    pub const OFF: Ink = Ink { on: false };

    pub fn new(on: bool) -> Self {
        Ink { on }
    }

    /// The escape that starts `h` (nothing when off).
    pub fn start(self, out: &mut Vec<u8>, h: Hue) {
        if self.on {
            out.extend_from_slice(h.start);
        }
    }

    /// The escape that ends `h` (nothing when off).
    pub fn end(self, out: &mut Vec<u8>, _h: Hue) {
        if self.on {
            out.extend_from_slice(RESET);
        }
    }

    /// `text` in style `h`: the bytes [`Paint`](super::style::Paint)
    /// writes for it when on.
    pub fn paint(self, out: &mut Vec<u8>, h: Hue, text: &[u8]) {
        self.start(out, h);
        out.extend_from_slice(text);
        self.end(out, h);
    }
}

pub const BOLD: Hue = Hue { start: b"\x1b[1m" };
pub const DIM: Hue = Hue { start: b"\x1b[2m" };
pub const YELLOW: Hue = Hue { start: b"\x1b[33m" };
pub const YELLOW_BOLD: Hue = Hue {
    start: b"\x1b[1m\x1b[33m",
};
pub const CYAN: Hue = Hue { start: b"\x1b[36m" };
pub const CYAN_BOLD: Hue = Hue {
    start: b"\x1b[1m\x1b[36m",
};
pub const RED_BOLD: Hue = Hue {
    start: b"\x1b[1m\x1b[31m",
};
pub const GREEN: Hue = Hue { start: b"\x1b[32m" };
pub const BLUE_BOLD: Hue = Hue {
    start: b"\x1b[1m\x1b[34m",
};
pub const GREEN_BOLD: Hue = Hue {
    start: b"\x1b[1m\x1b[32m",
};

/// A decimal number.
#[inline]
pub fn num<I: itoa::Integer + Copy + TryInto<u64>>(out: &mut Vec<u8>, n: I) {
    // Most numbers written are ids, flags, types and lengths below 100:
    // their digits pushed without itoa's buffer and a copy out of it.
    if let Ok(v) = n.try_into() {
        if v < 10 {
            out.push(b'0' + v as u8);
            return;
        }
        if v < 100 {
            out.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
            return;
        }
    }
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// `{n:#x}`: `0x0`, `0x5`, `0xff`.
pub fn hex_u8(out: &mut Vec<u8>, n: u8) {
    const H: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"0x");
    if n >= 16 {
        out.push(H[(n >> 4) as usize]);
    }
    out.push(H[(n & 15) as usize]);
}

/// [`names_to_string`](crate::wire::proto::names_to_string) into `out`:
/// `new|more`, `0`, `eos|0x8` for bits without a name.
pub fn flag_names(out: &mut Vec<u8>, names: &[FlagName], value: u8) {
    if value == 0 {
        out.push(b'0');
        return;
    }
    let mut rest = value;
    let mut first = true;
    // The set bits only, lowest first.
    let mut bits = value;
    while bits != 0 {
        let v = bits & bits.wrapping_neg();
        bits &= !v;
        if let Some(n) = names.iter().find(|n| n.value == v) {
            if !first {
                out.push(b'|');
            }
            first = false;
            out.extend_from_slice(n.name.as_bytes());
            rest &= !v;
        }
    }
    if rest != 0 {
        if !first {
            out.push(b'|');
        }
        hex_u8(out, rest);
    }
}

/// The number of characters in UTF-8 text (bytes that do not continue a
/// character).
pub fn char_count(b: &[u8]) -> usize {
    b.iter().filter(|&&c| (c as i8) >= -0x40).count()
}

/// Cut the text written since `start` to its first `max` characters plus
/// `… (N chars)` when it is longer, as `shorten` does for a `String`.
pub fn shorten_from(out: &mut Vec<u8>, start: usize, max: usize) {
    if out.len() - start <= max {
        return;
    }
    let total = char_count(&out[start..]);
    if total <= max {
        return;
    }
    let mut seen = 0;
    let mut cut = out.len();
    for (i, &c) in out[start..].iter().enumerate() {
        if (c as i8) >= -0x40 {
            if seen == max {
                cut = start + i;
                break;
            }
            seen += 1;
        }
    }
    out.truncate(cut);
    out.extend_from_slice("… (".as_bytes());
    num(out, total);
    out.extend_from_slice(b" chars)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::style::Paint;
    use crate::wire::proto::{names_to_string, Proto};

    #[test]
    fn styles_are_those_of_paint() {
        let cases: [(Hue, String); 10] = [
            (BLUE_BOLD, "x".blue().bold().to_string()),
            (GREEN_BOLD, "x".green().bold().to_string()),
            (BOLD, "x".bold().to_string()),
            (DIM, "x".dimmed().to_string()),
            (YELLOW, "x".yellow().to_string()),
            (YELLOW_BOLD, "x".yellow().bold().to_string()),
            (CYAN, "x".cyan().to_string()),
            (CYAN_BOLD, "x".cyan().bold().to_string()),
            (RED_BOLD, "x".red().bold().to_string()),
            (GREEN, "x".green().to_string()),
        ];
        for (style, painted) in cases {
            let mut out = Vec::new();
            Ink::ON.paint(&mut out, style, b"x");
            assert_eq!(String::from_utf8(out).unwrap(), painted);
            let mut out = Vec::new();
            Ink::OFF.paint(&mut out, style, b"x");
            assert_eq!(out, b"x");
        }
    }

    #[test]
    fn numbers_and_flags_are_those_of_fmt() {
        for n in 0..=255u8 {
            let mut out = Vec::new();
            hex_u8(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{n:#x}"));
            for p in Proto::all() {
                for t in p.table().types {
                    let mut out = Vec::new();
                    flag_names(&mut out, t.flags, n);
                    assert_eq!(String::from_utf8(out).unwrap(), names_to_string(t.flags, n));
                }
                let mut out = Vec::new();
                flag_names(&mut out, p.table().stream_flags, n);
                assert_eq!(String::from_utf8(out).unwrap(), p.stream_flags_to_string(n));
            }
        }
        let mut out = Vec::new();
        num(&mut out, u64::MAX);
        num(&mut out, -5i128);
        assert_eq!(out, format!("{}-5", u64::MAX).as_bytes());
        for n in 0..300u16 {
            let mut out = Vec::new();
            num(&mut out, n);
            num(&mut out, n as u8);
            num(&mut out, -(n as i64));
            assert_eq!(out, format!("{n}{}{}", n as u8, -(n as i64)).as_bytes());
        }
    }

    #[test]
    fn shortening_counts_characters() {
        for (text, max, want) in [
            ("abcdef", 6, "abcdef"),
            ("abcdef", 3, "abc… (6 chars)"),
            ("ééé", 2, "éé… (3 chars)"),
            ("ab", 0, "… (2 chars)"),
        ] {
            let mut out = b"> ".to_vec();
            out.extend_from_slice(text.as_bytes());
            shorten_from(&mut out, 2, max);
            assert_eq!(String::from_utf8(out).unwrap(), format!("> {want}"));
        }
    }
}
