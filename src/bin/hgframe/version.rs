//! `hgframe --version`: the crate version, then what this build speaks
//! (protocol revisions, Mercurial releases) and the compression libraries
//! it runs with — what a bug report needs. `-V` stays one line.

use std::ffi::CStr;
use std::fmt::Write;

use hgframe::wire::proto::RELEASES;
use hgframe::Proto;

/// The text after `hgframe ` for `--version`.
pub fn long_version() -> String {
    let mut s = format!(
        "{}\n\nprotocol revisions (--proto):\n",
        env!("CARGO_PKG_VERSION")
    );
    for p in Proto::all() {
        let _ = writeln!(s, "  {}  {}", p.name(), p.table().origin);
    }
    s.push_str("Mercurial servers (--hg):\n");
    for r in RELEASES.iter() {
        let versions = match r.suffix {
            Some(sfx) => r
                .versions
                .split('/')
                .map(|v| format!("{v}-{sfx}"))
                .collect::<Vec<_>>()
                .join("/"),
            None => r.versions.to_string(),
        };
        let _ = writeln!(
            s,
            "  {versions:<15} {}, {}",
            r.table.name, r.flavor.describe
        );
    }
    let _ = write!(
        s,
        "compression: zlib {}, zstd {}",
        zlib_version(),
        zstd::zstd_safe::version_string()
    );
    s
}

/// The version of the zlib linked in (the system's, or the one libz-sys
/// built when there was none).
fn zlib_version() -> String {
    // SAFETY: zlibVersion takes nothing and returns a pointer to a static
    // NUL-terminated string (ZLIB_VERSION) that lives as long as the
    // program.
    let v = unsafe { CStr::from_ptr(libz_sys::zlibVersion()) };
    v.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_revisions_releases_and_libraries() {
        let v = super::long_version();
        assert!(v.starts_with(env!("CARGO_PKG_VERSION")), "{v}");
        for p in [
            "0001",
            "0002",
            "0005",
            "0006",
            "4.6/4.7",
            "5.0-py2/5.1-py2",
            "zlib 1.",
            "zstd 1.",
        ] {
            assert!(v.contains(p), "{p}: {v}");
        }
    }
}
