//! Styles for the printers, as ANSI escapes through `anstyle`.
//!
//! The printers always emit styles; whether they reach a terminal is the
//! writer's business (the binary writes through `anstream`, which strips
//! them for `--color never`, `NO_COLOR`, a pipe). There is deliberately no
//! on/off switch here: a library that consults a process-wide flag colours
//! one caller's file because another caller asked for colour.
//! [`plain`] removes the escapes from text kept for elsewhere (a JUnit
//! report, a `#` comment meant to be re-read).

use std::fmt;

use anstyle::{AnsiColor, Effects, Style};

/// Text with a style; `Display` wraps it in the style's escapes.
#[derive(Debug, Clone)]
pub struct Painted<T> {
    text: T,
    style: Style,
}

impl<T: fmt::Display> fmt::Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:#}", self.style, self.text, self.style)
    }
}

impl<T> Painted<T> {
    fn fg(mut self, c: AnsiColor) -> Self {
        self.style = self.style.fg_color(Some(c.into()));
        self
    }

    fn effect(mut self, e: Effects) -> Self {
        self.style = self.style.effects(self.style.get_effects() | e);
        self
    }

    pub fn red(self) -> Self {
        self.fg(AnsiColor::Red)
    }
    pub fn green(self) -> Self {
        self.fg(AnsiColor::Green)
    }
    pub fn yellow(self) -> Self {
        self.fg(AnsiColor::Yellow)
    }
    pub fn blue(self) -> Self {
        self.fg(AnsiColor::Blue)
    }
    pub fn cyan(self) -> Self {
        self.fg(AnsiColor::Cyan)
    }
    pub fn bold(self) -> Self {
        self.effect(Effects::BOLD)
    }
    pub fn dimmed(self) -> Self {
        self.effect(Effects::DIMMED)
    }
}

/// `"text".red().bold()`: any displayable value, styled.
pub trait Paint: fmt::Display + Sized {
    fn painted(self) -> Painted<Self> {
        Painted {
            text: self,
            style: Style::new(),
        }
    }
    fn red(self) -> Painted<Self> {
        self.painted().red()
    }
    fn green(self) -> Painted<Self> {
        self.painted().green()
    }
    fn yellow(self) -> Painted<Self> {
        self.painted().yellow()
    }
    fn blue(self) -> Painted<Self> {
        self.painted().blue()
    }
    fn cyan(self) -> Painted<Self> {
        self.painted().cyan()
    }
    fn bold(self) -> Painted<Self> {
        self.painted().bold()
    }
    fn dimmed(self) -> Painted<Self> {
        self.painted().dimmed()
    }
}

impl<T: fmt::Display> Paint for T {}

/// `s` without its escape sequences (CSI `ESC [ … letter`, the only kind
/// the printers write; the rest of the text is already escaped for the
/// terminal, so no other ESC can be in it).
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\x1b' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_wrap_the_text_and_plain_removes_them() {
        let s = "FAIL".red().bold().to_string();
        assert_eq!(s, "\x1b[1m\x1b[31mFAIL\x1b[0m");
        assert_eq!(plain(&s), "FAIL");
        assert_eq!(plain(&format!("a {} b", 7.dimmed())), "a 7 b");
        assert_eq!("x".painted().to_string(), "x");
    }
}
