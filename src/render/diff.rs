//! A line diff of two debugreflect bodies: the local prediction and the
//! server's answer.

use std::io::{self, Write};

use crate::render::style::Paint;

use crate::python::escape::escape_bytes;

/// A line diff of two bodies (`-` local, `+` server).
pub fn write_diff(w: &mut dyn Write, local: &[u8], server: &[u8]) -> io::Result<()> {
    let a: Vec<&[u8]> = local.split(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = server.split(|&b| b == b'\n').collect();
    // LCS table (bodies are small: one line per frame).
    let (n, m) = (a.len(), b.len());
    if n * m > 4_000_000 {
        writeln!(w, "  (bodies too large to diff: {n} and {m} lines)")?;
        return Ok(());
    }
    let mut t = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            writeln!(w, "   {}", escape_bytes(a[i]).dimmed())?;
            i += 1;
            j += 1;
        } else if j < m && (i == n || t[i][j + 1] >= t[i + 1][j]) {
            writeln!(w, "{}", format!(" + {}", escape_bytes(b[j])).green())?;
            j += 1;
        } else {
            writeln!(w, "{}", format!(" - {}", escape_bytes(a[i])).red())?;
            i += 1;
        }
    }
    writeln!(w, "  (- local reactor, + server)")
}
