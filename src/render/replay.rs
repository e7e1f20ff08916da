//! A replay failure as a coloured unified diff of expected and actual
//! output lines.

use std::io::Write;

use crate::render::style::Paint;

use crate::replay::script::line_matches;
use crate::replay::Failure;

/// Write a failure as a coloured unified diff.
pub fn write_failure(w: &mut dyn Write, file: &str, f: &Failure) -> std::io::Result<()> {
    writeln!(w, "{}", format!("{file}:{}: {}", f.line, f.message).bold())?;
    writeln!(w, "  {}", f.step.as_str().dimmed())?;
    if !f.expected.is_empty() || !f.actual.is_empty() {
        writeln!(w, "{}", "  --- expected".red())?;
        writeln!(w, "{}", "  +++ actual".green())?;
        let (mut i, mut j) = (0, 0);
        while i < f.expected.len() || j < f.actual.len() {
            match (f.expected.get(i), f.actual.get(j)) {
                (Some(e), Some(a)) if line_matches(e, a) => {
                    writeln!(w, "   < {e}")?;
                    i += 1;
                    j += 1;
                }
                (Some(e), Some(a)) => {
                    writeln!(w, "{}", format!("  -< {e}").red())?;
                    writeln!(w, "{}", format!("  +< {a}").green())?;
                    i += 1;
                    j += 1;
                }
                (Some(e), None) => {
                    writeln!(w, "{}", format!("  -< {e}").red())?;
                    i += 1;
                }
                (None, Some(a)) => {
                    writeln!(w, "{}", format!("  +< {a}").green())?;
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
    Ok(())
}
